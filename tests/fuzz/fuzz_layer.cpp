// The GeoJSON reader of `report` (and merge's layers): any GeoJSON back as a FeatureCollection.
#include "FuzzSupport.hpp"
#include "report/GeoJsonExport.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    RISKMAP_FUZZ_BODY({
        const std::string path = riskmap::fuzz::memFile("layer.geojson", riskmap::fuzz::text(data, size));
        (void)riskmap::dumpJson(riskmap::GeoJsonExport::layer(path, "", 7, {"sources", "risk_factors"}));
    });
}

// STAC Items and ItemCollections: every item becomes a scene of band files (nothing is opened).
#include "FuzzSupport.hpp"
#include "raster/StacItems.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    RISKMAP_FUZZ_BODY({
        const std::string path = riskmap::fuzz::memFile("item.json", riskmap::fuzz::text(data, size));
        (void)riskmap::readStac(path, {});
    });
}

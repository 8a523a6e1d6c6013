// Scan manifests, as merge, eval, report and --config read them.
#include "FuzzSupport.hpp"
#include "provenance/Manifest.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    RISKMAP_FUZZ_BODY({
        const riskmap::Json j = riskmap::parseJson(riskmap::fuzz::text(data, size), "m.json");
        const riskmap::Manifest m = riskmap::Manifest::fromJson(j, "m.json");
        (void)riskmap::dumpJson(m.toJson());
        (void)m.inputsAsRun();
    });
}

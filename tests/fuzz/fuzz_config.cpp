// Recipe files (--config): JSON parsing with riskmap's limits, then resolving every detector's
// options from it, as a scan would.
#include "detection/DetectorConfig.hpp"
#include "detection/DetectorRegistry.hpp"
#include "FuzzSupport.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const riskmap::DetectorRegistry registry = riskmap::DetectorRegistry::builtin();
    RISKMAP_FUZZ_BODY({
        const riskmap::Json j = riskmap::parseJson(riskmap::fuzz::text(data, size), "fuzz.json");
        const riskmap::DetectorConfig c = riskmap::DetectorConfig::fromJson(j, "fuzz.json");
        for (const auto& e : registry.entries()) {
            try {
                auto options = riskmap::DetectorConfig::resolve(e.info, &c, {});
                (void)e.create(options);
            } catch (const riskmap::Error&) {
            }
        }
    });
}

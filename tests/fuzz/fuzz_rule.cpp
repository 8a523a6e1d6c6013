// The rule language (--set rule=...): parse and, when it parses, list its bands.
#include "detection/imgproc/SpectralExpression.hpp"
#include "FuzzSupport.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    RISKMAP_FUZZ_BODY({
        auto e = riskmap::SpectralExpression::parse(riskmap::fuzz::text(data, size));
        (void)e.bands();
        (void)e.isRule();
    });
}

#pragma once
// The scenes of one run: each raster path is a scene, and --band specs build one more. Gives
// every scene a distinct `source` label and describes them for `riskmap info` and manifests.
#include <string>
#include <vector>

#include "core/Json.hpp"
#include "raster/RasterInput.hpp"

namespace riskmap {

class InputCatalog {
public:
    static InputCatalog open(const std::vector<std::string>& paths, const std::vector<BandSpec>& bands,
                             const InputOptions& options);

    const std::vector<RasterInput>& inputs() const { return inputs_; }
    // Labels for the `source` property: file names, or full paths where names clash.
    const std::vector<std::string>& sources() const { return sources_; }

    static Json describe(const RasterInput& in, const std::string& source);
    Json toJson() const;
    std::string toText() const;

private:
    std::vector<RasterInput> inputs_;
    std::vector<std::string> sources_;
};

}  // namespace riskmap

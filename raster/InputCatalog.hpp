#pragma once
// The scenes of one run: each raster path is a scene, and --band specs build one more. Gives
// every scene a distinct `source` label and describes them for `riskmap info` and manifests.
#include <map>
#include <string>
#include <vector>

#include "core/Json.hpp"
#include "raster/AcquisitionDate.hpp"
#include "raster/RasterInput.hpp"

namespace riskmap {

// What the user named as inputs, before expansion.
struct InputRequest {
    std::vector<std::string> paths;  // rasters, globs, folders, STAC Items/ItemCollections
    std::string inputList;           // a file with one such path per line ('#' comments)
    std::vector<BandSpec> bands;     // one more scene from one file per band
    std::map<std::string, std::string> stacAssets;  // band name -> STAC asset key
    InputOptions options;
    std::string date;                     // --date YYYY-MM-DD: every scene's acquisition date
    std::vector<std::string> stacItems;  // only these STAC item ids (a time series); empty: all
};

class InputCatalog {
public:
    static InputCatalog open(const InputRequest& request);
    static InputCatalog open(const std::vector<std::string>& paths, const std::vector<BandSpec>& bands,
                             const InputOptions& options);
    // Globs, folders and input lists expanded to raster paths, in a stable order. STAC files are
    // kept as they are (each expands to its items when opened).
    // A new scan's inputs: the same file twice (a glob and a folder in one list) is refused, and
    // --stac-asset without a STAC input. Reopening a recorded scan does not check (an old one may
    // hold such inputs).
    static void refuseRepeats(const InputRequest& request);
    static std::vector<std::string> expandPaths(const std::vector<std::string>& paths, const std::string& inputList);

    const std::vector<RasterInput>& inputs() const { return inputs_; }
    // Labels for the `source` property: file names, or full paths where names clash.
    const std::vector<std::string>& sources() const { return sources_; }
    // The labels a scan recorded for these inputs, in order (a manifest's): paths made absolute
    // on reopening would otherwise relabel inputs whose names clash. Ignored unless there is one per input.
    void keepRecordedSources(const std::vector<std::string>& recorded);
    // When each scene was acquired (--date, STAC datetime or metadata; empty when unknown).
    const std::vector<Acquisition>& acquired() const { return acquired_; }

    // Each file of `in` with its size and modification time now: what a resume and a report
    // compare to tell a file replaced since the scan.
    static Json fileStamps(const RasterInput& in);
    static Json describe(const RasterInput& in, const std::string& source, const Acquisition& acquired = {});
    Json describe(std::size_t input) const;
    Json toJson() const;
    std::string toText() const;

private:
    std::vector<RasterInput> inputs_;
    std::vector<std::string> sources_;
    std::vector<Acquisition> acquired_;
};

}  // namespace riskmap

#pragma once
// The files of one scan output: which files there are, where each layer goes, and the order they
// are committed in. The main layer is committed last, so when it exists its manifest, companion
// layers and styles do too; on failure nothing changes (FileCommit).
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "output/FileCommit.hpp"
#include "output/OutputDataset.hpp"

namespace riskmap {

// Where a scan's files go, computed from the output path alone (and whether a grid and a
// published layer are asked for).
struct ScanFiles {
    static ScanFiles plan(const std::string& output, bool grid, const std::string& publishPath,
                          const std::string& explainPath = "");

    OutputFormat format;
    std::string stem;  // the output path without its extension
    std::string main, manifest, journal;
    std::string publish, publishAbout;  // empty without --publish
    std::string publishStyle;           // its .qml beside a one-layer format (GeoPackage holds its own)
    std::string explain;                // empty without --explain
    bool grid = false;

    // The file holding a companion layer ("grid", "footprints", "nodata_gaps"): the main file
    // for a GeoPackage, else a sibling OUT.<role>.<ext>.
    std::string layerPath(const std::string& role) const;
    // The .qml style beside a layer ("" for the detections).
    std::string stylePath(const std::string& role) const;
    // Every file this run writes or keeps (journal included): must not collide.
    std::vector<std::string> written() const;
    // Every companion file an output of this path may have had in an earlier run.
    std::vector<std::string> possibleCompanions() const;
};

class LayerSet {
public:
    // replaceMain: --overwrite; replaceCompanions: also when a resumed run replaces what its
    // interrupted self left behind. Stale companions of an earlier run are removed on commit
    // when replaceMain.
    LayerSet(ScanFiles files, bool replaceMain, bool replaceCompanions, unsigned fileMode, int precision);

    const ScanFiles& files() const { return files_; }
    OutputDataset& main() { return *main_; }
    // The dataset that holds a companion layer (see ScanFiles::layerPath).
    OutputDataset& layerFile(const std::string& role);
    // The published layer (world-readable by design: it holds coarse counts only).
    OutputDataset& publish();
    // The rejected candidates (--explain): exact places, so owner-only like the main layer.
    OutputDataset& explain();
    // A text file (manifest, style, about) committed with the layers. With keepIdentical, a file
    // already holding exactly `content` is left as it is (a style shared by OUT.geojson and
    // OUT.fgb); any other existing file needs replacing rights.
    void addText(const std::string& path, const std::string& content, unsigned mode, bool keepIdentical = false);
    // {"detections": {"path": ..., "layer": ...}, "grid": ...} for the manifest.
    const std::vector<std::pair<std::string, std::string>>& layers() const { return layers_; }
    // The layers (role, path) of the run this one replaces, from its manifest: with replaceMain,
    // only their files (and styles) are removed on commit. Another output that merely shares
    // the stem (OUT.grid.geojson of `-o OUT.grid.geojson`) is not this output's grid.
    void replacing(std::vector<std::pair<std::string, std::string>> earlierLayers) {
        earlier_ = std::move(earlierLayers);
    }
    void commit();

private:
    bool ownedByEarlier(const std::string& path) const;

    ScanFiles files_;
    bool replaceMain_, replaceCompanions_;
    unsigned mode_;
    int precision_;
    FileCommit commit_;
    std::unique_ptr<OutputDataset> main_, publish_, explain_;
    std::map<std::string, std::unique_ptr<OutputDataset>> siblings_;
    std::vector<std::pair<std::string, std::string>> layers_;  // role -> path
    std::vector<std::string> kept_;  // identical files left in place
    std::vector<std::pair<std::string, std::string>> earlier_;  // role -> path, of the run replaced
};

}  // namespace riskmap

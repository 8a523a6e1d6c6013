#pragma once
// `riskmap diff BEFORE AFTER -o CHANGES`: what changed between two scans of one detector.
//
// Objects are matched one to one within a radius (geodesic metres, eval's optimal matcher). A
// pair `persists`. An object only AFTER holds is `new` when BEFORE saw its place clearly (inside
// a footprint, outside every nodata gap), and `unknown` otherwise; one only BEFORE holds is `gone`
// when AFTER saw its place clearly, else `unknown`. Each change carries both ids, scores and
// dates, the distance, and the risk of the later (or only) object; changes are ranked new, gone,
// unknown, persists, then by risk. The layer, its QGIS style and a manifest naming both scans
// are committed together (LayerSet), or nothing is written.
#include <atomic>
#include <cstddef>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "output/OutputDataset.hpp"

namespace riskmap {

struct LayerFeature;
struct Manifest;

struct DiffRequest {
    std::string before, after;  // main layers written by riskmap scan or merge
    std::string output;         // .geojson (RFC 7946), .gpkg or .fgb
    double radiusMetres = 60;   // objects closer than this are one object
    // Changes whose objects all score below this are left out (matching uses every object, so
    // that a score moving across the threshold is not a change).
    double minScore = 0;
    bool overwrite = false;
    unsigned fileMode = 0600;
    int coordinatePrecision = 7;
    std::string outCrs;  // .gpkg/.fgb; default: the AFTER layer's CRS
    std::vector<std::string> commandLine;
};

struct DiffCounts {
    std::size_t added = 0, gone = 0, persists = 0, unknown = 0, belowMinScore = 0;
};

struct DiffSummary {
    DiffCounts counts;
    std::string output, manifestPath;
    std::vector<std::string> warnings;  // also in the manifest
};

class ScanDiff {
public:
    // Checks the request and the output paths (UsageError), reads both scans (DataError).
    explicit ScanDiff(DiffRequest request);
    ~ScanDiff();
    ScanDiff(const ScanDiff&) = delete;
    ScanDiff& operator=(const ScanDiff&) = delete;

    DiffSummary write(const std::atomic<bool>* cancel = nullptr) const;
    // The files a diff to `output` writes (layer, manifest, style).
    static std::vector<std::string> filesOf(const std::string& output);

    struct Side;
    struct Change;

private:
    std::set<std::string> inputFiles() const;
    void checkOutput();
    double finestPixel() const;
    void checkSameDetector() const;
    void checkComparable();
    std::vector<Change> compare(DiffCounts& counts, const std::atomic<bool>* cancel) const;
    Change single(const LayerFeature* before, const LayerFeature* after) const;
    std::vector<Change> finish(std::vector<Change> all, DiffCounts& counts) const;
    static std::vector<std::pair<std::string, FieldValue>> valuesOf(const Change& c,
                                                                    std::size_t rank);
    Manifest manifest(const DiffCounts& counts, std::size_t features, const std::string& started,
                      double seconds) const;

    DiffRequest request_;
    std::unique_ptr<Side> before_, after_;
    std::vector<std::string> warnings_;
    std::string targetCrs_;  // "" for lon/lat
};

}  // namespace riskmap

#pragma once
// A whole scan: open inputs, configure the detector, run the tiled pipeline with a journal,
// and write the layer and its provenance manifest atomically. Also rebuilds a scan from the
// journals of its shards (`riskmap merge`).
#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/Json.hpp"
#include "core/ProgressSink.hpp"
#include "detection/DetectionPack.hpp"
#include "detection/DetectorConfig.hpp"
#include "detection/DetectorRegistry.hpp"
#include "output/LayerSet.hpp"
#include "provenance/Manifest.hpp"
#include "raster/InputCatalog.hpp"
#include "scan/ScanJournal.hpp"
#include "scan/ScanRequest.hpp"
#include "tiling/ScanPipeline.hpp"

namespace riskmap {

class ContextScorer;

struct ScanSummary {
    std::size_t tiles = 0;
    std::size_t detections = 0;
    std::vector<std::size_t> perInput;
    std::size_t resumedTiles = 0;
    std::string outputPath;
    std::string manifestPath;
    Manifest manifest;
    std::vector<std::string> warnings;  // of the writing phase (the job's own come before the run)
};

// A rejection in the explain layer's form (see ScanResults::rejectedPerInput).
Detection explainedDetection(const Rejection& r);

// What the detection phase produced, before output.
struct ScanResults {
    std::vector<DetectionPack> perInput;  // packed: a scan can hold hundreds of thousands
    // --explain: each rejection as a detection whose attributes are rejected_by, value, limit and
    // measures (JSON text), packed and spilled like the detections (a clearing scan can turn
    // down hundreds of thousands of candidates).
    std::vector<DetectionPack> rejectedPerInput;
    std::vector<std::size_t> tilesPerInput;
    std::vector<CoverageMap> coverage;  // per input
    std::size_t resumedTiles = 0;
    double scanSeconds = 0;
    bool merged = false;  // rebuilt from shard journals (no scan time of its own)
    std::size_t tilesInFlight = 0;
    std::vector<std::string> scanWarnings;  // of the scan phase (ScanPipeline::warnings)
    int threads = 0;
    std::size_t blockCacheBytes = 0, gdalCacheBytes = 0;
    std::size_t blockCacheMinBytes = 0;  // the cache after results took their share of --ram
    std::uint64_t cacheHits = 0, cacheMisses = 0;
};

class ScanJob {
public:
    // Validates everything that can be checked before reading pixels; throws UsageError or
    // DataError with the option or file at fault.
    ScanJob(ScanRequest request, const DetectorRegistry& registry);
    ~ScanJob();
    // Risk from the --context layers, which are read and checked when the job is made.
    const ContextScorer& contextScorer() const { return *scorer_; }

    const std::vector<RasterInput>& inputs() const { return catalog_->inputs(); }
    const std::vector<std::string>& sources() const { return catalog_->sources(); }
    const InputCatalog& catalog() const { return *catalog_; }
    const Detector& detector() const { return *detector_; }
    const OptionValues& options() const { return *options_; }
    const ScanRequest& request() const { return request_; }

    ScanSummary run(ProgressSink& progress, const std::atomic<bool>* cancel = nullptr);

    // Merges shard outputs (each with its .journal) into `mergeRequest.output`; the result is
    // the single-process scan's, byte for byte. Output options come from `mergeRequest`.
    static ScanSummary merge(const std::vector<std::string>& shardOutputs,
                             const ScanRequest& mergeRequest, const DetectorRegistry& registry,
                             const std::atomic<bool>* cancel = nullptr);

    // Everything that decides the detections: a journal records it and a resume must match it.
    Json fingerprint() const;
    // The inputs, input options, recipe and tiling as requested (part of the fingerprint and
    // the manifest).
    RecordedRequest recorded() const;

    // "source: what is wrong" for inputs the detector cannot serve well; also in the manifest.
    const std::vector<std::string>& warnings() const { return warnings_; }
    // Reads a small sample of each scene (16 windows of 256 px) and adds what it shows to the
    // warnings: bands clipped white, a scale that makes reflectance exceed 1. Before run().
    void lookAtSamples();
    // Of the warnings, those lookAtSamples added.
    const std::vector<std::string>& sampleWarnings() const { return sampleWarnings_; }
    // Where the files of this scan go.
    ScanFiles files() const;
    // The .qml styles beside the layers, with their contents.
    std::vector<std::pair<std::string, std::string>> styleFiles() const;
    // The CRS of the layers: "" for GeoJSON (EPSG:4326), else --out-crs or the first input's.
    std::string targetCrsWkt() const;
    double openSeconds() const { return openSeconds_; }
    // SIGINT/SIGTERM as run() was given it: writing checks it too.
    const std::atomic<bool>* cancel() const { return cancel_; }

private:
    // The recipe (--config or, for merge, the journal's), and its risk settings applied.
    std::unique_ptr<DetectorConfig> loadRecipe();
    void warnChangedResources(const DetectorConfig* recipe);
    std::string contextWarning(const RasterInput& in) const;
    // Every output path is usable, none collides with another or (once opened) with an input.
    void checkOutputPaths() const;
    void checkOutputsAreNotInputs() const;
    void checkGridArea() const;
    void checkCellsInsideTheMap() const;
    void checkOutCrs();
    void checkContextLayers();
    void checkCoarsePrecision() const;
    void fitTilesToRam();
    std::size_t reserveForDetector(bool& fits);
    // Replays a journal's finished tiles (--resume) into `res`; returns the finished set.
    std::set<std::pair<std::size_t, std::size_t>> replay(std::vector<JournalTile>& done,
                                                         const ScanPipeline& pipeline,
                                                         ScanResults& res) const;
    ScanSummary writeOutputs(ScanResults& results, const std::string& started,
                             ProgressSink& progress) const;
    // Results sized for the inputs, before any tile; held detections past
    // PipelineOptions::heldBytes() go to a spill file beside the journal.
    ScanResults freshResults() const;
    // The pipeline options of this run (explain set when --explain is given).
    PipelineOptions pipelineOptions(const std::atomic<bool>* cancel) const;

    ScanRequest request_;
    std::unique_ptr<InputCatalog> catalog_;
    std::shared_ptr<const ContextScorer> scorer_;  // the --context layers, read before the scan
    std::unique_ptr<OptionValues> options_;
    std::unique_ptr<Detector> detector_;
    std::vector<std::string> warnings_;
    std::vector<std::string> sampleWarnings_;
    // Adds sample warnings once each (a merge takes every shard's).
    void addSampleWarning(const std::string& w);
    std::string outCrsWkt_;  // --out-crs resolved by PROJ
    double openSeconds_ = 0;
    const std::atomic<bool>* cancel_ = nullptr;
};

}  // namespace riskmap

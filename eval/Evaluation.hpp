#pragma once
#include <atomic>
// `riskmap eval`: precision and recall of a detection layer against truth points or polygons,
// overall and per source, counting only truth inside the scanned footprint and, when the
// footprint comes from the scan's manifest, outside its nodata gaps (clouds, masks, no data).
#include <cstdint>
#include <string>
#include <vector>

#include "core/Json.hpp"
#include "eval/PointMatcher.hpp"
#include "eval/PrCurve.hpp"

namespace riskmap {

struct EvalRequest {
    std::string truthPath;
    std::string detectionsPath;
    double radiusMetres = 60;
    MatchMethod method = MatchMethod::Optimal;
    // Where was scanned: rasters (--inputs), an AOI layer (--aoi), or, when neither is given,
    // the manifest written beside the detections.
    std::vector<std::string> inputs;
    std::string aoiPath;
    // Truth field naming the source (file name or stem) each truth object belongs to; when
    // empty, truth belongs to every scanned source whose footprint holds it.
    std::string truthSourceField;
    std::string difficultField = "difficult";
    bool difficultFieldGiven = false;  // --difficult-field named: the truth must have it
    double minScore = 0;  // ignore detections scoring below this
    // Truth field grouping sources into tables (e.g. district); a source takes its truth's value.
    std::string groupField;
    std::size_t bootstrapResamples = 1000;  // 0: no intervals
    std::uint64_t seed = 1;                 // of the bootstrap
    std::string plotPath;                   // --plot FILE.png: the precision-recall curve
    const std::atomic<bool>* cancel = nullptr;  // SIGINT/SIGTERM: stop matching
};

struct SourceResult {
    std::string source;
    std::string group;  // with --group-field
    std::size_t truth = 0;       // truth objects counted (certain and difficult)
    std::size_t detections = 0;  // detections counted
    MatchCounts counts;
};

struct GroupResult {
    std::string group;
    std::size_t sources = 0;
    MatchCounts counts;
    double averagePrecision = 0;
};

struct EvalReport {
    EvalRequest request;
    std::string footprintFrom;  // "inputs", "aoi" or "manifest"
    MatchCounts overall;
    std::vector<SourceResult> sources;
    std::size_t truthOutside = 0;       // truth outside every footprint (not counted)
    std::size_t truthWithoutSource = 0; // with --truth-source-field, truth without a value in it
    std::size_t truthWithoutGeometry = 0;  // truth features with no geometry (not counted)
    std::size_t truthInGaps = 0;        // truth only deep in the scan's nodata gaps (not counted)
    std::vector<std::string> notes;     // what could not be told (a scan that recorded no gaps)
    std::size_t detectionsOutside = 0;  // detections outside the AOI or of unknown sources
    std::size_t detectionsInGaps = 0;   // detections only in the scan's nodata gaps (not counted)
    PrSummary pr;                       // the curve over the score, AP, best F1
    std::vector<GroupResult> groups;    // with --group-field
    BootstrapResult bootstrap;          // 95 % intervals, resampling sources

    Json toJson() const;
    std::string toText() const;
    std::string intervalsText() const;
};

class Evaluation {
public:
    // Throws DataError/UsageError naming the file or option at fault.
    static EvalReport run(const EvalRequest& request);
};

}  // namespace riskmap

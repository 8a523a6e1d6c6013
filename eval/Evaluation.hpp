#pragma once
// `riskmap eval`: precision and recall of a detection layer against truth points or polygons,
// overall and per source, counting only truth inside the scanned footprint.
#include <string>
#include <vector>

#include "core/Json.hpp"
#include "eval/PointMatcher.hpp"

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
    double minScore = 0;  // ignore detections scoring below this
};

struct SourceResult {
    std::string source;
    std::size_t truth = 0;       // truth objects counted (certain and difficult)
    std::size_t detections = 0;  // detections counted
    MatchCounts counts;
};

struct EvalReport {
    EvalRequest request;
    std::string footprintFrom;  // "inputs", "aoi" or "manifest"
    MatchCounts overall;
    std::vector<SourceResult> sources;
    std::size_t truthOutside = 0;       // truth outside every footprint (not counted)
    std::size_t detectionsOutside = 0;  // detections outside the AOI or of unknown sources

    Json toJson() const;
    std::string toText() const;
};

class Evaluation {
public:
    // Throws DataError/UsageError naming the file or option at fault.
    static EvalReport run(const EvalRequest& request);
};

}  // namespace riskmap

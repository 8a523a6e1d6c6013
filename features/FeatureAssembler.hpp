#pragma once
// Turns pixel-space detections into output features: deterministic order, stable ids, rings in
// the output CRS, geodesic areas, fixed precision.
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "detection/Detection.hpp"
#include "detection/DetectionPack.hpp"
#include "features/FeatureRecord.hpp"
#include "features/UniqueIds.hpp"
#include "geo/CoordinateMapper.hpp"
#include "raster/RasterInput.hpp"

namespace riskmap {

class OutlineSimplifier;

class FeatureAssembler {
public:
    // sources: the `source` label per input. targetCrs: "" for EPSG:4326. overlapFraction:
    // detections of different inputs overlapping by at least this share of the smaller one are
    // one object (0 keeps them all).
    FeatureAssembler(const std::vector<RasterInput>& inputs, std::vector<std::string> sources,
                     std::string detector, std::string targetCrs, double overlapFraction,
                     const std::atomic<bool>* cancel = nullptr, double simplifyMetres = 0);

    // Sorts each input's detections by position (a total order, so the result does not depend
    // on thread scheduling) and converts them. Ids are unique within the output.
    std::vector<FeatureRecord> assemble(std::vector<std::vector<Detection>>& perInput) const;
    // The same features in the same order, `chunk` at a time, for a scan's packed detections
    // without overlap merging: only one chunk's outlines are ever unpacked and converted at once.
    void assembleInChunks(const std::vector<DetectionPack>& perInput, std::size_t chunk,
                          const std::function<void(std::vector<FeatureRecord>&)>& sink) const;

    // Total order on detections of one input: anchor row, column, class, score, geometry.
    static bool before(const Detection& a, const Detection& b);
    // Its first keys (anchor row, column, class, higher score first): -1, 0 or 1. Packed
    // detections are sorted on these without unpacking their outlines.
    static int compareHeads(const cv::Point& aAnchor, const std::string& aCls, double aScore, const cv::Point& bAnchor,
                            const std::string& bCls, double bScore);
    // "<detector>-<12 hex digits>" from detector, class and anchor position in lon/lat.
    static std::string stableId(const std::string& detector, const std::string& cls, double lon,
                                double lat);
    // Round to a fixed number of decimals so that text output is stable and compact.
    static double roundTo(double v, int decimals);

private:
    struct InputState;  // one input's per-thread coordinate mappers and simplifier
    std::unique_ptr<InputState> stateFor(std::size_t input) const;
    // out[k] = the k-th detection converted, k < n, in parallel; get(k) gives it (and may build
    // it), its outline is freed once converted.
    void convertEach(InputState& s, std::size_t n, const std::function<Detection&(std::size_t)>& get,
                     FeatureRecord* out) const;
    static void makeIdsUnique(std::vector<FeatureRecord>& features, UniqueIds& ids);
    FeatureRecord convert(const Detection& d, const std::string& source, const CoordinateMapper& toLonLat,
                          const CoordinateMapper* toTarget, const OutlineSimplifier& simplifier, double tolerance) const;

    const std::vector<RasterInput>& inputs_;
    std::vector<std::string> sources_;
    std::string detector_;
    std::string targetCrs_;
    double overlapFraction_;
    const std::atomic<bool>* cancel_;
    double simplifyMetres_;  // < 0: half a pixel; 0: exact pixel edges
};

}  // namespace riskmap

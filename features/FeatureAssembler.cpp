#include "features/FeatureAssembler.hpp"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <map>

#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>

#include "core/Error.hpp"
#include "features/OutlineSimplifier.hpp"
#include "features/OverlapMerger.hpp"
#include "features/UniqueIds.hpp"
#include "geo/CoordinateMapper.hpp"
#include "geo/Geodesy.hpp"

namespace riskmap {

namespace {

std::uint64_t fnv1a(const std::string& s) {
    std::uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : s) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    return h;
}

bool ringLess(const Ring& a, const Ring& b) {
    return std::lexicographical_compare(
        a.begin(), a.end(), b.begin(), b.end(), [](const cv::Point2d& p, const cv::Point2d& q) {
            return p.y != q.y ? p.y < q.y : p.x < q.x;
        });
}

}  // namespace

FeatureAssembler::FeatureAssembler(const std::vector<RasterInput>& inputs,
                                   std::vector<std::string> sources, std::string detector,
                                   std::string targetCrs, double overlapFraction,
                                   const std::atomic<bool>* cancel, double simplifyMetres)
    : inputs_(inputs),
      sources_(std::move(sources)),
      detector_(std::move(detector)),
      targetCrs_(std::move(targetCrs)),
      overlapFraction_(overlapFraction),
      cancel_(cancel),
      simplifyMetres_(simplifyMetres) {}

double FeatureAssembler::roundTo(double v, int decimals) {
    double f = std::pow(10.0, decimals);
    double r = std::round(v * f) / f;
    return r == 0 ? 0.0 : r;  // no "-0"
}

int FeatureAssembler::compareHeads(const cv::Point& aAnchor, const std::string& aCls, double aScore,
                                   const cv::Point& bAnchor, const std::string& bCls, double bScore) {
    if (aAnchor.y != bAnchor.y) return aAnchor.y < bAnchor.y ? -1 : 1;
    if (aAnchor.x != bAnchor.x) return aAnchor.x < bAnchor.x ? -1 : 1;
    if (aCls != bCls) return aCls < bCls ? -1 : 1;
    if (aScore != bScore) return aScore > bScore ? -1 : 1;
    return 0;
}

bool FeatureAssembler::before(const Detection& a, const Detection& b) {
    if (const int c = compareHeads(a.anchor, a.cls, a.score, b.anchor, b.cls, b.score)) return c < 0;
    const auto& pa = a.geometry.parts;
    const auto& pb = b.geometry.parts;
    if (pa.size() != pb.size()) return pa.size() < pb.size();
    for (std::size_t i = 0; i < pa.size(); ++i) {
        if (ringLess(pa[i].outer, pb[i].outer)) return true;
        if (ringLess(pb[i].outer, pa[i].outer)) return false;
    }
    return false;
}

std::string FeatureAssembler::stableId(const std::string& detector, const std::string& cls,
                                       double lon, double lat) {
    char key[128];
    std::snprintf(key, sizeof key, "|%.7f|%.7f", lon, lat);
    std::uint64_t h = fnv1a(detector + "|" + cls + key);
    char out[32];
    std::snprintf(out, sizeof out, "%012" PRIx64, static_cast<std::uint64_t>(h & 0xFFFFFFFFFFFFULL));
    return detector + "-" + out;
}

struct FeatureAssembler::InputState {
    struct Mappers {
        CoordinateMapper toLonLat;
        std::unique_ptr<CoordinateMapper> toTarget;
        OutlineSimplifier simplifier;
    };
    std::size_t input = 0;
    double tolerance = 0.5;
    // Coordinate transformations are not thread-safe: one set per worker.
    tbb::enumerable_thread_specific<std::unique_ptr<Mappers>> mappers;
};

std::unique_ptr<FeatureAssembler::InputState> FeatureAssembler::stateFor(std::size_t input) const {
    auto s = std::make_unique<InputState>();
    const RasterInput& in = inputs_[input];
    s->input = input;
    // Half a pixel by default: the stairs go, the shape stays within the pixel it was seen in.
    s->tolerance = simplifyMetres_ < 0 ? 0.5 : simplifyMetres_ / std::min(in.gsdX(), in.gsdY());
    return s;
}

void FeatureAssembler::convertEach(InputState& s, std::size_t n, const std::function<Detection&(std::size_t)>& get,
                                   FeatureRecord* out) const {
    const RasterInput& in = inputs_[s.input];
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n, 64), [&](const auto& range) {
        auto& m = s.mappers.local();
        if (!m) {
            m.reset(new InputState::Mappers{CoordinateMapper(in.crsWkt(), in.geoTransform()), nullptr, {}});
            if (!targetCrs_.empty()) m->toTarget = std::make_unique<CoordinateMapper>(in.crsWkt(), in.geoTransform(), targetCrs_);
        }
        for (std::size_t k = range.begin(); k != range.end(); ++k) {
            Detection& d = get(k);
            out[k] = convert(d, sources_[s.input], m->toLonLat, m->toTarget.get(), m->simplifier, s.tolerance);
            out[k].inputIndex = s.input;
            out[k].sources = {out[k].source};
            // Its pixel outline is done with: freed now, the scan never holds both copies
            // of 80,000 outlines (issue 14).
            MultiPolygon().parts.swap(d.geometry.parts);
            std::vector<AttributeValue>().swap(d.attributes);
        }
    });
}

// Two objects can share an anchor pixel (a blob inside a ring): keep ids unique, in order.
void FeatureAssembler::makeIdsUnique(std::vector<FeatureRecord>& features, UniqueIds& ids) {
    for (auto& f : features) f.id = ids.claim(f.id);
}

std::vector<FeatureRecord> FeatureAssembler::assemble(std::vector<std::vector<Detection>>& perInput) const {
    std::vector<FeatureRecord> out;
    for (std::size_t i = 0; i < perInput.size(); ++i) {
        auto& dets = perInput[i];
        std::stable_sort(dets.begin(), dets.end(), before);
        const std::size_t base = out.size();
        out.resize(base + dets.size());
        convertEach(*stateFor(i), dets.size(), [&](std::size_t k) -> Detection& { return dets[k]; }, out.data() + base);
    }
    if (overlapFraction_ > 0) OverlapMerger(overlapFraction_, cancel_).merge(out);
    UniqueIds ids(detector_ + "-");
    makeIdsUnique(out, ids);
    return out;
}

namespace {

// Positions in `pack` in the order FeatureAssembler::before gives its detections (stable):
// by the packed heads, unpacking both only when anchor, class and score tie. A key is 24
// bytes, the class a rank among the pack's few classes: heads with their class strings took
// 64 bytes an object, 64 MB for a million (issue 14).
std::vector<std::uint32_t> sortedOrder(const DetectionPack& pack) {
    if (pack.size() > std::numeric_limits<std::uint32_t>::max()) throw Error("too many detections in one input to sort");
    // A spilled pack's pages come back as they are read: given up every 64k records.
    auto drop = [&](std::size_t i) {
        if ((i & 0xFFFF) == 0xFFFF) pack.dropResident();
    };
    struct Key {
        std::int32_t y, x;
        std::uint32_t cls, index;
        double score;
    };
    // One pass over the heads; classes numbered as first seen, then renumbered to their rank
    // in string order, as compareHeads orders them.
    std::map<std::string, std::uint32_t> classes;
    std::vector<Key> keys(pack.size());
    for (std::size_t i = 0; i < keys.size(); ++i) {
        const DetectionPack::Head h = pack.head(i);
        const auto cls = classes.emplace(h.cls, static_cast<std::uint32_t>(classes.size())).first->second;
        // NaN (a model's output can be) as the lowest score: std::sort needs a strict order.
        const double score = std::isnan(h.score) ? -std::numeric_limits<double>::infinity() : h.score;
        keys[i] = {h.anchor.y, h.anchor.x, cls, static_cast<std::uint32_t>(i), score};
        drop(i);
    }
    std::vector<std::uint32_t> rank(classes.size());
    std::uint32_t r = 0;
    for (const auto& c : classes) rank[c.second] = r++;
    for (Key& k : keys) k.cls = rank[k.cls];
    std::sort(keys.begin(), keys.end(), [&](const Key& a, const Key& b) {
        if (a.y != b.y) return a.y < b.y;
        if (a.x != b.x) return a.x < b.x;
        if (a.cls != b.cls) return a.cls < b.cls;
        if (a.score != b.score) return a.score > b.score;
        const Detection da = pack.at(a.index), db = pack.at(b.index);
        if (FeatureAssembler::before(da, db)) return true;
        if (FeatureAssembler::before(db, da)) return false;
        return a.index < b.index;  // what a stable sort keeps
    });
    pack.dropResident();
    std::vector<std::uint32_t> order(keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i) order[i] = keys[i].index;
    return order;
}

}  // namespace

void FeatureAssembler::assembleInChunks(const std::vector<DetectionPack>& perInput, std::size_t chunk,
                                        const std::function<void(std::vector<FeatureRecord>&)>& sink) const {
    chunk = std::max<std::size_t>(chunk, 1);
    UniqueIds ids(detector_ + "-");
    for (std::size_t i = 0; i < perInput.size(); ++i) {
        const std::vector<std::uint32_t> order = sortedOrder(perInput[i]);
        const auto state = stateFor(i);
        std::vector<Detection> dets;
        std::vector<FeatureRecord> records;
        for (std::size_t begin = 0; begin < order.size(); begin += chunk) {
            if (cancel_ && cancel_->load()) throw Cancelled("interrupted while writing");
            const std::size_t n = std::min(chunk, order.size() - begin);
            dets.assign(n, Detection());
            records.assign(n, FeatureRecord());
            convertEach(
                *state, n,
                [&](std::size_t k) -> Detection& { return dets[k] = perInput[i].at(order[begin + k]); },
                records.data());
            perInput[i].dropResident();
            makeIdsUnique(records, ids);
            sink(records);
        }
    }
}

namespace {

// Centroid of the largest part's outline, in pixel coordinates (for context rules, grids, area).
cv::Point2d areaCentroid(const MultiPolygon& g) {
    std::size_t best = 0;
    double bestArea = -1;
    for (std::size_t k = 0; k < g.parts.size(); ++k) {
        const double a = g.parts[k].areaPixels();
        if (a > bestArea) {
            bestArea = a;
            best = k;
        }
    }
    const Ring& r = g.parts[best].outer;
    double cx = 0, cy = 0, a2 = 0;
    for (std::size_t k = 0, n = r.size(); k < n; ++k) {
        const auto& p = r[k];
        const auto& q = r[(k + 1) % n];
        const double cr = p.x * q.y - q.x * p.y;
        a2 += cr;
        cx += (p.x + q.x) * cr;
        cy += (p.y + q.y) * cr;
    }
    return a2 != 0 ? cv::Point2d(cx / (3 * a2), cy / (3 * a2)) : g.boxCentre();
}

// Ground area of one pixel from its four corners in lon/lat, geodesic, m2.
double pixelArea(const MapPoint* corners) {
    std::vector<LonLat> ring;
    for (int k = 0; k < 4; ++k) ring.push_back({corners[k].x, corners[k].y});
    return std::fabs(geodesicRingArea(ring));
}

}  // namespace

FeatureRecord FeatureAssembler::convert(const Detection& d, const std::string& source, const CoordinateMapper& toLonLat,
                                        const CoordinateMapper* toTarget, const OutlineSimplifier& simplifier,
                                        double tolerance) const {
    FeatureRecord f;
    f.detector = detector_;
    f.cls = d.cls;
    f.score = roundTo(std::clamp(d.score, 0.0, 1.0), 4);
    f.source = source;
    f.attributes = d.attributes;
    for (auto& a : f.attributes)
        if (a.index() == 1) a = roundTo(std::get<double>(a), 6);
    // The outline written: simplified within the tolerance (pixel stairs gone), transformed once.
    const MultiPolygon shape = simplifier.simplify(d.geometry, tolerance);
    std::vector<MapPoint> pts;
    for (const Polygon& part : shape.parts) {
        for (const auto& p : part.outer) pts.push_back({p.x, p.y});
        for (const auto& h : part.holes)
            for (const auto& p : h) pts.push_back({p.x, p.y});
    }
    (toTarget ? *toTarget : toLonLat).objectPixelsToTarget(pts);
    auto next = pts.begin();
    const auto take = [&](std::size_t n) {
        std::vector<MapPoint> ring(next, next + static_cast<std::ptrdiff_t>(n));
        next += static_cast<std::ptrdiff_t>(n);
        return ring;
    };
    for (const Polygon& part : shape.parts) {
        std::vector<std::vector<MapPoint>> outRings{take(part.outer.size())};
        for (const auto& h : part.holes) outRings.push_back(take(h.size()));
        f.parts.push_back(std::move(outRings));
    }
    // The centroid and the corners of the pixel around it, in lon/lat.
    const cv::Point2d c = areaCentroid(d.geometry);
    std::vector<MapPoint> near{{c.x, c.y}, {c.x - 0.5, c.y - 0.5}, {c.x + 0.5, c.y - 0.5}, {c.x + 0.5, c.y + 0.5}, {c.x - 0.5, c.y + 0.5}};
    toLonLat.objectPixelsToTarget(near);
    f.centroid = {near[0].x, near[0].y};
    // Geodesic area: the exact pixel area times the ground area of one pixel at the centroid.
    // The pixel's area varies linearly across an object, so the centroid's value is exact to the
    // second order (< 1e-8 relative for a km-sized object); transforming every vertex of every
    // outline for it took most of the output phase.
    f.areaM2 = roundTo(d.geometry.areaPixels() * pixelArea(near.data() + 1), 1);
    f.risk = f.score;
    f.riskLevel = f.score >= 0.7 ? "high" : f.score >= 0.4 ? "medium" : "low";
    // Exact, never modelled: the id hashes it to 7 decimals.
    const LonLat a = toLonLat.pixelToLonLat(d.anchor.x + 0.5, d.anchor.y + 0.5);
    f.id = stableId(detector_, d.cls, a.lon, a.lat);
    return f;
}

}  // namespace riskmap

#include "features/OverlapMerger.hpp"

#include <ogr_geometry.h>

#include <algorithm>
#include <memory>
#include <numeric>

#include "core/Error.hpp"

namespace riskmap {

namespace {

std::unique_ptr<OGRMultiPolygon> toGeometry(const FeatureRecord& f) { return toMultiPolygon(f.parts); }

double areaOf(const OGRGeometry* g) {
    if (!g) return 0;
    switch (wkbFlatten(g->getGeometryType())) {
        case wkbPolygon: return g->toPolygon()->get_Area();
        case wkbMultiPolygon: return g->toMultiPolygon()->get_Area();
        case wkbGeometryCollection: return g->toGeometryCollection()->get_Area();
        default: return 0;
    }
}

double overlap(const OGRMultiPolygon& ga, double aa, const OGRMultiPolygon& gb, double ab) {
    if (aa <= 0 || ab <= 0 || !ga.Intersects(&gb)) return 0;
    std::unique_ptr<OGRGeometry> inter(ga.Intersection(&gb));
    return areaOf(inter.get()) / std::min(aa, ab);
}

}  // namespace

double OverlapMerger::overlapOfSmaller(const FeatureRecord& a, const FeatureRecord& b) {
    auto ga = toGeometry(a), gb = toGeometry(b);
    return overlap(*ga, ga->get_Area(), *gb, gb->get_Area());
}

std::size_t OverlapMerger::merge(std::vector<FeatureRecord>& features) const {
    const std::size_t n = features.size();
    if (n < 2) return 0;
    bool several = false;
    for (const auto& f : features) several |= f.inputIndex != features.front().inputIndex;
    if (!several) return 0;

    // Geometries built once: with many overlapping scenes each object is compared many times.
    std::vector<std::unique_ptr<OGRMultiPolygon>> geom(n);
    std::vector<OGREnvelope> env(n);
    std::vector<double> area(n);
    for (std::size_t i = 0; i < n; ++i) {
        geom[i] = toGeometry(features[i]);
        geom[i]->getEnvelope(&env[i]);
        area[i] = geom[i]->get_Area();
    }
    // Sweep along x so that only features whose envelopes can meet are compared.
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return env[a].MinX != env[b].MinX ? env[a].MinX < env[b].MinX : a < b;
    });
    std::vector<std::size_t> parent(n);
    std::iota(parent.begin(), parent.end(), 0);
    auto find = [&](std::size_t x) {
        while (parent[x] != x) x = parent[x] = parent[parent[x]];
        return x;
    };
    std::size_t steps = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t a = order[i];
        for (std::size_t j = i + 1; j < n && env[order[j]].MinX <= env[a].MaxX; ++j) {
            if (cancel_ && (++steps & 0xffff) == 0 && cancel_->load()) throw Cancelled("interrupted while merging overlapping scenes");
            const std::size_t b = order[j];
            const FeatureRecord &fa = features[a], &fb = features[b];
            if (fa.inputIndex == fb.inputIndex || fa.cls != fb.cls || fa.detector != fb.detector) continue;
            if (env[b].MinY > env[a].MaxY || env[b].MaxY < env[a].MinY) continue;
            // Already one object through others: the exact overlap cannot change that.
            if (find(a) == find(b)) continue;
            if (overlap(*geom[a], area[a], *geom[b], area[b]) >= fraction_) parent[find(a)] = find(b);
        }
    }
    // Per cluster: the best score wins; ties go to the earlier input, then the earlier feature.
    std::vector<std::size_t> best(n, n);
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t r = find(i);
        const std::size_t cur = best[r];
        if (cur == n || features[i].score > features[cur].score ||
            (features[i].score == features[cur].score &&
             (features[i].inputIndex < features[cur].inputIndex || (features[i].inputIndex == features[cur].inputIndex && i < cur))))
            best[r] = i;
    }
    std::vector<std::vector<std::pair<std::size_t, std::string>>> seen(n);
    for (std::size_t i = 0; i < n; ++i) seen[find(i)].emplace_back(features[i].inputIndex, features[i].source);
    std::vector<FeatureRecord> kept;
    kept.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t r = find(i);
        if (best[r] != i) continue;
        auto s = seen[r];
        std::sort(s.begin(), s.end());
        s.erase(std::unique(s.begin(), s.end()), s.end());
        features[i].sources.clear();
        for (const auto& x : s) features[i].sources.push_back(x.second);
        kept.push_back(std::move(features[i]));
    }
    const std::size_t merged = n - kept.size();
    features = std::move(kept);
    return merged;
}

}  // namespace riskmap

#include "features/OverlapMerger.hpp"

#include <ogr_geometry.h>

#include <algorithm>
#include <memory>
#include <numeric>

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

}  // namespace

double OverlapMerger::overlapOfSmaller(const FeatureRecord& a, const FeatureRecord& b) {
    auto ga = toGeometry(a), gb = toGeometry(b);
    const double aa = ga->get_Area(), ab = gb->get_Area();
    if (aa <= 0 || ab <= 0 || !ga->Intersects(gb.get())) return 0;
    std::unique_ptr<OGRGeometry> inter(ga->Intersection(gb.get()));
    return areaOf(inter.get()) / std::min(aa, ab);
}

std::size_t OverlapMerger::merge(std::vector<FeatureRecord>& features) const {
    const std::size_t n = features.size();
    if (n < 2) return 0;
    bool several = false;
    for (const auto& f : features) several |= f.inputIndex != features.front().inputIndex;
    if (!several) return 0;

    std::vector<OGREnvelope> env(n);
    for (std::size_t i = 0; i < n; ++i) toGeometry(features[i])->getEnvelope(&env[i]);
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
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t a = order[i];
        for (std::size_t j = i + 1; j < n && env[order[j]].MinX <= env[a].MaxX; ++j) {
            const std::size_t b = order[j];
            const FeatureRecord &fa = features[a], &fb = features[b];
            if (fa.inputIndex == fb.inputIndex || fa.cls != fb.cls || fa.detector != fb.detector) continue;
            if (env[b].MinY > env[a].MaxY || env[b].MaxY < env[a].MinY) continue;
            if (overlapOfSmaller(fa, fb) >= fraction_) parent[find(a)] = find(b);
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

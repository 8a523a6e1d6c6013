#include "eval/PointMatcher.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <functional>
#include <numeric>

#include "core/Error.hpp"

namespace riskmap {

namespace {

// Hungarian algorithm (Kuhn-Munkres, O(n^2 m)) on an n x m cost matrix, n <= m. Returns for each
// row the assigned column.
std::vector<int> hungarian(const std::vector<std::vector<double>>& cost, const std::atomic<bool>* cancel) {
    const int n = static_cast<int>(cost.size());
    const int m = n ? static_cast<int>(cost[0].size()) : 0;
    const double inf = std::numeric_limits<double>::infinity();
    std::vector<double> u(static_cast<std::size_t>(n) + 1), v(static_cast<std::size_t>(m) + 1);
    std::vector<int> p(static_cast<std::size_t>(m) + 1, 0), way(static_cast<std::size_t>(m) + 1, 0);
    for (int i = 1; i <= n; ++i) {
        if (cancel && cancel->load()) throw Cancelled("interrupted while matching");
        p[0] = i;
        int j0 = 0;
        std::vector<double> minv(static_cast<std::size_t>(m) + 1, inf);
        std::vector<char> used(static_cast<std::size_t>(m) + 1, 0);
        do {
            used[static_cast<std::size_t>(j0)] = 1;
            int i0 = p[static_cast<std::size_t>(j0)], j1 = 0;
            double delta = inf;
            for (int j = 1; j <= m; ++j) {
                if (used[static_cast<std::size_t>(j)]) continue;
                double cur = cost[static_cast<std::size_t>(i0 - 1)][static_cast<std::size_t>(j - 1)] -
                             u[static_cast<std::size_t>(i0)] - v[static_cast<std::size_t>(j)];
                if (cur < minv[static_cast<std::size_t>(j)]) {
                    minv[static_cast<std::size_t>(j)] = cur;
                    way[static_cast<std::size_t>(j)] = j0;
                }
                if (minv[static_cast<std::size_t>(j)] < delta) {
                    delta = minv[static_cast<std::size_t>(j)];
                    j1 = j;
                }
            }
            for (int j = 0; j <= m; ++j) {
                if (used[static_cast<std::size_t>(j)]) {
                    u[static_cast<std::size_t>(p[static_cast<std::size_t>(j)])] += delta;
                    v[static_cast<std::size_t>(j)] -= delta;
                } else {
                    minv[static_cast<std::size_t>(j)] -= delta;
                }
            }
            j0 = j1;
        } while (p[static_cast<std::size_t>(j0)] != 0);
        do {
            int j1 = way[static_cast<std::size_t>(j0)];
            p[static_cast<std::size_t>(j0)] = p[static_cast<std::size_t>(j1)];
            j0 = j1;
        } while (j0);
    }
    std::vector<int> rowToCol(static_cast<std::size_t>(n), -1);
    for (int j = 1; j <= m; ++j)
        if (p[static_cast<std::size_t>(j)]) rowToCol[static_cast<std::size_t>(p[static_cast<std::size_t>(j)] - 1)] = j - 1;
    return rowToCol;
}

struct Edge {
    std::size_t d, t;
    double dist;
};

// Candidate pairs within the radius, found through a lon/lat grid so large sets stay fast.
std::vector<Edge> candidatePairs(const std::vector<EvalPoint>& dets, const std::vector<EvalPoint>& truth,
                                 const std::vector<std::size_t>& di, const std::vector<std::size_t>& ti, double radius) {
    std::vector<Edge> edges;
    if (di.empty() || ti.empty()) return edges;
    // A cell of radius/111 km in latitude; longitude cells widen with latitude, so test the
    // neighbours that could hold a point within the radius at the truth point's latitude.
    const double cellLat = std::max(radius / 110000.0, 1e-7);
    std::map<std::pair<long long, long long>, std::vector<std::size_t>> grid;
    for (std::size_t k : ti) {
        const auto& p = truth[k].position;
        grid[{static_cast<long long>(std::floor(p.lat / cellLat)), static_cast<long long>(std::floor(p.lon / cellLat))}]
            .push_back(k);
    }
    for (std::size_t k : di) {
        const auto& p = dets[k].position;
        const double cosLat = std::max(std::cos(p.lat * 3.14159265358979323846 / 180.0), 1e-3);
        const long long ry = 1, rx = static_cast<long long>(std::ceil(1.0 / cosLat)) + 1;
        const long long cy = static_cast<long long>(std::floor(p.lat / cellLat));
        // Near lon 180 the truth may sit one turn away in the grid (179.9995 beside -179.9999).
        const bool nearTheLine = std::fabs(p.lon) + (rx + 1) * cellLat >= 180;
        for (const double turn : {0.0, 360.0, -360.0}) {
            if (turn != 0 && !nearTheLine) break;
            const long long cx = static_cast<long long>(std::floor((p.lon + turn) / cellLat));
            for (long long y = cy - ry; y <= cy + ry; ++y) {
                for (long long x = cx - rx; x <= cx + rx; ++x) {
                    auto it = grid.find({y, x});
                    if (it == grid.end()) continue;
                    for (std::size_t t : it->second) {
                        double dist = geodesicDistance(p, truth[t].position);
                        if (dist <= radius) edges.push_back({k, t, dist});
                    }
                }
            }
        }
    }
    return edges;
}

}  // namespace

std::vector<MatchPair> pairsWithin(const std::vector<EvalPoint>& detections, const std::vector<EvalPoint>& truth,
                                   double radiusMetres) {
    std::vector<std::size_t> di(detections.size()), ti(truth.size());
    for (std::size_t i = 0; i < di.size(); ++i) di[i] = i;
    for (std::size_t i = 0; i < ti.size(); ++i) ti[i] = i;
    std::vector<MatchPair> out;
    for (const Edge& e : candidatePairs(detections, truth, di, ti, radiusMetres)) out.push_back({e.d, e.t, e.dist});
    std::sort(out.begin(), out.end(),
              [](const MatchPair& a, const MatchPair& b) { return a.detection != b.detection ? a.detection < b.detection : a.truth < b.truth; });
    return out;
}

MatchCounts& MatchCounts::operator+=(const MatchCounts& o) {
    tp += o.tp;
    fp += o.fp;
    fn += o.fn;
    ignored += o.ignored;
    sumDistance += o.sumDistance;
    maxDistance = std::max(maxDistance, o.maxDistance);
    return *this;
}

MatchMethod parseMatchMethod(const std::string& name) {
    if (name == "optimal") return MatchMethod::Optimal;
    if (name == "greedy") return MatchMethod::Greedy;
    throw UsageError("unknown matching method '" + name + "': use optimal or greedy");
}

// The optimal assignment holds a dense cost matrix per cluster of objects linked within the
// radius: 15,000 x 15,000 objects (an eval at --radius-m 1000 of a dense layer) took 1.8 GB and
// nine minutes, deaf to SIGINT (a hostile-input sweep). Refused beyond 25 million pairs (200 MB).
namespace {

void checkClusterSize(std::size_t detections, std::size_t truth, std::size_t maxPairs) {
    if (detections * truth <= maxPairs) return;
    throw UsageError(std::to_string(detections) + " and " + std::to_string(truth) +
                     " objects lie within the matching radius of one another, a cluster too large for optimal matching (" +
                     std::to_string(detections * truth) + " pairs): give a smaller --radius-m, or (eval) --method greedy");
}

}  // namespace

std::vector<MatchPair> PointMatcher::assign(const std::vector<EvalPoint>& dets, const std::vector<EvalPoint>& truth,
                                            const std::vector<std::size_t>& di,
                                            const std::vector<std::size_t>& ti) const {
    std::vector<Edge> edges = candidatePairs(dets, truth, di, ti, radius_);
    std::vector<MatchPair> out;
    if (method_ == MatchMethod::Greedy) {
        std::sort(edges.begin(), edges.end(), [&](const Edge& a, const Edge& b) {
            if (a.dist != b.dist) return a.dist < b.dist;
            if (dets[a.d].score != dets[b.d].score) return dets[a.d].score > dets[b.d].score;
            if (a.d != b.d) return a.d < b.d;
            return a.t < b.t;
        });
        std::vector<char> usedD(dets.size(), 0), usedT(truth.size(), 0);
        for (const Edge& e : edges) {
            if (usedD[e.d] || usedT[e.t]) continue;
            usedD[e.d] = usedT[e.t] = 1;
            out.push_back({e.d, e.t, e.dist});
        }
    } else {
        // Clusters of detections and truth linked by candidate pairs are independent problems.
        std::map<std::size_t, std::size_t> parent;
        auto key = [&](bool isTruth, std::size_t i) { return isTruth ? i * 2 + 1 : i * 2; };
        std::function<std::size_t(std::size_t)> find = [&](std::size_t x) {
            while (parent[x] != x) x = parent[x] = parent[parent[x]];
            return x;
        };
        for (const Edge& e : edges) {
            std::size_t a = key(false, e.d), b = key(true, e.t);
            if (!parent.count(a)) parent[a] = a;
            if (!parent.count(b)) parent[b] = b;
            parent[find(a)] = find(b);
        }
        std::map<std::size_t, std::vector<const Edge*>> clusters;
        for (const Edge& e : edges) clusters[find(key(false, e.d))].push_back(&e);
        for (auto& [root, ce] : clusters) {
            std::vector<std::size_t> ds, ts;
            for (const Edge* e : ce) {
                ds.push_back(e->d);
                ts.push_back(e->t);
            }
            std::sort(ds.begin(), ds.end());
            ds.erase(std::unique(ds.begin(), ds.end()), ds.end());
            std::sort(ts.begin(), ts.end());
            ts.erase(std::unique(ts.begin(), ts.end()), ts.end());
            const bool rowsAreDets = ds.size() <= ts.size();
            const auto& rows = rowsAreDets ? ds : ts;
            const auto& cols = rowsAreDets ? ts : ds;
            checkClusterSize(ds.size(), ts.size(), maxPairs_);
            // A missing pair costs more than any set of real ones: the assignment first
            // maximises the number of matches, then minimises their total distance. A tiny
            // tie-break by score keeps the result independent of input order.
            const double big = 1e6 * (radius_ + 1) * static_cast<double>(rows.size() + 1);
            std::vector<std::vector<double>> cost(rows.size(), std::vector<double>(cols.size(), big));
            auto idxOf = [](const std::vector<std::size_t>& v, std::size_t x) {
                return static_cast<std::size_t>(std::lower_bound(v.begin(), v.end(), x) - v.begin());
            };
            for (const Edge* e : ce) {
                std::size_t r = idxOf(rows, rowsAreDets ? e->d : e->t), c = idxOf(cols, rowsAreDets ? e->t : e->d);
                cost[r][c] = e->dist - 1e-9 * dets[e->d].score;
            }
            std::vector<int> a = hungarian(cost, cancel_);
            for (std::size_t r = 0; r < rows.size(); ++r) {
                if (a[r] < 0 || cost[r][static_cast<std::size_t>(a[r])] >= big) continue;
                std::size_t d = rowsAreDets ? rows[r] : cols[static_cast<std::size_t>(a[r])];
                std::size_t t = rowsAreDets ? cols[static_cast<std::size_t>(a[r])] : rows[r];
                out.push_back({d, t, geodesicDistance(dets[d].position, truth[t].position)});
            }
        }
        std::sort(out.begin(), out.end(), [](const MatchPair& x, const MatchPair& y) { return x.detection < y.detection; });
    }
    return out;
}

MatchCounts PointMatcher::match(const std::vector<EvalPoint>& dets, const std::vector<EvalPoint>& truth,
                                std::vector<MatchPair>* pairs) const {
    std::vector<std::size_t> allDets(dets.size()), certain, difficult;
    std::iota(allDets.begin(), allDets.end(), 0);
    for (std::size_t i = 0; i < truth.size(); ++i) (truth[i].difficult ? difficult : certain).push_back(i);

    MatchCounts c;
    std::vector<MatchPair> hits = assign(dets, truth, allDets, certain);
    std::vector<char> matched(dets.size(), 0);
    for (const auto& m : hits) {
        matched[m.detection] = 1;
        c.tp++;
        c.sumDistance += m.distance;
        c.maxDistance = std::max(c.maxDistance, m.distance);
    }
    c.fn = certain.size() - hits.size();
    std::vector<std::size_t> rest;
    for (std::size_t i = 0; i < dets.size(); ++i)
        if (!matched[i]) rest.push_back(i);
    std::vector<MatchPair> ignored = assign(dets, truth, rest, difficult);
    c.ignored = ignored.size();
    c.fp = rest.size() - ignored.size();
    if (pairs) {
        *pairs = hits;
        pairs->insert(pairs->end(), ignored.begin(), ignored.end());
    }
    return c;
}

}  // namespace riskmap

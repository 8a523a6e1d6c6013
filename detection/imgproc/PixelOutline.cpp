#include "detection/imgproc/PixelOutline.hpp"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/Error.hpp"

namespace riskmap {

namespace {

// Edge directions in image coordinates (y grows downwards).
constexpr int kDx[4] = {1, 0, -1, 0};  // right, down, left, up
constexpr int kDy[4] = {0, 1, 0, -1};

using IRing = std::vector<cv::Point>;

long long signedArea2(const IRing& r) {
    long long a = 0;
    for (std::size_t i = 0, n = r.size(); i < n; ++i)
        a += static_cast<long long>(r[i].x) * r[(i + 1) % n].y -
             static_cast<long long>(r[(i + 1) % n].x) * r[i].y;
    return a;
}

// A closed walk that passes a vertex twice is cut there into simple loops. `where` holds each
// vertex's place on the path (-1: not on it), indexed by vertex id; it is left all -1 again. A
// std::map here was a third of an index scan's tracing (noisy masks touch diagonally often).
void splitAtRepeats(const IRing& walk, std::vector<IRing>& out, std::vector<int>& where, int vw) {
    auto id = [vw](const cv::Point& p) {
        return static_cast<std::size_t>(p.y) * static_cast<std::size_t>(vw) +
               static_cast<std::size_t>(p.x);
    };
    IRing path;
    for (const auto& p : walk) {
        int& at = where[id(p)];
        if (at >= 0) {
            const auto start = static_cast<std::size_t>(at);
            IRing loop(path.begin() + static_cast<long>(start), path.end());
            for (std::size_t k = start + 1; k < path.size(); ++k) where[id(path[k])] = -1;
            path.resize(start + 1);
            if (loop.size() >= 4) out.push_back(std::move(loop));
            continue;
        }
        at = static_cast<int>(path.size());
        path.push_back(p);
    }
    for (const auto& p : path) where[id(p)] = -1;
    if (path.size() >= 4) out.push_back(std::move(path));
}

Ring simplify(const IRing& r, cv::Point origin) {
    Ring out;
    out.reserve(r.size());  // one allocation, not a doubling series (malloc is shared by threads)
    const std::size_t n = r.size();
    for (std::size_t i = 0; i < n; ++i) {
        const auto& a = r[(i + n - 1) % n];
        const auto& b = r[i];
        const auto& c = r[(i + 1) % n];
        long long cross = static_cast<long long>(b.x - a.x) * (c.y - b.y) -
                          static_cast<long long>(b.y - a.y) * (c.x - b.x);
        if (cross != 0) out.emplace_back(b.x + origin.x, b.y + origin.y);
    }
    return out;
}

// Even-odd test; p is never on an edge because it sits inside a pixel.
bool inside(const IRing& r, double px, double py) {
    bool in = false;
    for (std::size_t i = 0, j = r.size() - 1; i < r.size(); j = i++) {
        double xi = r[i].x, yi = r[i].y, xj = r[j].x, yj = r[j].y;
        if ((yi > py) != (yj > py) && px < (xj - xi) * (py - yi) / (yj - yi) + xi) in = !in;
    }
    return in;
}

// Each hole goes to the smallest outer ring that holds a point just inside the region beside it
// (parts can nest: an island inside another part's hole). Returns indices into `outers`.
std::vector<std::size_t> holeOwners(const std::vector<IRing>& loops,
                                    const std::vector<std::size_t>& outers,
                                    const std::vector<std::size_t>& holes) {
    std::vector<std::size_t> owners;
    for (std::size_t hi : holes) {
        // Region pixels lie right of each edge: probe beside the hole's first edge.
        const IRing& r = loops[hi];
        cv::Point a = r[0], b = r[1];
        double dx = b.x - a.x, dy = b.y - a.y;
        double px = (a.x + b.x) / 2.0 - 0.25 * dy, py = (a.y + b.y) / 2.0 + 0.25 * dx;
        std::size_t owner = outers.size();
        long long best = 0;
        for (std::size_t k = 0; k < outers.size(); ++k) {
            if (!inside(loops[outers[k]], px, py)) continue;
            long long area = signedArea2(loops[outers[k]]);
            if (owner == outers.size() || area < best) {
                owner = k;
                best = area;
            }
        }
        if (owner == outers.size()) throw Error("hole outside every outline part (a tracing bug)");
        owners.push_back(owner);
    }
    return owners;
}

// Whether the rings of one part (`rings`: its outer ring, then its holes) leave its interior
// connected. Simple rings that touch at vertices disconnect it exactly when their touch graph
// has a cycle (a hole touching the outer ring twice, or a chain of touching holes closing on
// it): the OGC rule GEOS enforces as "Interior is disconnected".
bool interiorConnected(const std::vector<const IRing*>& rings) {
    if (rings.size() < 2) return true;
    std::vector<std::pair<long long, std::size_t>> at;  // (vertex, ring)
    for (std::size_t i = 0; i < rings.size(); ++i)
        for (const auto& p : *rings[i])
            at.emplace_back((static_cast<long long>(p.y) << 32) + p.x, i);
    std::sort(at.begin(), at.end());
    std::vector<std::size_t> root(rings.size());
    for (std::size_t i = 0; i < root.size(); ++i) root[i] = i;
    auto find = [&](std::size_t i) {
        while (root[i] != i) i = root[i] = root[root[i]];
        return i;
    };
    for (std::size_t k = 1; k < at.size(); ++k) {
        if (at[k].first != at[k - 1].first) continue;
        const std::size_t a = find(at[k].second), b = find(at[k - 1].second);
        if (a == b) return false;  // a second path between two rings: a cycle
        root[a] = b;
    }
    return true;
}

// Loops into parts: positive ones are outer rings, negative ones holes. `connected` is set
// false when a part's interior is cut into pieces by its own touching rings; rings touch only
// at saddles (pixels meeting at a corner), so without one (`touching` false) nothing is checked.
MultiPolygon assemble(const std::vector<IRing>& loops, cv::Point origin, bool touching,
                      bool& connected) {
    std::vector<std::size_t> outers, holes;
    for (std::size_t i = 0; i < loops.size(); ++i)
        (signedArea2(loops[i]) > 0 ? outers : holes).push_back(i);
    if (outers.empty()) throw Error("empty pixel region has no outline");
    const std::vector<std::size_t> owners = holeOwners(loops, outers, holes);
    std::vector<std::vector<const IRing*>> partRings(outers.size());
    for (std::size_t k = 0; k < outers.size(); ++k) partRings[k].push_back(&loops[outers[k]]);
    for (std::size_t h = 0; h < holes.size(); ++h) partRings[owners[h]].push_back(&loops[holes[h]]);
    connected = true;
    if (touching)
        for (const auto& rings : partRings) connected = connected && interiorConnected(rings);

    MultiPolygon mp;
    mp.parts.resize(outers.size());
    for (std::size_t k = 0; k < outers.size(); ++k)
        mp.parts[k].outer = simplify(loops[outers[k]], origin);
    for (std::size_t h = 0; h < holes.size(); ++h)
        mp.parts[owners[h]].holes.push_back(simplify(loops[holes[h]], origin));
    return mp;
}

// The region's boundary as closed loops of pixel corners. Where two pixels touch only at a
// corner, `joinDiagonals` walks round both (8-connectivity), else between them (4-connectivity).
// `anySaddle` tells whether any walk passed a corner where pixels meet diagonally.
std::vector<IRing> traceLoops(const cv::Mat& mask, bool joinDiagonals, bool& anySaddle) {
    anySaddle = false;
    const int w = mask.cols, h = mask.rows;
    const int vw = w + 1;
    auto fg = [&](int x, int y) {
        return x >= 0 && y >= 0 && x < w && y < h && mask.at<std::uint8_t>(y, x) != 0;
    };
    // Per vertex: bits 0-3 = outgoing edge in that direction, bits 4-7 = already traced.
    std::vector<std::uint8_t> out(static_cast<std::size_t>(vw) * (h + 1), 0);
    auto vid = [&](int x, int y) { return static_cast<std::size_t>(y) * vw + x; };
    // Edges run with the region on the right-hand side when drawn with y down, which makes
    // outer rings positive and holes negative under the shoelace formula.
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            if (!fg(x, y)) continue;
            if (!fg(x, y - 1)) out[vid(x, y)] |= 1 << 0;
            if (!fg(x + 1, y)) out[vid(x + 1, y)] |= 1 << 1;
            if (!fg(x, y + 1)) out[vid(x + 1, y + 1)] |= 1 << 2;
            if (!fg(x - 1, y)) out[vid(x, y + 1)] |= 1 << 3;
        }
    }

    std::vector<IRing> loops;
    std::vector<int> where;  // for splitAtRepeats, made at the first walk that needs it
    for (int vy = 0; vy <= h; ++vy) {
        for (int vx = 0; vx <= w; ++vx) {
            for (int d0 = 0; d0 < 4; ++d0) {
                std::uint8_t& s = out[vid(vx, vy)];
                if (!(s & (1 << d0)) || (s & (1 << (d0 + 4)))) continue;
                IRing walk;
                walk.reserve(static_cast<std::size_t>(2 * (w + h) + 4));  // the bounding box's perimeter
                // A walk revisits a vertex only where two pixels touch diagonally (a vertex with
                // two outgoing edges); without one it is a simple ring and needs no split.
                bool saddle = false;
                int x = vx, y = vy, d = d0;
                s |= static_cast<std::uint8_t>(1 << (d0 + 4));
                while (true) {
                    walk.emplace_back(x, y);
                    x += kDx[d];
                    y += kDy[d];
                    std::uint8_t& t = out[vid(x, y)];
                    saddle = saddle || (t & 0xF) == 0xF || (t & 0xF) == 0x5 || (t & 0xF) == 0xA;
                    // At a corner where two pixels touch diagonally, turn left: the walk then
                    // goes round both (8-connectivity); right: it leaves the other pixel to a
                    // walk of its own. The split below makes the rings simple.
                    int next = -1;
                    const int turns[3] = {joinDiagonals ? 3 : 1, 0, joinDiagonals ? 1 : 3};
                    for (int turn : turns) {
                        int c = (d + turn) % 4;
                        if (t & (1 << c)) {
                            next = c;
                            break;
                        }
                    }
                    if (next < 0) throw Error("pixel outline is not closed (a tracing bug)");
                    if (x == vx && y == vy && next == d0) break;
                    if (t & (1 << (next + 4))) throw Error("pixel outline revisits an edge");
                    t |= static_cast<std::uint8_t>(1 << (next + 4));
                    d = next;
                }
                anySaddle = anySaddle || saddle;
                if (saddle) {
                    if (where.empty()) where.assign(out.size(), -1);
                    splitAtRepeats(walk, loops, where, vw);
                } else if (walk.size() >= 4) {
                    loops.push_back(std::move(walk));
                }
            }
        }
    }

    return loops;
}

}  // namespace

MultiPolygon traceOutline(const cv::Mat& mask, cv::Point origin) {
    CV_Assert(mask.type() == CV_8U);
    bool connected = true, saddles = false;
    const std::vector<IRing> loops = traceLoops(mask, true, saddles);
    MultiPolygon mp = assemble(loops, origin, saddles, connected);
    if (connected) return mp;
    // Diagonal pixels round a hole (four pixels round an empty one) give a part whose hole
    // touches its outer ring twice: invalid. Traced 4-connected, every part is an edge-connected
    // set of pixels, whose interior is connected, and the pixels touching at a corner are parts
    // of their own. Only such regions are traced again: the others keep their rings as before.
    const std::vector<IRing> apart = traceLoops(mask, false, saddles);
    return assemble(apart, origin, false, connected);
}

}  // namespace riskmap

#include "detection/Detection.hpp"

#include <algorithm>
#include <cmath>

namespace riskmap {

namespace {

double signedArea(const Ring& r) {
    double a = 0;
    for (std::size_t i = 0, n = r.size(); i < n; ++i) {
        const auto& p = r[i];
        const auto& q = r[(i + 1) % n];
        a += p.x * q.y - q.x * p.y;
    }
    return a / 2;
}

}  // namespace

double Polygon::areaPixels() const {
    double a = std::fabs(signedArea(outer));
    for (const auto& h : holes) a -= std::fabs(signedArea(h));
    return a;
}

cv::Point2d Polygon::boxCentre() const {
    if (outer.empty()) return {0, 0};
    double x0 = outer[0].x, x1 = x0, y0 = outer[0].y, y1 = y0;
    for (const auto& p : outer) {
        x0 = std::min(x0, p.x);
        x1 = std::max(x1, p.x);
        y0 = std::min(y0, p.y);
        y1 = std::max(y1, p.y);
    }
    return {(x0 + x1) / 2, (y0 + y1) / 2};
}

double MultiPolygon::areaPixels() const {
    double a = 0;
    for (const auto& p : parts) a += p.areaPixels();
    return a;
}

cv::Point2d MultiPolygon::boxCentre() const {
    if (parts.empty()) return {0, 0};
    double x0 = 1e300, x1 = -1e300, y0 = 1e300, y1 = -1e300;
    for (const auto& p : parts) {
        for (const auto& q : p.outer) {
            x0 = std::min(x0, q.x);
            x1 = std::max(x1, q.x);
            y0 = std::min(y0, q.y);
            y1 = std::max(y1, q.y);
        }
    }
    return {(x0 + x1) / 2, (y0 + y1) / 2};
}

cv::Point anchorOf(const cv::Point2d& centre) {
    return {static_cast<int>(std::floor(centre.x)), static_cast<int>(std::floor(centre.y))};
}

namespace {
constexpr std::size_t kChunkOverhead = 16;  // glibc malloc's per-allocation header, rounded

std::size_t stringHeap(const std::string& s) { return s.capacity() > 15 ? s.capacity() + 1 + kChunkOverhead : 0; }

std::size_t ringHeap(const Ring& r) { return r.capacity() * sizeof(cv::Point2d) + kChunkOverhead; }
}  // namespace

std::size_t heapBytes(const Detection& d) {
    std::size_t n = sizeof(Detection) + stringHeap(d.cls);
    n += d.geometry.parts.capacity() * sizeof(Polygon) + kChunkOverhead;
    for (const Polygon& p : d.geometry.parts) {
        n += ringHeap(p.outer) + p.holes.capacity() * sizeof(Ring) + kChunkOverhead;
        for (const Ring& h : p.holes) n += ringHeap(h);
    }
    n += d.attributes.capacity() * sizeof(AttributeValue) + kChunkOverhead;
    for (const auto& a : d.attributes)
        if (const auto* s = std::get_if<std::string>(&a)) n += stringHeap(*s);
    return n;
}

std::size_t heapBytes(const Rejection& r) {
    std::size_t n = heapBytes(r.candidate) + stringHeap(r.gate) + r.measures.capacity() * sizeof(r.measures[0]) + kChunkOverhead;
    for (const auto& m : r.measures) n += stringHeap(m.first);
    return n;
}

}  // namespace riskmap

#pragma once
// Pixel-edge outlines carry every stair of the pixel grid. Simplified within a tolerance (rings
// stay simple, holes stay inside, parts never cross: else the exact outline is kept), they
// hold far fewer vertices, which makes transforming, writing and drawing them cheaper, and the
// files smaller. One simplifier per thread (it holds a GEOS context).
#include <optional>

#include "detection/Detection.hpp"

typedef struct GEOSContextHandle_HS* GEOSContextHandle_t;

namespace riskmap {

class OutlineSimplifier {
public:
    OutlineSimplifier();
    ~OutlineSimplifier();
    OutlineSimplifier(const OutlineSimplifier&) = delete;
    OutlineSimplifier& operator=(const OutlineSimplifier&) = delete;

    // The geometry simplified within `tolerance` pixels; unchanged when tolerance <= 0 or when it
    // has too few vertices to gain. Where `tolerance` would make it invalid (a ring collapses,
    // edges meet), the steps of half a pixel times a power of two below it are tried, largest
    // first, down to half a pixel; then the exact outline.
    MultiPolygon simplify(const MultiPolygon& geometry, double tolerance) const;

private:
    static constexpr std::size_t kMaxFastRings = 64;  // beyond, the O(rings^2) nesting check loses to GEOS
    static constexpr double kLeastRetried = 0.5;  // px: the default tolerance, tried once as before
    // nullopt where `tolerance` does not keep the outline valid.
    std::optional<MultiPolygon> simplifyFast(const MultiPolygon& geometry, double tolerance) const;
    std::optional<MultiPolygon> simplifyGeos(const MultiPolygon& geometry, double tolerance) const;
    GEOSContextHandle_t ctx_;
};

}  // namespace riskmap

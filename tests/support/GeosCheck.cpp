#include "support/GeosCheck.hpp"

#include <vector>

namespace riskmap {

GEOSGeometry* toGeos(GEOSContextHandle_t ctx, const MultiPolygon& g) {
    auto ring = [&](const Ring& r) {
        GEOSCoordSequence* s = GEOSCoordSeq_create_r(ctx, static_cast<unsigned>(r.size() + 1), 2);
        for (std::size_t i = 0; i <= r.size(); ++i)
            GEOSCoordSeq_setXY_r(ctx, s, static_cast<unsigned>(i), r[i % r.size()].x,
                                 r[i % r.size()].y);
        return GEOSGeom_createLinearRing_r(ctx, s);
    };
    std::vector<GEOSGeometry*> parts;
    for (const auto& p : g.parts) {
        std::vector<GEOSGeometry*> holes;
        for (const auto& h : p.holes) holes.push_back(ring(h));
        parts.push_back(GEOSGeom_createPolygon_r(ctx, ring(p.outer), holes.data(),
                                                 static_cast<unsigned>(holes.size())));
    }
    return GEOSGeom_createCollection_r(ctx, GEOS_MULTIPOLYGON, parts.data(),
                                       static_cast<unsigned>(parts.size()));
}

std::string geosInvalidReason(const MultiPolygon& g) {
    GEOSContextHandle_t ctx = GEOS_init_r();
    GEOSGeometry* geom = toGeos(ctx, g);
    std::string reason;
    if (GEOSisValid_r(ctx, geom) != 1) {
        char* text = GEOSisValidReason_r(ctx, geom);
        reason = text ? text : "invalid";
        GEOSFree_r(ctx, text);
    }
    GEOSGeom_destroy_r(ctx, geom);
    GEOS_finish_r(ctx);
    return reason;
}

}  // namespace riskmap

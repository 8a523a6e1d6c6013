#include "features/FeatureRecord.hpp"

#include <ogr_geometry.h>

namespace riskmap {

std::unique_ptr<OGRMultiPolygon> toMultiPolygon(const MapPolygons& parts) {
    auto multi = std::make_unique<OGRMultiPolygon>();
    for (const auto& part : parts) {
        OGRPolygon poly;
        for (const auto& ring : part) {
            OGRLinearRing r;
            for (const auto& p : ring) r.addPoint(p.x, p.y);
            r.closeRings();
            poly.addRing(&r);
        }
        multi->addGeometry(&poly);
    }
    return multi;
}

}  // namespace riskmap

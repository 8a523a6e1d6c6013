#include "output/Antimeridian.hpp"

#include <ogr_geometry.h>
#include <ogr_spatialref.h>

#include <algorithm>
#include <cmath>
#include <memory>

namespace riskmap {

namespace {

void appendRing(const OGRLinearRing& r, std::vector<std::vector<MapPoint>>& out) {
    std::vector<MapPoint> ring;
    for (int i = 0; i < r.getNumPoints(); ++i) ring.push_back({r.getX(i), r.getY(i)});
    out.push_back(std::move(ring));
}

void appendPolygon(const OGRPolygon& p, MapPolygons& out) {
    std::vector<std::vector<MapPoint>> rings;
    if (p.getExteriorRing()) appendRing(*p.getExteriorRing(), rings);
    for (int i = 0; i < p.getNumInteriorRings(); ++i) appendRing(*p.getInteriorRing(i), rings);
    if (!rings.empty()) out.push_back(std::move(rings));
}

}  // namespace

bool needsWrap(const MapPolygons& parts) {
    double lo = 1e300, hi = -1e300;
    for (const auto& part : parts)
        for (const auto& ring : part)
            for (const auto& p : ring) {
                lo = std::min(lo, p.x);
                hi = std::max(hi, p.x);
            }
    return hi - lo > 180 || lo < -180 || hi > 180;
}


// Whole turns off: a lon/lat raster georeferenced at lon 540 wrote lon 540 (a sweep of hostile
// inputs); WRAPDATELINE folds only the turn next to the line.
MapPolygons withinOneTurn(const MapPolygons& parts) {
    double lo = 1e300;
    for (const auto& part : parts)
        for (const auto& ring : part)
            for (const auto& p : ring) lo = std::min(lo, p.x);
    const double turns = std::floor((lo + 180.0) / 360.0);
    if (turns == 0 || !std::isfinite(turns)) return parts;
    MapPolygons out = parts;
    for (auto& part : out)
        for (auto& ring : part)
            for (auto& p : ring) p.x -= 360.0 * turns;
    return out;
}

MapPolygons splitAtAntimeridian(const MapPolygons& input) {
    const MapPolygons parts = withinOneTurn(input);
    if (!needsWrap(parts)) return parts;
    std::unique_ptr<OGRMultiPolygon> multi = toMultiPolygon(parts);
    OGRSpatialReference wgs84;
    wgs84.importFromEPSG(4326);
    wgs84.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    multi->assignSpatialReference(&wgs84);
    char* options[] = {const_cast<char*>("WRAPDATELINE=YES"), nullptr};
    std::unique_ptr<OGRGeometry> cut(
        OGRGeometryFactory::transformWithOptions(multi.get(), nullptr, options));
    if (cut) cut->assignSpatialReference(nullptr);  // wgs84 dies with this scope
    MapPolygons out;
    if (!cut) return parts;
    if (auto* poly = dynamic_cast<OGRPolygon*>(cut.get())) {
        appendPolygon(*poly, out);
    } else if (auto* coll = dynamic_cast<OGRGeometryCollection*>(cut.get())) {
        for (int i = 0; i < coll->getNumGeometries(); ++i)
            if (auto* p = dynamic_cast<const OGRPolygon*>(coll->getGeometryRef(i)))
                appendPolygon(*p, out);
    }
    return out.empty() ? parts : out;
}


}  // namespace riskmap

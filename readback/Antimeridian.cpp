#include "readback/Antimeridian.hpp"

#include <algorithm>
#include <functional>
#include <limits>

#include "core/Error.hpp"

namespace riskmap {

namespace {

// Calls f(x, y) for every vertex of `g`, storing what it leaves in x and y.
void eachVertex(OGRGeometry* g, const std::function<void(double&, double&)>& f) {
    if (auto* p = dynamic_cast<OGRPoint*>(g)) {
        double x = p->getX(), y = p->getY();
        f(x, y);
        p->setX(x);
        p->setY(y);
    } else if (auto* c = dynamic_cast<OGRSimpleCurve*>(g)) {
        for (int i = 0; i < c->getNumPoints(); ++i) {
            double x = c->getX(i), y = c->getY(i);
            f(x, y);
            c->setPoint(i, x, y);
        }
    } else if (auto* poly = dynamic_cast<OGRCurvePolygon*>(g)) {
        for (int i = 0; i < poly->getNumInteriorRings() + 1; ++i)
            eachVertex(i == 0 ? poly->getExteriorRingCurve() : poly->getInteriorRingCurve(i - 1), f);
    } else if (auto* coll = dynamic_cast<OGRGeometryCollection*>(g)) {
        for (int i = 0; i < coll->getNumGeometries(); ++i) eachVertex(coll->getGeometryRef(i), f);
    }
}

}  // namespace

bool unwrapLongitudes(OGRGeometry& g) {
    constexpr double inf = std::numeric_limits<double>::infinity();
    double lo = inf, hi = -inf, loShifted = inf, hiShifted = -inf;
    eachVertex(&g, [&](double& x, double&) {
        lo = std::min(lo, x), hi = std::max(hi, x);
        const double s = x < 0 ? x + 360 : x;
        loShifted = std::min(loShifted, s), hiShifted = std::max(hiShifted, s);
    });
    if (!(hi - lo > 180) || !(hiShifted - loShifted < 180)) return false;
    eachVertex(&g, [](double& x, double&) {
        if (x < 0) x += 360;
    });
    return true;
}

void alignLongitudes(OGRGeometry& g, const OGRGeometry& frame) {
    OGREnvelope e;
    frame.getEnvelope(&e);
    if (!(e.MaxX > 180)) return;
    eachVertex(&g, [](double& x, double&) {
        if (x < 0) x += 360;
    });
}

OGRGeometryUniquePtr unwrappedCopy(const OGRGeometry& g) {
    OGRGeometryUniquePtr c(g.clone());
    unwrapLongitudes(*c);
    return c;
}

OGRGeometryUniquePtr shiftedCopy(const OGRGeometry& g, double degrees) {
    OGRGeometryUniquePtr c(g.clone());
    eachVertex(c.get(), [degrees](double& x, double&) { x += degrees; });
    return c;
}

LonLat lonLatCentroid(const OGRGeometry& g) {
    OGRPoint c;
    const OGRGeometryUniquePtr u = unwrappedCopy(g);
    if (u->Centroid(&c) != OGRERR_NONE) throw DataError("cannot take the centroid of a feature");
    double lon = c.getX();
    if (lon > 180) lon -= 360;
    return {lon, c.getY()};
}

bool coversLonLat(const OGRGeometry& area, const LonLat& p) {
    // A point on the boundary counts as inside: truth at the very edge of a scene was scanned.
    for (const double turn : {0.0, 360.0, -360.0}) {
        const OGRPoint pt(p.lon + turn, p.lat);
        if (area.Intersects(&pt)) return true;
    }
    return false;
}

}  // namespace riskmap

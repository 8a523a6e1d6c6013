#include "readback/ScanCoverage.hpp"

#include <ogr_api.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "core/Error.hpp"
#include "geo/GdalRuntime.hpp"
#include "geo/Geodesy.hpp"
#include "readback/Antimeridian.hpp"
#include "readback/LayerReader.hpp"

namespace riskmap {

namespace {

// A place may stick out of an area by this share of its own area (coordinates rounded to 7
// decimals, footprints drawn with 16 points an edge) and still count as inside it.
constexpr double kOutsideTolerance = 1e-3;

void unite(OGRGeometryUniquePtr& acc, const OGRGeometry& g) {
    if (!acc) {
        acc.reset(g.clone());
        return;
    }
    OGRGeometryUniquePtr u(acc->Union(&g));
    if (!u) throw DataError("cannot join the footprints or nodata gaps of a scan: " + lastGdalError());
    acc = std::move(u);
}

// Each feature's geometry, joined per `source`.
std::map<std::string, OGRGeometryUniquePtr> bySource(const LayerContent& layer) {
    std::map<std::string, OGRGeometryUniquePtr> out;
    for (const auto& f : layer.features)
        if (f.geometry && !f.geometry->IsEmpty()) unite(out[f.text("source")], *unwrappedCopy(*f.geometry));
    for (auto& [source, g] : out) unwrapLongitudes(*g);  // gap cells on both sides of lon 180
    return out;
}

// The share of `place` outside `area` (1 when there is no area).
double outsideShare(const OGRGeometry& place, const OGRGeometry* area) {
    if (!area) return 1;
    const double a = planarArea(place);
    if (a <= 0) return area->Intersects(&place) ? 0 : 1;
    OGRGeometryUniquePtr rest(place.Difference(area));
    if (!rest) return place.Within(area) ? 0 : 1;
    return planarArea(*rest) / a;
}

}  // namespace

std::string besideMain(const std::string& mainPath, const std::string& recordedPath) {
    namespace fs = std::filesystem;
    return (fs::path(mainPath).parent_path() / fs::path(recordedPath).filename()).string();
}

ScanCoverage::ScanCoverage(const Manifest& m, const std::string& mainPath, std::vector<std::string>& notes) {
    for (const auto& in : m.inputs) scenes_.push_back({in.source, in.acquired, lonLatPolygon(in.footprint), nullptr, nullptr});
    readLayers(m, mainPath, notes);
    for (const auto& s : scenes_) {
        if (!s.footprint) continue;
        unite(footprints_, *s.footprint);
        if (s.clear && !s.clear->IsEmpty()) unite(clear_, *s.clear);
    }
}

void ScanCoverage::readLayers(const Manifest& m, const std::string& mainPath, std::vector<std::string>& notes) {
    std::map<std::string, OGRGeometryUniquePtr> footprints, gaps;
    if (const Manifest::Layer* l = m.layer("footprints"))
        footprints = bySource(readLayer(besideMain(mainPath, l->path), l->layer, {}, "footprint layer"));
    if (const Manifest::Layer* l = m.layer("nodata_gaps")) {
        gaps = bySource(readLayer(besideMain(mainPath, l->path), l->layer, {}, "nodata-gap layer"));
        hasGaps_ = true;
    } else {
        notes.push_back("'" + mainPath + "' records no nodata gaps (a scan of riskmap 0.1): clouds and missing data "
                        "cannot be told apart from absence there");
    }
    for (auto& s : scenes_) {
        auto fp = footprints.find(s.source);
        if (fp != footprints.end()) s.footprint = std::move(fp->second);
        auto gap = gaps.find(s.source);
        if (gap == gaps.end() || !gap->second) {
            s.clear.reset(s.footprint->clone());
            continue;
        }
        alignLongitudes(*gap->second, *s.footprint);
        s.clear.reset(s.footprint->Difference(gap->second.get()));
        if (!s.clear) throw DataError("cannot take the nodata gaps of '" + s.source + "' out of its footprint");
    }
    for (auto& s : scenes_)
        if (s.clear) s.clearIndexed.reset(OGRCreatePreparedGeometry(OGRGeometry::ToHandle(s.clear.get())));
}

ScanCoverage::Sight ScanCoverage::look(const OGRGeometry& place) const {
    // Areas and places astride lon 180 are unwrapped (past 180); the place is also tried one
    // turn east and west, so that each meets an area in its own frame.
    const OGRGeometryUniquePtr here = unwrappedCopy(place);
    auto share = [&](const OGRGeometry* area) {
        double least = outsideShare(*here, area);
        for (const double turn : {360.0, -360.0})
            if (least > kOutsideTolerance) least = std::min(least, outsideShare(*shiftedCopy(*here, turn), area));
        return least;
    };
    if (share(clear_.get()) <= kOutsideTolerance) return Sight::Clear;
    if (share(footprints_.get()) <= kOutsideTolerance) return Sight::NoData;
    return Sight::Outside;
}

bool ScanCoverage::blindAround(const std::string& source, const LonLat& at, double metres) const {
    // A disk in degrees reaching at least `metres` in every direction (a degree of longitude
    // shrinks with latitude): wider north-south, never narrower, so the test errs towards "seen".
    constexpr double kStep = 1e-3;
    const double perDegree = std::min(geodesicDistance(at, {at.lon + kStep, at.lat}),
                                      geodesicDistance(at, {at.lon, at.lat + (at.lat > 0 ? -kStep : kStep)})) / kStep;
    if (!(perDegree > 0)) return false;
    const double degrees = metres / perDegree;
    for (const auto& s : scenes_) {
        if (s.source != source || !s.footprint || !s.clear) continue;
        // Blind only where no turn of the disk (east, west: lon 180) meets clear ground.
        for (const double turn : {0.0, 360.0, -360.0}) {
            const OGRPoint centre(at.lon + turn, at.lat);
            OGRGeometryUniquePtr disk(centre.Buffer(degrees, 8));
            if (!disk) return false;
            const bool meets = s.clearIndexed ? OGRPreparedGeometryIntersects(s.clearIndexed.get(), OGRGeometry::ToHandle(disk.get()))
                                              : disk->Intersects(s.clear.get());
            if (meets) return false;
        }
        return true;
    }
    return false;
}

std::string ScanCoverage::dateAt(const OGRGeometry& place) const {
    LonLat c;
    try {
        c = lonLatCentroid(place);
    } catch (const Error&) {
        return commonDate();
    }
    for (const auto& s : scenes_)
        if (s.clear && coversLonLat(*s.clear, c) && !s.date.empty()) return s.date;
    for (const auto& s : scenes_)
        if (s.footprint && coversLonLat(*s.footprint, c) && !s.date.empty()) return s.date;
    return commonDate();
}

std::string ScanCoverage::dateOf(const std::string& source) const {
    for (const auto& s : scenes_)
        if (s.source == source) return s.date;
    return "";
}

std::string ScanCoverage::commonDate() const {
    if (scenes_.empty()) return "";
    for (const auto& s : scenes_)
        if (s.date.empty() || s.date != scenes_.front().date) return "";
    return scenes_.front().date;
}

bool ScanCoverage::overlaps(const ScanCoverage& other) const {
    return footprints_ && other.footprints_ && footprints_->Intersects(other.footprints_.get());
}

}  // namespace riskmap

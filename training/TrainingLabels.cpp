#include "training/TrainingLabels.hpp"

#include <gdal_priv.h>
#include <ogrsf_frmts.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <memory>
#include <tuple>

#include "core/TextFile.hpp"
#include "core/Error.hpp"
#include "detection/VerifierModel.hpp"
#include "geo/GdalRuntime.hpp"

namespace riskmap {

namespace {

bool truthy(const OGRFeature& f, int field) {
    if (field < 0 || !f.IsFieldSetAndNotNull(field)) return false;
    std::string v = f.GetFieldAsString(field);
    std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return v == "true" || v == "1" || v == "yes" || v == "y" || v == "t";
}

std::unique_ptr<OGRCoordinateTransformation> toLonLat(OGRLayer& layer, const std::string& path) {
    const OGRSpatialReference* srs = layer.GetSpatialRef();
    if (!srs) return nullptr;  // taken as lon/lat, as GeoJSON is
    OGRSpatialReference src(*srs), target = epsgSpatialRef(4326);
    src.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    if (src.IsSame(&target)) return nullptr;
    std::unique_ptr<OGRCoordinateTransformation> ct(OGRCreateCoordinateTransformation(&src, &target));
    if (!ct) throw UsageError("cannot transform the labels '" + path + "' to lon/lat: " + lastGdalError());
    return ct;
}

int fieldIndex(OGRLayer& layer, const std::string& field, const char* option, const std::string& path) {
    if (field.empty()) return -1;
    const int f = layer.GetLayerDefn()->GetFieldIndex(field.c_str());
    if (f < 0) throw UsageError("labels '" + path + "' have no field '" + field + "' for " + option + ": name one of their fields");
    return f;
}

void readLayer(OGRLayer& layer, const std::string& path, const std::string& groupField,
               const std::string& difficultField, const std::string& imageField,
               bool difficultRequired, std::vector<TrainingLabel>& out) {
    const auto ct = toLonLat(layer, path);
    OGRFeatureDefn* defn = layer.GetLayerDefn();
    const int fGroup = fieldIndex(layer, groupField, "--group-field", path);
    const int fImage = fieldIndex(layer, imageField, "--image-field", path);
    const int fDifficult = difficultRequired
                               ? fieldIndex(layer, difficultField, "--difficult-field", path)
                           : difficultField.empty() ? -1
                                                    : defn->GetFieldIndex(difficultField.c_str());
    for (auto& feat : layer) {
        const OGRGeometry* g = feat->GetGeometryRef();
        if (!g || g->IsEmpty()) continue;
        OGRPoint p;
        if (wkbFlatten(g->getGeometryType()) == wkbPoint) p = *g->toPoint();
        else if (g->Centroid(&p) != OGRERR_NONE)
            throw UsageError("labels '" + path + "': cannot take the centroid of feature " + std::to_string(feat->GetFID()));
        double x = p.getX(), y = p.getY();
        if ((ct && !ct->Transform(1, &x, &y)) || !(std::abs(x) <= 180 && std::abs(y) <= 90))
            throw UsageError("labels '" + path + "': feature " + std::to_string(feat->GetFID()) + " has no valid lon/lat position");
        TrainingLabel l;
        l.position = {x, y};
        l.difficult = truthy(*feat, fDifficult);
        if (fGroup >= 0) l.group = feat->GetFieldAsString(fGroup);
        if (fImage >= 0) l.image = feat->GetFieldAsString(fImage);
        if (fGroup >= 0 && l.group.empty())
            throw UsageError("labels '" + path + "': feature " + std::to_string(feat->GetFID()) + " has an empty '" + groupField + "'");
        out.push_back(std::move(l));
    }
}

// A label repeated at the same place (to ~1 cm) in the same image (a layer merged twice, a
// label pasted twice) is one object: counted twice it was a positive missed or found twice.
// The first is kept, certain if any repeat is.
std::size_t dropRepeats(std::vector<TrainingLabel>& points) {
    std::map<std::tuple<long long, long long, std::string>, std::size_t> seen;
    std::vector<TrainingLabel> kept;
    for (auto& l : points) {
        const auto key = std::make_tuple(std::llround(l.position.lon * 1e7),
                                         std::llround(l.position.lat * 1e7), l.image);
        const auto [it, fresh] = seen.emplace(key, kept.size());
        if (fresh)
            kept.push_back(std::move(l));
        else
            kept[it->second].difficult = kept[it->second].difficult && l.difficult;
    }
    const std::size_t dropped = points.size() - kept.size();
    points = std::move(kept);
    return dropped;
}

}  // namespace

TrainingLabels TrainingLabels::read(const std::string& path, const std::string& groupField,
                                    const std::string& difficultField,
                                    const std::string& imageField, bool difficultRequired) {
    ensureGdalRegistered();
    refuseSpecialFile(path, "labels");
    DatasetPtr ds(static_cast<GDALDataset*>(GDALOpenEx(path.c_str(), GDAL_OF_VECTOR, nullptr, nullptr, nullptr)));
    if (!ds) throw UsageError("cannot open the labels '" + path + "': " + lastGdalError("not a vector file OGR can read"));
    TrainingLabels t;
    t.path = path;
    t.sha256 = fileSha256(path);
    for (OGRLayer* layer : ds->GetLayers())
        readLayer(*layer, path, groupField, difficultField, imageField, difficultRequired,
                  t.points);
    if (t.points.empty()) throw UsageError("labels '" + path + "' hold no points: give one point per object");
    t.duplicates = dropRepeats(t.points);
    return t;
}

}  // namespace riskmap

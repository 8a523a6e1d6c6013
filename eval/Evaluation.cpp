#include "eval/Evaluation.hpp"

#include <cpl_conv.h>
#include <gdal_priv.h>
#include <ogrsf_frmts.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <sstream>

#include "core/Error.hpp"
#include "provenance/Manifest.hpp"
#include "geo/GdalRuntime.hpp"
#include "raster/RasterInput.hpp"

namespace riskmap {

namespace {

struct GeomDeleter {
    void operator()(OGRGeometry* g) const { OGRGeometryFactory::destroyGeometry(g); }
};
using GeomPtr = std::unique_ptr<OGRGeometry, GeomDeleter>;

struct Footprint {
    std::string name;
    GeomPtr area;  // EPSG:4326, lon/lat order
};

struct VectorPoint {
    LonLat position;
    std::string source;
    std::vector<std::string> sources;  // detections merged across overlapping scenes
    double score = 1;
    bool difficult = false;
};

bool truthy(const OGRFeature& f, int field) {
    if (field < 0 || !f.IsFieldSetAndNotNull(field)) return false;
    std::string v = f.GetFieldAsString(field);
    std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return v == "true" || v == "1" || v == "yes" || v == "y" || v == "t";
}

// Every feature of every layer (or of `onlyLayer`) as a lon/lat point (polygon centroids), with
// chosen fields. Detections (scoreField) come only from layers with a score: a GeoPackage from
// riskmap scan also holds grid, footprint and gap layers.
std::vector<VectorPoint> readPoints(const std::string& path, const std::string& what, const std::string& sourceField,
                                    const std::string& difficultField, bool scoreField, const std::string& onlyLayer = "") {
    ensureGdalRegistered();
    GDALDataset* ds = static_cast<GDALDataset*>(GDALOpenEx(path.c_str(), GDAL_OF_VECTOR, nullptr, nullptr, nullptr));
    if (!ds) throw DataError("cannot open " + what + " '" + path + "': " + lastGdalError("not a vector file OGR can read"));
    std::unique_ptr<GDALDataset, GdalDatasetCloser> hold(ds);
    std::vector<VectorPoint> out;
    OGRSpatialReference target = epsgSpatialRef(4326);
    if (!onlyLayer.empty() && !ds->GetLayerByName(onlyLayer.c_str()))
        throw DataError(what + " '" + path + "' has no layer '" + onlyLayer + "'");
    for (OGRLayer* layer : ds->GetLayers()) {
        if (!onlyLayer.empty() && onlyLayer != layer->GetName()) continue;
        if (scoreField && layer->GetLayerDefn()->GetFieldIndex("score") < 0) continue;
        std::unique_ptr<OGRCoordinateTransformation> ct;
        if (const OGRSpatialReference* srs = layer->GetSpatialRef()) {
            OGRSpatialReference src(*srs);
            src.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
            if (!src.IsSame(&target)) {
                ct.reset(OGRCreateCoordinateTransformation(&src, &target));
                if (!ct) throw DataError("cannot transform " + what + " '" + path + "' to lon/lat: " + lastGdalError());
            }
        }
        OGRFeatureDefn* defn = layer->GetLayerDefn();
        const int fSource = sourceField.empty() ? -1 : defn->GetFieldIndex(sourceField.c_str());
        if (!sourceField.empty() && fSource < 0)
            throw UsageError(what + " '" + path + "' has no field '" + sourceField + "'");
        const int fDifficult = difficultField.empty() ? -1 : defn->GetFieldIndex(difficultField.c_str());
        const int fScore = scoreField ? defn->GetFieldIndex("score") : -1;
        for (auto& feat : *layer) {
            const OGRGeometry* g = feat->GetGeometryRef();
            if (!g || g->IsEmpty()) continue;
            OGRPoint p;
            if (wkbFlatten(g->getGeometryType()) == wkbPoint) {
                p = *g->toPoint();
            } else if (g->Centroid(&p) != OGRERR_NONE) {
                throw DataError("cannot take the centroid of a feature in '" + path + "'");
            }
            double x = p.getX(), y = p.getY();
            if (ct && !ct->Transform(1, &x, &y))
                throw DataError("a point of '" + path + "' cannot be transformed to lon/lat");
            VectorPoint vp;
            vp.position = {x, y};
            if (fSource >= 0) vp.source = feat->GetFieldAsString(fSource);
            if (scoreField) {
                const int fSources = defn->GetFieldIndex("sources");
                if (fSources >= 0 && feat->IsFieldSetAndNotNull(fSources)) {
                    if (defn->GetFieldDefn(fSources)->GetType() == OFTStringList) {
                        char** list = feat->GetFieldAsStringList(fSources);
                        for (int k = 0; list && list[k]; ++k) vp.sources.push_back(list[k]);
                    } else {
                        const Json arr = parseJson(feat->GetFieldAsString(fSources), path);
                        if (arr.is_array())
                            for (const auto& s : arr)
                                if (s.is_string()) vp.sources.push_back(s.get<std::string>());
                    }
                }
            }
            vp.difficult = truthy(*feat, fDifficult);
            if (fScore >= 0 && feat->IsFieldSetAndNotNull(fScore)) vp.score = feat->GetFieldAsDouble(fScore);
            out.push_back(vp);
        }
    }
    return out;
}

GeomPtr polygonFromRing(const std::vector<LonLat>& ring) {
    auto* poly = new OGRPolygon();
    OGRLinearRing r;
    for (const auto& p : ring) r.addPoint(p.lon, p.lat);
    r.closeRings();
    poly->addRing(&r);
    return GeomPtr(poly);
}

std::vector<Footprint> footprintsFromInputs(const std::vector<std::string>& inputs) {
    std::vector<Footprint> out;
    for (const auto& path : inputs) {
        RasterInput in = RasterInput::open(path, InputOptions{});
        out.push_back({in.name(), polygonFromRing(in.footprint(16))});
    }
    return out;
}

std::vector<Footprint> footprintsFromManifest(const Manifest& m) {
    std::vector<Footprint> out;
    for (const auto& in : m.inputs) out.push_back({in.source, polygonFromRing(in.footprint)});
    return out;
}

GeomPtr aoiFromVector(const std::string& path) {
    ensureGdalRegistered();
    GDALDataset* ds = static_cast<GDALDataset*>(GDALOpenEx(path.c_str(), GDAL_OF_VECTOR, nullptr, nullptr, nullptr));
    if (!ds) throw DataError("cannot open --aoi '" + path + "': " + lastGdalError("not a vector file OGR can read"));
    std::unique_ptr<GDALDataset, GdalDatasetCloser> hold(ds);
    OGRSpatialReference target = epsgSpatialRef(4326);
    GeomPtr acc;
    for (OGRLayer* layer : ds->GetLayers()) {
        for (auto& feat : *layer) {
            OGRGeometry* g = feat->GetGeometryRef();
            if (!g) continue;
            GeomPtr copy(g->clone());
            if (const OGRSpatialReference* srs = layer->GetSpatialRef()) {
                OGRSpatialReference src(*srs);
                src.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
                std::unique_ptr<OGRCoordinateTransformation> ct(OGRCreateCoordinateTransformation(&src, &target));
                if (!ct || copy->transform(ct.get()) != OGRERR_NONE)
                    throw DataError("cannot transform --aoi '" + path + "' to lon/lat");
            }
            acc = acc ? GeomPtr(acc->Union(copy.get())) : std::move(copy);
        }
    }
    if (!acc) throw DataError("--aoi '" + path + "' holds no geometry");
    return acc;
}

bool covers(const OGRGeometry& area, const LonLat& p) {
    OGRPoint pt(p.lon, p.lat);
    // A point on the boundary counts as inside: truth at the very edge of a scene was scanned.
    return area.Intersects(&pt);
}

std::string stemOf(const std::string& name) {
    auto dot = name.rfind('.');
    return dot == std::string::npos ? name : name.substr(0, dot);
}

bool fileExists(const std::string& p) {
    struct stat st;
    return ::stat(p.c_str(), &st) == 0;
}

}  // namespace

EvalReport Evaluation::run(const EvalRequest& req) {
    if (!(req.radiusMetres > 0)) throw UsageError("--radius-m must be positive");
    EvalReport rep;
    rep.request = req;

    std::vector<Footprint> fps;
    // The scan's manifest names its detection layer and, by default, gives the footprints.
    std::string detLayer;
    const std::string manifestPath = Manifest::pathFor(req.detectionsPath);
    std::optional<Manifest> manifest;
    if (fileExists(manifestPath)) manifest = Manifest::read(manifestPath);
    if (manifest && manifest->layer("detections")) detLayer = manifest->layer("detections")->layer;
    if (!req.aoiPath.empty()) {
        rep.footprintFrom = "aoi";
        fps.push_back({"aoi", aoiFromVector(req.aoiPath)});
    } else if (!req.inputs.empty()) {
        rep.footprintFrom = "inputs";
        fps = footprintsFromInputs(req.inputs);
    } else {
        if (!manifest)
            throw UsageError("cannot tell what was scanned: pass --inputs RASTERS or --aoi FILE, or keep '" +
                             manifestPath + "' beside the detections");
        rep.footprintFrom = "manifest";
        fps = footprintsFromManifest(*manifest);
    }
    const bool single = rep.footprintFrom == "aoi";

    std::vector<VectorPoint> truth = readPoints(req.truthPath, "truth", req.truthSourceField, req.difficultField, false);
    std::vector<VectorPoint> dets = readPoints(req.detectionsPath, "detections", single ? "" : "source", "", true, detLayer);

    std::map<std::string, std::size_t> groupOf;
    for (std::size_t i = 0; i < fps.size(); ++i) groupOf[fps[i].name] = i;
    std::vector<std::vector<EvalPoint>> gDet(fps.size()), gTruth(fps.size());

    for (std::size_t i = 0; i < dets.size(); ++i) {
        if (dets[i].score < req.minScore) continue;
        std::size_t g = 0;
        if (single) {
            if (!covers(*fps[0].area, dets[i].position)) {
                rep.detectionsOutside++;
                continue;
            }
        } else {
            // An object merged across overlapping scenes counts in each scene it was seen in.
            std::vector<std::string> srcs = dets[i].sources;
            if (srcs.empty()) srcs.push_back(dets[i].source);
            bool any = false;
            for (const auto& s : srcs) {
                auto it = groupOf.find(s);
                if (it == groupOf.end()) continue;
                gDet[it->second].push_back({dets[i].position, dets[i].score, false, i});
                any = true;
            }
            if (!any) rep.detectionsOutside++;
            continue;
        }
        gDet[g].push_back({dets[i].position, dets[i].score, false, i});
    }
    for (std::size_t i = 0; i < truth.size(); ++i) {
        bool counted = false;
        for (std::size_t g = 0; g < fps.size(); ++g) {
            if (!req.truthSourceField.empty() && !single) {
                const std::string& s = truth[i].source;
                if (s != fps[g].name && s != stemOf(fps[g].name)) continue;
            }
            if (!covers(*fps[g].area, truth[i].position)) continue;
            gTruth[g].push_back({truth[i].position, 0, truth[i].difficult, i});
            counted = true;
        }
        if (!counted) rep.truthOutside++;
    }

    PointMatcher matcher(req.radiusMetres, req.method);
    for (std::size_t g = 0; g < fps.size(); ++g) {
        SourceResult r;
        r.source = fps[g].name;
        r.truth = gTruth[g].size();
        r.detections = gDet[g].size();
        r.counts = matcher.match(gDet[g], gTruth[g]);
        rep.overall += r.counts;
        rep.sources.push_back(std::move(r));
    }
    return rep;
}

namespace {

Json countsJson(const MatchCounts& c) {
    Json j = Json::object();
    j["tp"] = c.tp;
    j["fp"] = c.fp;
    j["fn"] = c.fn;
    j["ignored_difficult"] = c.ignored;
    // Undefined ratios (nothing detected, nothing to find) are null, not zero.
    j["precision"] = c.tp + c.fp ? Json(c.precision()) : Json();
    j["recall"] = c.tp + c.fn ? Json(c.recall()) : Json();
    j["f1"] = c.tp + c.fp && c.tp + c.fn ? Json(c.f1()) : Json();
    j["mean_distance_m"] = c.tp ? c.sumDistance / static_cast<double>(c.tp) : 0.0;
    j["max_distance_m"] = c.maxDistance;
    return j;
}

}  // namespace

Json EvalReport::toJson() const {
    Json j = Json::object();
    j["truth"] = request.truthPath;
    j["detections"] = request.detectionsPath;
    j["radius_m"] = request.radiusMetres;
    j["method"] = request.method == MatchMethod::Optimal ? "optimal" : "greedy";
    j["footprint_from"] = footprintFrom;
    j["min_score"] = request.minScore;
    j["overall"] = countsJson(overall);
    Json per = Json::array();
    for (const auto& s : sources) {
        Json x = countsJson(s.counts);
        x["source"] = s.source;
        x["truth_counted"] = s.truth;
        x["detections_counted"] = s.detections;
        per.push_back(x);
    }
    j["sources"] = per;
    j["truth_outside_footprint"] = truthOutside;
    j["detections_not_counted"] = detectionsOutside;
    return j;
}

std::string EvalReport::toText() const {
    std::ostringstream o;
    char buf[256];
    auto ratio = [](bool defined, double v) {
        char b[16];
        if (defined)
            std::snprintf(b, sizeof b, "%6.3f", v);
        else
            std::snprintf(b, sizeof b, "%6s", "-");
        return std::string(b);
    };
    auto line = [&](const std::string& name, const MatchCounts& c) {
        std::snprintf(buf, sizeof buf, "%-32s %5zu %5zu %5zu %5zu   %s %s %s\n", name.c_str(), c.tp, c.fp, c.fn, c.ignored,
                      ratio(c.tp + c.fp > 0, c.precision()).c_str(), ratio(c.tp + c.fn > 0, c.recall()).c_str(),
                      ratio(c.tp + c.fp > 0 && c.tp + c.fn > 0, c.f1()).c_str());
        o << buf;
    };
    std::snprintf(buf, sizeof buf, "matching: %s, one-to-one within %.1f m; footprint from %s\n",
                  request.method == MatchMethod::Optimal ? "optimal" : "greedy", request.radiusMetres,
                  footprintFrom.c_str());
    o << buf;
    std::snprintf(buf, sizeof buf, "%-32s %5s %5s %5s %5s   %6s %6s %6s\n", "source", "TP", "FP", "FN", "diff", "P", "R",
                  "F1");
    o << buf;
    for (const auto& s : sources) line(s.source, s.counts);
    line("overall", overall);
    if (truthOutside) o << truthOutside << " truth object(s) outside the scanned footprint were not counted\n";
    if (detectionsOutside) o << detectionsOutside << " detection(s) outside the footprint or of unknown sources were not counted\n";
    return o.str();
}

}  // namespace riskmap

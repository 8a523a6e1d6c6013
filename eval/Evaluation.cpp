#include "eval/Evaluation.hpp"

#include <cpl_conv.h>
#include <gdal_priv.h>
#include <ogrsf_frmts.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <set>
#include <sstream>

#include "core/TextFile.hpp"
#include "core/Error.hpp"
#include "eval/PrCurve.hpp"
#include "geo/GdalRuntime.hpp"
#include "provenance/Manifest.hpp"
#include "raster/InputCatalog.hpp"
#include "raster/RasterInput.hpp"
#include "readback/Antimeridian.hpp"
#include "readback/LayerReader.hpp"
#include "readback/ScanCoverage.hpp"
#include "tiling/Coverage.hpp"

namespace riskmap {

namespace {

using GeomPtr = OGRGeometryUniquePtr;

struct Footprint {
    std::string name;
    GeomPtr area;  // EPSG:4326, lon/lat order
    // Truth and detections with nothing seen clearly this near are left out
    // (ScanCoverage::blindAround): the match radius, and at least 1.5 coverage cells.
    double blindMetres = 0;
};

struct VectorPoint {
    LonLat position;
    std::string source;
    std::vector<std::string> sources;  // detections merged across overlapping scenes
    double score = 1;
    bool difficult = false;
    std::string group;  // truth: the value of --group-field
};

bool truthy(const OGRFeature& f, int field) {
    if (field < 0 || !f.IsFieldSetAndNotNull(field)) return false;
    std::string v = f.GetFieldAsString(field);
    std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return v == "true" || v == "1" || v == "yes" || v == "y" || v == "t";
}

// A feature's lon/lat point (a polygon's centroid), through `ct` when the layer is not lon/lat.
LonLat lonLatOf(const OGRGeometry& geom, bool lonLat, OGRCoordinateTransformation* ct, const OGRFeature& feat,
                OGRLayer& layer, const std::string& path, const std::string& what) {
    const OGRGeometry* g = &geom;
    OGRPoint p;
    if (wkbFlatten(g->getGeometryType()) == wkbPoint) {
        p = *g->toPoint();
    } else if (lonLat) {
        const LonLat c = lonLatCentroid(*g);
        p = OGRPoint(c.lon, c.lat);
    } else if (g->Centroid(&p) != OGRERR_NONE) {
        throw DataError("cannot take the centroid of a feature in '" + path + "'");
    }
    double x = p.getX(), y = p.getY();
    if (ct && !ct->Transform(1, &x, &y))
        throw DataError("a point of '" + path + "' cannot be transformed to lon/lat");
    // A layer without a CRS is read as lon/lat: projected metres (a shapefile without its
    // .prj) were matched as degrees, P 0 and exit 0 (a sweep of hostile inputs).
    if (!(std::fabs(x) <= 360 && std::fabs(y) <= 90))
        throw DataError("feature " + std::to_string(feat.GetFID()) + " of " + what + " '" + path + "' is at (" +
                std::to_string(x) + ", " + std::to_string(y) + "), not a lon/lat position" +
                (layer.GetSpatialRef() ? std::string() :
                 ": the layer has no CRS and is read as lon/lat; give it its CRS "
                 "(a .prj beside a shapefile, or ogr2ogr -a_srs EPSG:CODE)"));
    return {x, y};
}

// Every feature of every layer (or of `onlyLayer`) as a lon/lat point (polygon centroids), with
// chosen fields. Detections (scoreField) come only from layers with a score: a GeoPackage from
// riskmap scan also holds grid, footprint and gap layers.
std::vector<VectorPoint> readPoints(const std::string& path, const std::string& what,
                                    const std::string& sourceField,
                                    const std::string& difficultField, bool scoreField,
                                    const std::string& onlyLayer = "",
                                    const std::string& groupField = "",
                                    bool requireDifficult = false, std::size_t* withoutGeometry = nullptr) {
    ensureGdalRegistered();
    refuseSpecialFile(path, what);
    GDALDataset* ds = static_cast<GDALDataset*>(GDALOpenEx(path.c_str(), GDAL_OF_VECTOR, nullptr, nullptr, nullptr));
    if (!ds) throw DataError("cannot open " + what + " '" + path + "': " + lastGdalError("not a vector file OGR can read"));
    std::unique_ptr<GDALDataset, GdalDatasetCloser> hold(ds);
    std::vector<VectorPoint> out;
    OGRSpatialReference target = epsgSpatialRef(4326);
    if (!onlyLayer.empty() && !ds->GetLayerByName(onlyLayer.c_str()))
        throw DataError(what + " '" + path + "' has no layer '" + onlyLayer + "'");
    bool scored = false;
    for (OGRLayer* layer : ds->GetLayers()) {
        if (!onlyLayer.empty() && onlyLayer != layer->GetName()) continue;
        if (scoreField && layer->GetLayerDefn()->GetFieldIndex("score") < 0) {
            // riskmap's own GeoJSON of a scan that found nothing has no fields at all.
            scored |= layer->GetFeatureCount() == 0;
            continue;
        }
        scored = true;
        std::unique_ptr<OGRCoordinateTransformation> ct;
        // In any lon/lat CRS (or none), an object astride lon 180 comes cut into two parts.
        const bool lonLat = !layer->GetSpatialRef() || layer->GetSpatialRef()->IsGeographic();
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
        if (requireDifficult && fDifficult < 0)
            throw UsageError(what + " '" + path + "' has no field '" + difficultField +
                             "' (--difficult-field)");
        const int fScore = scoreField ? defn->GetFieldIndex("score") : -1;
        const int fGroup = groupField.empty() ? -1 : defn->GetFieldIndex(groupField.c_str());
        if (!groupField.empty() && fGroup < 0) throw UsageError(what + " '" + path + "' has no field '" + groupField + "'");
        for (auto& feat : *layer) {
            const OGRGeometry* g = feat->GetGeometryRef();
            if (!g || g->IsEmpty()) {
                if (withoutGeometry) ++*withoutGeometry;
                continue;
            }
            const LonLat at = lonLatOf(*g, lonLat, ct.get(), *feat, *layer, path, what);
            const double x = at.lon, y = at.lat;
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
            if (fGroup >= 0) vp.group = feat->GetFieldAsString(fGroup);
            if (fScore >= 0) {
                // A detection without a score was ranked as certain (1.0), NaN as second (an
                // audit).
                if (!feat->IsFieldSetAndNotNull(fScore) ||
                    std::isnan(feat->GetFieldAsDouble(fScore)))
                    throw DataError("feature " + std::to_string(feat->GetFID()) + " of '" + path +
                                    "' has no score (null or NaN): give every detection a score, "
                                    "or leave it out");
                vp.score = feat->GetFieldAsDouble(fScore);
            }
            out.push_back(vp);
        }
    }
    // Detections are the layers with a score (a GeoPackage also holds grid and footprints): a file
    // with none was read as no detections at all (an audit: TP 0, FN 51, exit 0).
    if (scoreField && !scored)
        throw DataError(what + " '" + path + "' has no layer with a 'score' field" +
                        (onlyLayer.empty() ? "" : " ('" + onlyLayer + "' has none)") +
                        ": pass a layer written by riskmap scan, or give its features a score");
    return out;
}

std::vector<Footprint> footprintsFromInputs(const std::vector<std::string>& inputs) {
    std::vector<Footprint> out;
    // Folders and globs as scan takes them.
    for (const auto& path : InputCatalog::expandPaths(inputs, "")) {
        RasterInput in = RasterInput::open(path, InputOptions{});
        out.push_back({in.name(), lonLatPolygon(in.footprint(16))});
    }
    return out;
}

std::vector<Footprint> footprintsFromManifest(const Manifest& m, double radiusMetres) {
    std::vector<Footprint> out;
    for (const auto& in : m.inputs) {
        double pixel = 0;
        const Json gsd = in.description.value("gsd_m", Json::object());
        for (const char* axis : {"x", "y"})
            if (gsd.is_object() && gsd.contains(axis) && gsd[axis].is_number()) pixel = std::max(pixel, gsd[axis].get<double>());
        // A cell and a half: a gap cell meeting seen ground only at a corner is a diagonal away.
        out.push_back({in.source, lonLatPolygon(in.footprint), std::max(radiusMetres, 1.5 * kCoverageCell * pixel)});
    }
    return out;
}

GeomPtr aoiFromVector(const std::string& path) {
    ensureGdalRegistered();
    refuseSpecialFile(path, "--aoi");
    GDALDataset* ds = static_cast<GDALDataset*>(GDALOpenEx(path.c_str(), GDAL_OF_VECTOR, nullptr, nullptr, nullptr));
    if (!ds) throw DataError("cannot open --aoi '" + path + "': " + lastGdalError("not a vector file OGR can read"));
    std::unique_ptr<GDALDataset, GdalDatasetCloser> hold(ds);
    OGRSpatialReference target = epsgSpatialRef(4326);
    GeomPtr acc;
    for (OGRLayer* layer : ds->GetLayers()) {
        for (auto& feat : *layer) {
            OGRGeometry* g = feat->GetGeometryRef();
            if (!g || g->IsEmpty()) continue;
            // An area is polygons: truth points lay inside a point AOI and no detection did, so
            // recall read 0 without a word (an audit).
            const OGRwkbGeometryType t = wkbFlatten(g->getGeometryType());
            if (t != wkbPolygon && t != wkbMultiPolygon && t != wkbCurvePolygon && t != wkbMultiSurface)
                throw UsageError("--aoi '" + path + "' holds a " + OGRGeometryTypeToName(t) +
                                 ": it must hold polygons of the area scanned (buffer points or lines first)");
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

bool covers(const OGRGeometry& area, const LonLat& p) { return coversLonLat(area, p); }

std::string stemOf(const std::string& name) {
    auto dot = name.rfind('.');
    return dot == std::string::npos ? name : name.substr(0, dot);
}

bool fileExists(const std::string& p) {
    struct stat st;
    return ::stat(p.c_str(), &st) == 0;
}

}  // namespace

namespace {

// Where the scan of the manifest saw clearly. Without the gap layers (copied without its companion
// files) truth in gaps counts, and the report says so.
std::unique_ptr<ScanCoverage> coverageOf(const Manifest& manifest, const EvalRequest& req, EvalReport& rep) {
    try {
        return std::make_unique<ScanCoverage>(manifest, req.detectionsPath, rep.notes);
    } catch (const DataError& e) {
        rep.notes.push_back(std::string("the scan's nodata gaps could not be read (") + e.what() +
                            "): truth in them counts as missed");
        return nullptr;
    }
}

// What was scanned, and the name of the detection layer, from the request or the manifest; with
// the manifest, also where its scan could not see.
std::vector<Footprint> footprintsFor(const EvalRequest& req, EvalReport& rep, std::string& detLayer,
                                     std::unique_ptr<ScanCoverage>& coverage) {
    std::vector<Footprint> fps;
    const std::string manifestPath = Manifest::pathFor(req.detectionsPath);
    std::optional<Manifest> manifest;
    if (fileExists(manifestPath)) manifest = Manifest::read(manifestPath);
    // Every date's objects, each scene listed once a date: P and R came out 0.333 where each
    // date alone gave 1.0 (a hostile-input sweep). Report and diff refuse it too.
    if (manifest && manifest->kind == "series")
        throw UsageError("'" + req.detectionsPath + "' is the layer of a time series: evaluate one date's scan (OUT.DATE.ext)");
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
        fps = footprintsFromManifest(*manifest, req.radiusMetres);
        coverage = coverageOf(*manifest, req, rep);
    }
    return fps;
}

// Detections and truth of each footprint (source).
struct Sources {
    std::vector<std::vector<EvalPoint>> dets, truth;
    std::vector<std::string> group;  // per source: the most common --group-field value of its truth
};

// With --truth-source-field, truth that names none of the scanned sources is all "outside": a
// scene named after its folder (--band files) or a field holding paths gave 0 found / 1 false
// alarm and no word of why. Refused, listing both sides' names.
void requireNamedSource(const EvalRequest& req, const std::vector<Footprint>& fps, const std::vector<VectorPoint>& truth) {
    std::set<std::string> scanned, named;
    for (const auto& f : fps) scanned.insert(f.name), scanned.insert(stemOf(f.name));
    for (const auto& t : truth) {
        if (scanned.count(t.source)) return;
        named.insert(t.source);
    }
    if (truth.empty()) return;
    auto list = [](const std::set<std::string>& v) {
        std::string text;
        std::size_t n = 0;
        for (auto it = v.begin(); it != v.end() && n < 5; ++it, ++n) text += (n ? ", '" : "'") + *it + "'";
        return v.size() > 5 ? text + " and " + std::to_string(v.size() - 5) + " more" : text;
    };
    std::set<std::string> sources;
    for (const auto& f : fps) sources.insert(f.name);
    throw UsageError("no truth object's --truth-source-field '" + req.truthSourceField + "' names a scanned source: '" +
                     req.truthPath + "' names " + list(named) + ", the scan's sources are " + list(sources) +
                     "; give the field that holds these names (file names or their stems), or leave the option out");
}

// Truth to the sources that saw it: inside the footprint, and not blind in the nodata gaps
// (`coverage`: clouds and masks hide a kiln; counting it as missed lowered recall for what was
// never seen). Truth near seen ground still counts: gaps are drawn by coarse cells.
void assignTruth(const EvalRequest& req, const std::vector<Footprint>& fps, const std::vector<VectorPoint>& truth,
                 const ScanCoverage* coverage, EvalReport& rep, Sources& s) {
    const bool single = rep.footprintFrom == "aoi";
    std::vector<std::map<std::string, std::size_t>> votes(fps.size());
    for (std::size_t i = 0; i < truth.size(); ++i) {
        bool counted = false, hidden = false;
        if (!req.truthSourceField.empty() && !single && truth[i].source.empty()) ++rep.truthWithoutSource;
        for (std::size_t g = 0; g < fps.size(); ++g) {
            // Truth without a value in the source field belongs, as without the field, to every
            // source whose footprint holds it: it was dropped, and the detections on it became
            // false alarms (TP 22 / FP 26 instead of 39 / 4: a hostile-input sweep).
            if (!req.truthSourceField.empty() && !single && !truth[i].source.empty()) {
                const std::string& name = truth[i].source;
                if (name != fps[g].name && name != stemOf(fps[g].name)) continue;
            }
            if (!covers(*fps[g].area, truth[i].position)) continue;
            if (coverage && coverage->blindAround(fps[g].name, truth[i].position, fps[g].blindMetres)) {
                hidden = true;
                continue;
            }
            s.truth[g].push_back({truth[i].position, 0, truth[i].difficult, i});
            votes[g][truth[i].group]++;
            counted = true;
        }
        if (!counted) ++(hidden ? rep.truthInGaps : rep.truthOutside);
    }
    for (const auto& v : votes) {
        std::string best = "(none)";
        std::size_t n = 0;
        for (const auto& [value, count] : v)
            if (count > n) best = value, n = count;
        s.group.push_back(req.groupField.empty() ? std::string() : best);
    }
}

Sources assignToSources(const EvalRequest& req, const std::vector<Footprint>& fps, const std::vector<VectorPoint>& truth,
                        const std::vector<VectorPoint>& dets, const ScanCoverage* coverage, EvalReport& rep) {
    const bool single = rep.footprintFrom == "aoi";
    std::map<std::string, std::size_t> groupOf;
    for (std::size_t i = 0; i < fps.size(); ++i) groupOf[fps[i].name] = i;
    Sources s;
    s.dets.resize(fps.size());
    s.truth.resize(fps.size());
    for (std::size_t i = 0; i < dets.size(); ++i) {
        if (dets[i].score < req.minScore) continue;
        if (single) {
            if (covers(*fps[0].area, dets[i].position))
                s.dets[0].push_back({dets[i].position, dets[i].score, false, i});
            else
                rep.detectionsOutside++;
            continue;
        }
        // An object merged across overlapping scenes counts in each scene it was seen in.
        std::vector<std::string> srcs = dets[i].sources;
        if (srcs.empty()) srcs.push_back(dets[i].source);
        bool any = false, hidden = false;
        for (const auto& name : srcs) {
            auto it = groupOf.find(name);
            if (it == groupOf.end()) continue;
            // Where truth is not counted, detections are not either: a found object in a gap
            // cell whose truth was left out would otherwise be a false alarm.
            if (coverage && coverage->blindAround(name, dets[i].position, fps[it->second].blindMetres)) {
                hidden = true;
                continue;
            }
            s.dets[it->second].push_back({dets[i].position, dets[i].score, false, i});
            any = true;
        }
        if (!any && hidden) {
            rep.detectionsInGaps++;
            continue;
        }
        if (!any) rep.detectionsOutside++;
    }
    if (!req.truthSourceField.empty() && !single) requireNamedSource(req, fps, truth);
    assignTruth(req, fps, truth, coverage, rep, s);
    return s;
}

// The precision-recall curve, per group too, and bootstrap intervals over sources.
void curves(const EvalRequest& req, const Sources& s, EvalReport& rep) {
    std::vector<RankedDetection> ranked;
    std::vector<std::size_t> positives(s.dets.size(), 0);
    for (std::size_t g = 0; g < s.dets.size(); ++g) {
        auto r = rankImage(s.dets[g], s.truth[g], req.radiusMetres, g);
        ranked.insert(ranked.end(), r.begin(), r.end());
        for (const auto& t : s.truth[g]) positives[g] += !t.difficult;
    }
    const std::size_t total = std::accumulate(positives.begin(), positives.end(), std::size_t{0});
    rep.pr = summarize(ranked, total);
    rep.bootstrap = bootstrap(ranked, positives, req.minScore, req.bootstrapResamples, req.seed);
    if (req.groupField.empty()) return;
    std::map<std::string, std::vector<std::size_t>> members;
    for (std::size_t g = 0; g < s.group.size(); ++g) members[s.group[g]].push_back(g);
    for (const auto& [name, units] : members) {
        GroupResult gr;
        gr.group = name;
        std::vector<RankedDetection> mine;
        std::size_t pos = 0;
        for (std::size_t u : units) {
            gr.counts += rep.sources[u].counts;
            pos += positives[u];
            for (const auto& r : ranked)
                if (r.unit == u) mine.push_back(r);
        }
        gr.sources = units.size();
        gr.averagePrecision = summarize(mine, pos).averagePrecision;
        rep.groups.push_back(gr);
    }
}

}  // namespace

EvalReport Evaluation::run(const EvalRequest& req) {
    if (!(req.radiusMetres > 0)) throw UsageError("--radius-m must be positive");
    EvalReport rep;
    rep.request = req;
    std::string detLayer;
    std::unique_ptr<ScanCoverage> coverage;
    const std::vector<Footprint> fps = footprintsFor(req, rep, detLayer, coverage);
    const bool single = rep.footprintFrom == "aoi";
    const auto truth = readPoints(req.truthPath, "truth", req.truthSourceField, req.difficultField,
                                  false, "", req.groupField, req.difficultFieldGiven, &rep.truthWithoutGeometry);
    // A CSV of coordinate columns opened without them has features and no geometry: P 0, no word.
    if (truth.empty() && rep.truthWithoutGeometry > 0)
        throw DataError("none of the " + std::to_string(rep.truthWithoutGeometry) + " features of truth '" + req.truthPath +
                        "' has a geometry: for a CSV of coordinates, name its columns (e.g. ogr2ogr -oo X_POSSIBLE_NAMES=lon "
                        "-oo Y_POSSIBLE_NAMES=lat -a_srs EPSG:4326 truth.gpkg truth.csv) and pass the converted file");
    const auto dets = readPoints(req.detectionsPath, "detections", single ? "" : "source", "", true, detLayer);
    const Sources s = assignToSources(req, fps, truth, dets, coverage.get(), rep);
    PointMatcher matcher(req.radiusMetres, req.method, req.cancel);
    for (std::size_t g = 0; g < fps.size(); ++g) {
        if (req.cancel && req.cancel->load()) throw Cancelled("interrupted while matching");
        SourceResult r;
        r.source = fps[g].name;
        r.group = s.group[g];
        r.truth = s.truth[g].size();
        r.detections = s.dets[g].size();
        r.counts = matcher.match(s.dets[g], s.truth[g]);
        rep.overall += r.counts;
        rep.sources.push_back(std::move(r));
    }
    curves(req, s, rep);
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

namespace {

Json pointJson(const CurvePoint& c) {
    return Json{{"threshold", c.threshold}, {"tp", c.tp}, {"fp", c.fp}, {"precision", c.precision}, {"recall", c.recall}, {"f1", c.f1}};
}

Json intervalJson(const Interval& i) {
    return i.defined ? Json::array({i.low, i.high}) : Json();
}

Json curveJson(const PrSummary& pr, const BootstrapResult& b) {
    Json curve = Json::array();
    for (const auto& c : pr.curve) curve.push_back(pointJson(c));
    Json j = Json{{"matching", "greedy in score order within the radius, per source (PASCAL VOC)"},
                  {"positives", pr.positives},
                  {"average_precision", pr.averagePrecision},
                  {"best_f1", pr.hasBestF1 ? pointJson(pr.bestF1) : Json()},
                  {"points", curve}};
    if (pr.positives == 0) j["average_precision"] = Json();  // no truth to recall
    if (b.resamples) {
        j["bootstrap"] = Json{{"resamples", b.resamples},       {"seed", b.seed},
                              {"unit", "source"},                {"precision_95", intervalJson(b.precision)},
                              {"recall_95", intervalJson(b.recall)}, {"f1_95", intervalJson(b.f1)},
                              {"average_precision_95", intervalJson(b.averagePrecision)}};
        if (!b.withheld.empty()) j["bootstrap"]["withheld"] = b.withheld;
        // Resamples with no detection at the threshold have no precision: left out, counted.
        j["bootstrap"]["resamples_without_precision"] = b.precision.undefinedResamples;
        j["bootstrap"]["resamples_without_recall"] = b.recall.undefinedResamples;
    }
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
        if (!request.groupField.empty()) x["group"] = s.group;
        x["truth_counted"] = s.truth;
        x["detections_counted"] = s.detections;
        per.push_back(x);
    }
    j["sources"] = per;
    if (!request.groupField.empty()) {
        Json table = Json::array();
        for (const auto& g : groups) {
            Json x = countsJson(g.counts);
            x["group"] = g.group;
            x["sources"] = g.sources;
            x["average_precision"] = g.averagePrecision;
            table.push_back(x);
        }
        j["group_field"] = request.groupField;
        j["groups"] = table;
    }
    j["pr_curve"] = curveJson(pr, bootstrap);
    j["truth_outside_footprint"] = truthOutside;
    j["truth_without_source"] = truthWithoutSource;
    j["truth_without_geometry"] = truthWithoutGeometry;
    j["truth_in_nodata_gaps"] = truthInGaps;
    j["notes"] = notes;
    j["detections_not_counted"] = detectionsOutside;
    j["detections_in_nodata_gaps"] = detectionsInGaps;
    return j;
}

// "95 % intervals (N resamples of sources): P a-b, R c-d, F1 e-f", "-" where undefined.
std::string EvalReport::intervalsText() const {
    if (!bootstrap.withheld.empty()) return "95 % intervals: none (" + bootstrap.withheld + ")\n";
    auto range = [](const Interval& i) {
        char b[32];
        if (!i.defined) return std::string("-");
        std::snprintf(b, sizeof b, "%.3f-%.3f", i.low, i.high);
        return std::string(b);
    };
    std::string s = "95 % intervals (" + std::to_string(bootstrap.resamples) +
                    " resamples of sources): P " + range(bootstrap.precision) + ", R " +
                    range(bootstrap.recall) + ", F1 " + range(bootstrap.f1);
    if (bootstrap.precision.undefinedResamples)
        s += "; " + std::to_string(bootstrap.precision.undefinedResamples) +
             " resamples had no detection at the threshold";
    return s + "\n";
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
    if (!groups.empty()) {
        o << "by " << request.groupField << ":\n";
        for (const auto& g : groups) line("  " + g.group, g.counts);
    }
    line("overall", overall);
    if (pr.positives)
        std::snprintf(buf, sizeof buf, "average precision (VOC, within %.0f m): %.3f",
                      request.radiusMetres, pr.averagePrecision);
    else
        std::snprintf(buf, sizeof buf,
                      "average precision (VOC, within %.0f m): - (no certain truth)",
                      request.radiusMetres);
    o << buf;
    if (bootstrap.averagePrecision.defined) {
        std::snprintf(buf, sizeof buf, " (95%% CI %.3f-%.3f)", bootstrap.averagePrecision.low, bootstrap.averagePrecision.high);
        o << buf;
    }
    for (const auto& g : groups) {
        std::snprintf(buf, sizeof buf, "; %s %.3f", g.group.c_str(), g.averagePrecision);
        o << buf;
    }
    if (pr.hasBestF1)
        std::snprintf(buf, sizeof buf, "\nbest F1 %.3f at score >= %.4f (P %.3f, R %.3f)\n",
                      pr.bestF1.f1, pr.bestF1.threshold, pr.bestF1.precision, pr.bestF1.recall);
    else
        std::snprintf(buf, sizeof buf, "\nbest F1: none (no true positive at any score)\n");
    o << buf;
    if (bootstrap.resamples) o << intervalsText();
    if (truthOutside) o << truthOutside << " truth object(s) outside the scanned footprint were not counted\n";
    if (truthWithoutSource)
        o << truthWithoutSource << " truth object(s) have no " << request.truthSourceField
          << ": each was given to the scenes whose footprint holds it\n";
    if (truthWithoutGeometry) o << truthWithoutGeometry << " truth feature(s) without a geometry were not counted\n";
    if (truthInGaps || detectionsInGaps)
        o << truthInGaps << " truth object(s) and " << detectionsInGaps
          << " detection(s) deep in the scan's nodata gaps (clouds, masks, no data) were not counted\n";
    for (const auto& n : notes) o << "note: " << n << "\n";
    if (detectionsOutside) o << detectionsOutside << " detection(s) outside the footprint or of unknown sources were not counted\n";
    return o.str();
}

}  // namespace riskmap

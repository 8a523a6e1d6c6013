#include "report/DiffReport.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include "core/Error.hpp"
#include "provenance/Manifest.hpp"
#include "raster/InputCatalog.hpp"
#include "report/ChipRenderer.hpp"
#include "report/GeoJsonExport.hpp"

namespace riskmap {

namespace fs = std::filesystem;

// One compared scan: its manifest, its rasters (reopened for chips) and coverage layers.
struct DiffReport::Side {
    std::string name;  // "before" or "after"
    std::string path, date;
    Manifest manifest;
    std::unique_ptr<InputCatalog> catalog;
    std::set<std::string> changed;  // sources replaced since the scan: no chips from them
    mutable std::vector<std::unique_ptr<ChipRenderer>> renderers;
    Json footprints, gaps;
};

namespace {

constexpr int kPrecision = 7;

std::string text(const Json& props, const std::string& key) {
    auto it = props.find(key);
    return it != props.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A coverage layer of the scan, tagged with the side; null when it is missing.
Json taggedLayer(const Manifest& m, const std::string& scan, const std::string& role, const std::string& side) {
    const Manifest::Layer* l = m.layer(role);
    if (!l) return Json();
    const std::string path = (fs::path(scan).parent_path() / fs::path(l->path).filename()).string();
    if (!fs::exists(path)) return Json();
    Json fc = GeoJsonExport::layer(path, l->layer, kPrecision);
    for (auto& f : fc["features"]) f["properties"]["scan"] = side;
    return fc;
}

std::unique_ptr<DiffReport::Side> openSide(const Manifest& diff, const Manifest::DiffSide& recorded, const std::string& name,
                                           std::vector<std::string>& notes) {
    auto s = std::make_unique<DiffReport::Side>();
    s->name = name;
    s->path = diff.resolve(recorded.path);
    s->date = recorded.date;
    if (!fs::exists(s->path) || !fs::exists(Manifest::pathFor(s->path))) {
        notes.push_back("no " + name + " chips: the " + name + " scan '" + s->path + "' (or its manifest) is gone");
        return s;
    }
    s->manifest = Manifest::read(Manifest::pathFor(s->path));
    s->footprints = taggedLayer(s->manifest, s->path, "footprints", name);
    s->gaps = taggedLayer(s->manifest, s->path, "nodata_gaps", name);
    try {
        s->catalog = std::make_unique<InputCatalog>(s->manifest.reopenInputs());
        s->renderers.resize(s->catalog->inputs().size());
        s->changed = s->manifest.changedInputs(*s->catalog);
        for (const auto& src : s->changed)
            notes.push_back("no " + name + " chips from '" + src +
                            "': its file changed since the scan (size or modification time)");
    } catch (const Error& e) {
        notes.push_back("no " + name + " chips: cannot reopen the rasters of '" + s->path + "' (" + e.what() + ")");
    }
    return s;
}

// Both sides' features in one collection.
Json joined(const Json& a, const Json& b, const std::string& name) {
    Json features = Json::array();
    for (const Json* fc : {&a, &b})
        if (fc->is_object() && fc->contains("features"))
            for (const auto& f : (*fc)["features"]) features.push_back(f);
    return Json{{"type", "FeatureCollection"}, {"name", name}, {"features", features}};
}

std::vector<std::vector<LonLat>> ringsOf(const Json& geometry) { return GeoJsonExport::outerRings(geometry); }

// The chip of a place in a scan: from the scene its object came from, else the first scene that
// holds the place. Empty when no scene does.
std::vector<unsigned char> cut(const DiffReport::Side& s, const Json& props, const Json& geometry, double minMetres,
                               ChipInfo& info, double& gsd) {
    if (!s.catalog) return {};
    const std::string source = text(props, "source_" + s.name);
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < s.catalog->sources().size(); ++i)
        if (s.catalog->sources()[i] == source) order.insert(order.begin(), i);
        else order.push_back(i);
    std::vector<std::string> caption{text(props, "id"),
                                     s.name + (s.date.empty() ? "" : " " + s.date) + ": " + text(props, "change")};
    if (!text(props, "id_" + s.name).empty()) caption.push_back(text(props, "id_" + s.name));
    for (std::size_t i : order) {
        if (s.changed.count(s.catalog->sources()[i])) continue;
        auto& r = s.renderers[i];
        if (!r) r = std::make_unique<ChipRenderer>(s.catalog->inputs()[i]);
        auto png = r->render(ringsOf(geometry), caption, minMetres, info);
        gsd = s.catalog->inputs()[i].gsdX();
        if (!png.empty()) return png;
    }
    return {};
}

Json chipInfoJson(const ChipInfo& info, double gsd, const std::string& date) {
    return Json{{"centre", Json::array({std::round(info.centre.lon * 1e6) / 1e6, std::round(info.centre.lat * 1e6) / 1e6})},
                {"scale_m", std::round(gsd * 100) / 100},
                {"width_m", std::round(info.widthMetres)},
                {"bands", info.bands},
                {"date", date.empty() ? Json() : Json(date)}};
}

}  // namespace

DiffReport::DiffReport(const Manifest& diff, const std::string&, std::vector<std::string>& notes) : diff_(diff) {
    if (!diff.diff) throw Error("a diff report needs a diff manifest (a report bug)");
    before_ = openSide(diff, diff.diff->before, "before", notes);
    after_ = openSide(diff, diff.diff->after, "after", notes);
}

DiffReport::~DiffReport() = default;

Json DiffReport::footprints() const { return joined(before_->footprints, after_->footprints, "footprints"); }

Json DiffReport::gaps() const { return joined(before_->gaps, after_->gaps, "nodata_gaps"); }

std::size_t DiffReport::writeChips(ExportedLayer& feats, std::size_t maxChips, double minMetres, const SaveChip& save,
                                   const std::atomic<bool>* cancel, std::vector<std::string>& notes) const {
    std::vector<std::size_t> order(feats.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::vector<double> rank(feats.size());
    for (std::size_t i = 0; i < rank.size(); ++i) {
        const Json p = feats.properties(i);
        const auto r = p.find("rank");
        rank[i] = r != p.end() && r->is_number() ? r->get<double>() : 1e18;
    }
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return rank[a] < rank[b]; });
    std::size_t leads = 0, none = 0;
    for (std::size_t k = 0; k < order.size() && leads < maxChips; ++k) {
        if (cancel && cancel->load()) throw Cancelled("report cancelled");
        Json props = feats.properties(order[k]);
        const Json geometry = feats.geometry(order[k]);
        bool any = false;
        for (const Side* s : {before_.get(), after_.get()}) {
            ChipInfo info;
            double gsd = 0;
            const auto png = cut(*s, props, geometry, minMetres, info, gsd);
            if (png.empty()) continue;
            const bool after = s == after_.get();
            props[after ? "chip" : "chip_before"] = save(text(props, "id") + (after ? "" : "-before"), png);
            props[after ? "chip_info" : "chip_before_info"] = chipInfoJson(info, gsd, s->date);
            any = true;
        }
        feats.setProperties(order[k], props);
        leads += any;
        none += !any;
    }
    if (none) notes.push_back(std::to_string(none) + " changes lie off the rasters of both scans and have no chip");
    return leads;
}

Json DiffReport::summary() const {
    const Manifest::Diff& d = *diff_.diff;
    auto side = [](const Manifest::DiffSide& s, const Side& open) {
        return Json{{"path", s.path}, {"resolved", open.path}, {"date", s.date.empty() ? Json() : Json(s.date)},
                    {"features", s.features}};
    };
    return Json{{"before", side(d.before, *before_)},
                {"after", side(d.after, *after_)},
                {"radius_m", d.radiusMetres},
                {"counts", d.counts}};
}

}  // namespace riskmap

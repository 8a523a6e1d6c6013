#include "output/LayerSet.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/Error.hpp"

namespace riskmap {

namespace {

const char* const kCompanionRoles[] = {"grid", "footprints", "nodata_gaps"};


}  // namespace

ScanFiles ScanFiles::plan(const std::string& output, bool grid, const std::string& publishPath, const std::string& explainPath) {
    ScanFiles f;
    f.format = outputFormatFor(output);
    f.stem = output.substr(0, output.size() - f.format.extension.size());
    f.main = output;
    f.manifest = output + ".manifest.json";
    f.journal = output + ".journal";
    f.grid = grid;
    if (!explainPath.empty()) {
        outputFormatFor(explainPath);
        f.explain = explainPath;
    }
    if (!publishPath.empty()) {
        outputFormatFor(publishPath);
        f.publish = publishPath;
        f.publishAbout = publishPath + ".about.json";
        const OutputFormat pf = outputFormatFor(publishPath);
        if (!pf.multiLayer) f.publishStyle = publishPath.substr(0, publishPath.size() - pf.extension.size()) + ".qml";
    }
    return f;
}

std::string ScanFiles::layerPath(const std::string& role) const {
    return format.multiLayer ? main : stem + "." + role + format.extension;
}

std::string ScanFiles::stylePath(const std::string& role) const {
    return stem + (role.empty() ? "" : "." + role) + ".qml";
}

std::vector<std::string> ScanFiles::written() const {
    std::vector<std::string> out{main, manifest, journal, stylePath("")};
    for (const char* role : kCompanionRoles) {
        if (std::string(role) == "grid" && !grid) continue;
        if (!format.multiLayer) out.push_back(layerPath(role));
        out.push_back(stylePath(role));
    }
    if (!publish.empty()) {
        out.push_back(publish);
        out.push_back(publishAbout);
        if (!publishStyle.empty()) out.push_back(publishStyle);
    }
    if (!explain.empty()) out.push_back(explain);
    return out;
}

std::vector<std::string> ScanFiles::possibleCompanions() const {
    std::vector<std::string> out{manifest, stylePath("")};
    for (const char* role : kCompanionRoles) {
        if (!format.multiLayer) out.push_back(layerPath(role));
        out.push_back(stylePath(role));
    }
    return out;
}

LayerSet::LayerSet(ScanFiles files, bool replaceMain, bool replaceCompanions, unsigned fileMode, int precision)
    : files_(std::move(files)),
      replaceMain_(replaceMain),
      replaceCompanions_(replaceCompanions),
      mode_(fileMode),
      precision_(precision) {
    main_ = std::make_unique<OutputDataset>(commit_, files_.main, replaceMain_, mode_, precision_, true);
    layers_.emplace_back("detections", files_.main);
}

OutputDataset& LayerSet::layerFile(const std::string& role) {
    const std::string path = files_.layerPath(role);
    layers_.emplace_back(role, path);
    if (path == files_.main) return *main_;
    auto& ds = siblings_[role];
    if (!ds) ds = std::make_unique<OutputDataset>(commit_, path, replaceCompanions_, mode_, precision_);
    return *ds;
}

OutputDataset& LayerSet::publish() {
    if (files_.publish.empty()) throw Error("no published layer was asked for (a writer bug)");
    // Coarse cells at 5 decimals; the layer is meant to be shared, hence 0644.
    if (!publish_) publish_ = std::make_unique<OutputDataset>(commit_, files_.publish, replaceCompanions_, 0644, 5);
    return *publish_;
}

OutputDataset& LayerSet::explain() {
    if (files_.explain.empty()) throw Error("no explain layer was asked for (a writer bug)");
    if (!explain_) explain_ = std::make_unique<OutputDataset>(commit_, files_.explain, replaceMain_, mode_, precision_);
    return *explain_;
}

void LayerSet::addText(const std::string& path, const std::string& content, unsigned mode, bool keepIdentical) {
    if (keepIdentical && holdsExactly(path, content)) {
        kept_.push_back(path);
        return;
    }
    writeNewFile(commit_.add(path, mode, replaceCompanions_), content.data(), content.size(), mode);
}

void LayerSet::commit() {
    for (auto& [role, ds] : siblings_) ds->finish();
    if (publish_) publish_->finish();
    if (explain_) explain_->finish();
    main_->finish();
    // An --overwrite replaces the whole earlier output: companions this run does not write
    // (a grid from an earlier --grid run, say) would no longer match the new layer. Only files
    // that run wrote: an audit saw another output's layer and style of the same stem deleted.
    if (replaceMain_)
        for (const auto& p : files_.possibleCompanions())
            if (std::find(kept_.begin(), kept_.end(), p) == kept_.end() && ownedByEarlier(p))
                commit_.removeOnCommit(p);
    commit_.commit();
}

bool LayerSet::ownedByEarlier(const std::string& path) const {
    auto same = [](const std::string& a, const std::string& b) {
        std::error_code e1, e2;
        const auto ca = std::filesystem::weakly_canonical(a, e1),
                   cb = std::filesystem::weakly_canonical(b, e2);
        return e1 || e2 ? a == b : ca == cb;
    };
    if (earlier_.empty()) return false;
    if (same(path, files_.manifest) || same(path, files_.stylePath(""))) return true;
    for (const auto& [role, layer] : earlier_)
        if (same(path, layer) || (role != "detections" && same(path, files_.stylePath(role))))
            return true;
    return false;
}

}  // namespace riskmap

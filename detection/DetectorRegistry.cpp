#include "detection/DetectorRegistry.hpp"

#include "core/Error.hpp"
#include "detection/detectors/ClearingDetector.hpp"
#include "detection/detectors/IndexDetector.hpp"
#include "detection/detectors/KilnDetector.hpp"
#include "detection/detectors/OnnxDetector.hpp"

namespace riskmap {

DetectorRegistry DetectorRegistry::builtin() {
    DetectorRegistry r;
    r.add(IndexDetector::describe(), IndexDetector::create);
    r.add(KilnDetector::describe(), KilnDetector::create);
    r.add(ClearingDetector::describe(), ClearingDetector::create);
    r.add(OnnxDetector::describe(), OnnxDetector::create);
    return r;
}

void DetectorRegistry::add(DetectorInfo info, Factory factory) {
    if (find(info.name)) throw Error("detector '" + info.name + "' registered twice");
    entries_.push_back({std::move(info), std::move(factory)});
}

const DetectorRegistry::Entry* DetectorRegistry::find(const std::string& name) const {
    for (const auto& e : entries_)
        if (e.info.name == name) return &e;
    return nullptr;
}

const DetectorRegistry::Entry& DetectorRegistry::get(const std::string& name) const {
    if (const Entry* e = find(name)) return *e;
    std::string known;
    for (const auto& e : entries_) known += (known.empty() ? "" : ", ") + e.info.name;
    throw UsageError("unknown detector '" + name + "': choose one of " + known +
                     " (riskmap detectors lists them)");
}

}  // namespace riskmap

#pragma once
// The explicit list of detectors. Adding one is one line in DetectorRegistry.cpp.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "detection/Detector.hpp"

namespace riskmap {

class DetectorRegistry {
public:
    using Factory = std::function<std::unique_ptr<Detector>(const OptionValues&)>;
    struct Entry {
        DetectorInfo info;
        Factory create;
    };

    // Every detector shipped with riskmap.
    static DetectorRegistry builtin();

    void add(DetectorInfo info, Factory factory);
    const std::vector<Entry>& entries() const { return entries_; }
    const Entry* find(const std::string& name) const;
    // Throws UsageError listing the known detectors.
    const Entry& get(const std::string& name) const;

private:
    std::vector<Entry> entries_;
};

}  // namespace riskmap

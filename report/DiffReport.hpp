#pragma once
// What `riskmap report` adds for the output of `riskmap diff`: the footprints and nodata gaps of
// both scans, and for each change an image chip of the place before and after, cut from each
// scan's own rasters, so that a reviewer sees the two dates side by side.
#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/Json.hpp"
#include "report/GeoJsonExport.hpp"

namespace riskmap {

struct Manifest;

// Stores a chip's PNG under a name made from `id` and returns its path in the report.
using SaveChip = std::function<std::string(const std::string& id, const std::vector<unsigned char>& png)>;

class DiffReport {
public:
    // `diffPath`: the diff's layer. Scans or rasters that cannot be reopened are noted, not fatal.
    DiffReport(const Manifest& diff, const std::string& diffPath, std::vector<std::string>& notes);
    ~DiffReport();

    // Footprints and nodata gaps of both scans, each feature tagged "scan": "before" or "after".
    Json footprints() const;
    Json gaps() const;
    // For the first `maxChips` changes by rank: "chip" and "chip_info" (after), "chip_before" and
    // "chip_before_info". Returns how many changes got at least one chip.
    std::size_t writeChips(ExportedLayer& features, std::size_t maxChips, double minMetres, const SaveChip& save,
                           const std::atomic<bool>* cancel, std::vector<std::string>& notes) const;
    // For the page: {"before": {"path", "date"}, "after": {...}, "counts", "radius_m"}.
    Json summary() const;

    struct Side;

private:
    const Manifest& diff_;
    std::unique_ptr<Side> before_, after_;
};

}  // namespace riskmap

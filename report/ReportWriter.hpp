#pragma once
// `riskmap report`: turns a scan's output into a self-contained folder that a reviewer opens
// offline in a browser: map, ranked leads, image chips, grid, coverage and provenance.
#include <atomic>
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "core/Json.hpp"
#include "report/GeoJsonExport.hpp"

namespace riskmap {

struct Manifest;

struct ReportRequest {
    std::string scan;          // a layer written by riskmap scan or merge (its manifest sits beside it)
    std::string outDir;
    bool overwrite = false;
    std::size_t maxChips = 200;  // image chips for the highest-risk leads
    double chipMinMetres = 600;  // a chip shows at least this much ground
    std::string title;           // default: from the detector and the scan's file name
    std::size_t ramMB = 1024;    // memory budget: an eighth for GDAL's cache while chips are cut
};

struct ReportSummary {
    std::string dir;
    std::size_t detections = 0;
    std::size_t chips = 0;
    std::vector<std::string> notes;  // what the report lacks, and why
};

class ReportWriter {
public:
    // Checks the request (UsageError) and that the scan and its manifest can be read (DataError).
    explicit ReportWriter(ReportRequest request);

    // Builds the folder beside the target and renames it into place, so a failure leaves no
    // half-written report. Folder 0700, files 0600: the report holds exact locations.
    ReportSummary write(const std::atomic<bool>* cancel = nullptr) const;

private:
    // Chips for the highest-risk leads into dir/chips; sets each lead's "chip" and "chip_info".
    std::size_t writeChips(const Manifest& m, ExportedLayer& features, const std::filesystem::path& dir,
                           const std::atomic<bool>* cancel, std::vector<std::string>& notes) const;
    bool install(const std::filesystem::path& built, const std::filesystem::path& target) const;

    ReportRequest request_;
    std::string manifestPath_;
    std::vector<std::string> tidied_;  // what was done with leftovers of interrupted runs (notes)
};

}  // namespace riskmap

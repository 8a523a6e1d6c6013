#pragma once
// A whole scan: open inputs, configure the detector, run the tiled pipeline, write the layer
// and its provenance manifest atomically.
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "core/Json.hpp"
#include "core/ProgressSink.hpp"
#include "detection/DetectorRegistry.hpp"
#include "raster/InputCatalog.hpp"
#include "scan/ScanRequest.hpp"

namespace riskmap {

struct ScanSummary {
    std::size_t tiles = 0;
    std::size_t detections = 0;
    std::vector<std::size_t> perInput;
    std::string outputPath;
    std::string manifestPath;
    Json manifest;
};

class ScanJob {
public:
    // Validates everything that can be checked before reading pixels; throws UsageError or
    // DataError with the option or file at fault.
    ScanJob(ScanRequest request, const DetectorRegistry& registry);
    ~ScanJob();

    const std::vector<RasterInput>& inputs() const { return catalog_->inputs(); }
    const std::vector<std::string>& sources() const { return catalog_->sources(); }
    const Detector& detector() const { return *detector_; }
    const OptionValues& options() const { return *options_; }

    ScanSummary run(ProgressSink& progress, const std::atomic<bool>* cancel = nullptr);
    // "source: what is wrong" for inputs the detector cannot serve well; also in the manifest.
    const std::vector<std::string>& warnings() const { return warnings_; }

    static std::string manifestPathFor(const std::string& output) { return output + ".manifest.json"; }

private:
    ScanRequest request_;
    std::unique_ptr<InputCatalog> catalog_;
    std::unique_ptr<OptionValues> options_;
    std::unique_ptr<Detector> detector_;
    std::vector<std::string> warnings_;
    double openSeconds_ = 0;
};

}  // namespace riskmap

#pragma once
// Each subcommand registers itself on the CLI11 app; main() owns parsing and exit codes.
#include <CLI/CLI.hpp>

#include <atomic>
#include <string>
#include <vector>

#include "raster/InputCatalog.hpp"
#include "scan/ScanRequest.hpp"

namespace riskmap {

struct CliContext {
    std::vector<std::string> argv;       // for the manifest
    const std::atomic<bool>* cancel = nullptr;  // set by SIGINT/SIGTERM
};

void addInfoCommand(CLI::App& app, const CliContext& ctx);
void addDetectorsCommand(CLI::App& app, const CliContext& ctx);
void addScanCommand(CLI::App& app, const CliContext& ctx);
void addEvalCommand(CLI::App& app, const CliContext& ctx);
void addMergeCommand(CLI::App& app, const CliContext& ctx);
void addReportCommand(CLI::App& app, const CliContext& ctx);
void addDiffCommand(CLI::App& app, const CliContext& ctx);
void addTrainCommand(CLI::App& app, const CliContext& ctx);

// Shared by commands that open rasters: --sensor, --band, --scale, --offset, --resampling,
// --zero-pixels.
struct InputArgs {
    std::vector<std::string> paths;  // positional
    std::string inputList;
    std::vector<std::string> stacAssets;
    std::string sensor;
    std::vector<std::string> bands;
    double scale = 0;
    double offset = 0;
    std::string resampling = "nearest";
    std::string zeroPixels = "auto";
    std::string date;  // --date YYYY-MM-DD
    CLI::Option* scaleOpt = nullptr;
    CLI::Option* offsetOpt = nullptr;
};
void addInputOptions(CLI::App& cmd, InputArgs& args);
InputOptions inputOptions(const InputArgs& args);
std::vector<BandSpec> parseBandSpecs(const InputArgs& args);
InputRequest inputRequest(const InputArgs& args);

// Output options of scan and merge (-o, --overwrite, --out-crs, --file-mode, --precision,
// --overlap-merge), bound to the request; the handles tell merge which were given.
struct OutputOptionHandles {
    CLI::Option* fileMode = nullptr;
    CLI::Option* precision = nullptr;
    CLI::Option* overlapMerge = nullptr;
    CLI::Option* simplify = nullptr;
};
OutputOptionHandles addOutputOptions(CLI::App& cmd, ScanRequest& request);
// --file-mode: an octal permission (a warning when others may write); and back to text.
unsigned parseFileMode(const std::string& text);
std::string fileModeText(unsigned mode);
// Risk scoring, grids and publishing, shared by scan and merge.
void addRiskOptions(CLI::App& cmd, ScanRequest& request);
// --tile-size, --threads, --ram.
void addPipelineOptions(CLI::App& cmd, PipelineOptions& options);
// --ram, declared once for scan, merge and report (range and default shown in --help).
void addRamOption(CLI::App& cmd, std::size_t& ramMB, const std::string& help);

}  // namespace riskmap

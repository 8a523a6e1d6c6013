#pragma once
// Runs the riskmap binary as a child process and captures exit code, stdout and stderr.
#include <functional>
#include <string>
#include <vector>

namespace riskmap::test {

struct CliResult {
    int exitCode = -1;
    std::string out;
    std::string err;
    double peakRssMB = 0;  // riskmap's peak over its whole life, closing files included
};

CliResult runRiskmap(const std::vector<std::string>& args, const std::string& cwd = "");
std::string readFile(const std::string& path);
bool fileExists(const std::string& path);
// Starts riskmap with `args`, waits until `ready()` holds (polled each millisecond, at most
// `limitMillis`), then SIGKILLs it. Returns its exit code, or minus the signal that ended it.
int spawnAndKillWhen(const std::vector<std::string>& args, const std::function<bool()>& ready, int limitMillis = 10000);
// Files in `dir` whose names contain `fragment` (e.g. ".riskmap-staging-").
std::vector<std::string> filesContaining(const std::string& dir, const std::string& fragment);
// The N of "run with --ram N" in riskmap's messages (a refusal or a warning naming the least
// budget that works), or -1 when there is none.
int ramNamedIn(const std::string& err);
// False in a sanitizer build, where a process's peak RSS says nothing about --ram.
inline constexpr bool kPeakRssMeaningful = RISKMAP_PEAK_RSS_MEANINGFUL != 0;

}  // namespace riskmap::test

namespace riskmap::test {

// A vector layer read back through OGR, for semantic comparisons.
struct FeatureDump {
    std::vector<std::pair<std::string, std::string>> text;  // string and integer fields
    std::vector<std::pair<std::string, double>> reals;
    std::vector<std::vector<double>> coords;  // per ring (all parts), x/y interleaved
    std::string geometryType;
};
struct LayerDump {
    std::string crsAuthority;  // e.g. "EPSG:4326"
    std::vector<FeatureDump> features;
};
LayerDump readLayer(const std::string& path);
// Empty when equal within tolerances; otherwise the first difference.
std::string compareLayers(const LayerDump& a, const LayerDump& b, double coordTol, double realTol);

}  // namespace riskmap::test

namespace riskmap::test {

// Runs `command` through bash -c with extra environment assignments; captures output.
CliResult runShell(const std::string& command, const std::vector<std::string>& env = {});
// Whether a program is on PATH.
bool haveProgram(const std::string& name);
// Tests of tools that scripts/install-deps.sh installs fail when the tool is missing; only
// RISKMAP_SKIP_MISSING_TOOLS=1 turns that into a skip (for a developer's partial machine).
bool skipMissingTools();

}  // namespace riskmap::test

// riskmap: scan satellite imagery for physical indicators of forced labour.
// main() alone turns errors into exit codes: 0 ok, 1 runtime or data error, 2 usage error.
#include <cpl_error.h>

#include <csignal>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "cli/Commands.hpp"
#include "cli/ParseHelp.hpp"
#include "core/Error.hpp"
#include "core/HugePageHeap.hpp"
#include "core/Version.hpp"
#include "geo/GdalRuntime.hpp"

namespace {

// The only process-wide state: a flag a signal handler may touch.
std::atomic<bool> g_cancel{false};

// The first SIGINT/SIGTERM asks the run to stop cleanly (no partial output); a second one, for a
// run stuck where it cannot look at the flag, ends the process at once.
extern "C" void onSignal(int sig) {
    if (g_cancel.exchange(true)) {
        std::signal(sig, SIG_DFL);
        std::raise(sig);
    }
}

}  // namespace

int main(int argc, char** argv) {
    using namespace riskmap;
    configureHeap();
    std::signal(SIGINT, onSignal);
    std::signal(SIGTERM, onSignal);
    // A full disk or a file-size limit must fail a write (EFBIG) so that the run cleans up and
    // reports it, not kill the process with half-written temporaries.
    std::signal(SIGXFSZ, SIG_IGN);
    // GDAL warnings (odd TIFF tags and the like) are noise for users; failures reach them
    // through our exceptions. RISKMAP_GDAL_WARNINGS=1 shows them.
    const char* showWarnings = std::getenv("RISKMAP_GDAL_WARNINGS");
    if (!showWarnings || std::string(showWarnings) != "1") CPLSetErrorHandler(CPLQuietErrorHandler);
    ensureGdalRegistered();

    CliContext ctx;
    ctx.argv.assign(argv, argv + argc);
    ctx.cancel = &g_cancel;

    CLI::App app{"riskmap " + std::string(kRiskmapVersion) +
                 ": scan satellite imagery for physical indicators of forced labour\n"
                 "(brick kilns, remote camps) and write GeoJSON risk layers.",
                 "riskmap"};
    app.set_version_flag("--version", std::string("riskmap ") + kRiskmapVersion);
    app.require_subcommand(1);
    app.footer("Outputs may point at places where vulnerable people are: they are created "
               "owner-only (0600).\nRun 'riskmap COMMAND --help' for a command's options.");
    addInfoCommand(app, ctx);
    addDetectorsCommand(app, ctx);
    addScanCommand(app, ctx);
    addEvalCommand(app, ctx);
    addMergeCommand(app, ctx);
    addReportCommand(app, ctx);
    addDiffCommand(app, ctx);
    addTrainCommand(app, ctx);
    refuseNonFiniteNumbers(app);

    // Under --json-progress every stderr line is JSON, errors included.
    const bool json = wantsJsonMessages(ctx.argv);
    try {
        app.parse(argc, argv);
        // Results printed to a full disk or a closed pipe were lost with exit 0 (eval --json
        // > /dev/full, a hostile-input sweep): a failed write to standard output fails the run.
        if (std::fflush(stdout) != 0 || !std::cout.flush())
            throw IoError(std::string("writing to standard output failed (") + std::strerror(errno) +
                          "): what riskmap printed is incomplete; check the disk or the pipe");
        return kExitOk;
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        tell("error", explainParseError(app, e, ctx.argv), json, kExitUsage);
        return kExitUsage;
    } catch (const UsageError& e) {
        tell("error", e.what(), json, kExitUsage);
        return kExitUsage;
    } catch (const Error& e) {
        tell("error", e.what(), json, kExitRuntime);
        return kExitRuntime;
    } catch (const std::bad_alloc&) {
        tell("error", "out of memory: lower --ram, --threads or --tile-size", json, kExitRuntime);
        return kExitRuntime;
    } catch (const std::exception& e) {
        tell("error", std::string("internal error: ") + e.what() + " (please report it)", json,
             kExitRuntime);
        return kExitRuntime;
    }
}

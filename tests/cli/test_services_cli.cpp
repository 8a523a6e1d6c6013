// Remote inputs over a real web server and a sharded scan on a real Slurm cluster, both
// started here (scripts/services) and stopped by PID.
#include <gtest/gtest.h>
#include <gdal_utils.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "core/Json.hpp"
#include "geo/GdalRuntime.hpp"
#include "support/CliRunner.hpp"
#include "support/TestRasters.hpp"

using namespace riskmap;
using namespace riskmap::test;

namespace {

const std::string kScripts = std::string(RISKMAP_SOURCE_DIR) + "/scripts";

std::string cogScene(const TempDir& dir) {
    SceneSpec s;
    s.width = 900;
    s.height = 700;
    s.blobs = scatterBlobs(s.width, s.height, 80, 31, 2, 14);
    std::string tif = writeScene(dir.file("plain.tif"), s);
    std::string cog = dir.file("scene.tif");
    GDALDatasetH src = GDALOpen(tif.c_str(), GA_ReadOnly);
    char* argv[] = {const_cast<char*>("-of"), const_cast<char*>("COG"), const_cast<char*>("-co"),
                    const_cast<char*>("BLOCKSIZE=256"), nullptr};
    GDALTranslateOptions* o = GDALTranslateOptionsNew(argv, nullptr);
    GDALClose(GDALTranslate(cog.c_str(), src, o, nullptr));
    GDALTranslateOptionsFree(o);
    GDALClose(src);
    return cog;
}

// Stops a service when the test ends, whatever happens.
struct Stopper {
    std::string command;
    ~Stopper() { runShell(command); }
};

}  // namespace

TEST(CliRemote, ScanOverHttpRangeRequestsMatchesTheLocalFile) {
    if (!haveProgram("nginx")) {
        if (skipMissingTools()) GTEST_SKIP() << "nginx is not installed";
        FAIL() << "nginx is not installed: run scripts/install-deps.sh (or set RISKMAP_SKIP_MISSING_TOOLS=1)";
    }
    TempDir dir, state;
    std::string cog = cogScene(dir);
    const std::string port = std::to_string(20000 + ::getpid() % 20000);
    auto start = runShell(kScripts + "/services/nginx-local.sh start " + dir.path() + " " + state.path() + " " + port);
    ASSERT_EQ(start.exitCode, 0) << start.err;
    Stopper stop{kScripts + "/services/nginx-local.sh stop " + state.path()};
    TempDir out;
    auto local = runRiskmap({"scan", cog, "-o", out.file("local.geojson"), "-q", "--tile-size", "256"});
    ASSERT_EQ(local.exitCode, 0) << local.err;
    const std::string url = "/vsicurl/http://127.0.0.1:" + port + "/scene.tif";
    auto remote = runRiskmap({"scan", url, "-o", out.file("remote.geojson"), "-q", "--tile-size", "256"});
    ASSERT_EQ(remote.exitCode, 0) << remote.err;
    EXPECT_EQ(readFile(out.file("remote.geojson")), readFile(out.file("local.geojson")));
    EXPECT_GT(readLayer(out.file("local.geojson")).features.size(), 20u);
    // GDAL read the COG with HTTP range requests (206), not a whole download.
    auto log = runShell("cat " + state.path() + "/logs/access.log " + state.path() + "/log/access.log 2>/dev/null");
    EXPECT_NE(log.out.find(" 206 "), std::string::npos) << log.out.substr(0, 2000);
}

TEST(CliSlurm, ArrayOfShardsPlusMergeMatchesOneProcess) {
    if (!haveProgram("slurmctld") || !haveProgram("munged") || ::geteuid() != 0) {
        if (skipMissingTools()) GTEST_SKIP() << "needs root and slurm-wlm + munge";
        FAIL() << "needs root and slurm-wlm + munge: run as root after scripts/install-deps.sh (or set "
                  "RISKMAP_SKIP_MISSING_TOOLS=1)";
    }
    TempDir dir;
    std::string cog = cogScene(dir);
    auto single = runRiskmap({"scan", cog, "-o", dir.file("single.geojson"), "-q", "--tile-size", "256"});
    ASSERT_EQ(single.exitCode, 0) << single.err;

    // A short state path: munge's socket path must fit in 108 bytes.
    char tmpl[] = "/tmp/rmslurm-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    const std::string state = tmpl;
    auto start = runShell(kScripts + "/services/slurm-local.sh start " + state);
    ASSERT_EQ(start.exitCode, 0) << start.err;
    Stopper stop{kScripts + "/services/slurm-local.sh stop " + state + " && rm -rf " + state};
    const std::vector<std::string> env{"SLURM_CONF=" + state + "/slurm.conf"};

    auto submit = runShell(kScripts + "/slurm/riskmap-slurm.sh --shards 4 --output " + dir.file("merged.geojson") +
                               " --riskmap " + RISKMAP_BINARY + " --cpus-per-task 1 --mem 500 --workdir " +
                               dir.file("work") + " -- " + cog + " --tile-size 256",
                           env);
    ASSERT_EQ(submit.exitCode, 0) << submit.out << submit.err;
    auto idOf = [&](const std::string& key) {
        auto p = submit.out.find(key + "=");
        return p == std::string::npos ? std::string() : submit.out.substr(p + key.size() + 1, submit.out.find('\n', p) - p - key.size() - 1);
    };
    const std::string arrayJob = idOf("array_job"), mergeJob = idOf("merge_job");
    ASSERT_FALSE(arrayJob.empty());
    ASSERT_FALSE(mergeJob.empty());
    // Wait for the merge job, which runs only after all four shards succeeded.
    std::string state2;
    for (int i = 0; i < 240; ++i) {
        auto q = runShell("scontrol show job " + mergeJob + " | grep -o 'JobState=[A-Z_]*'", env);
        state2 = q.out;
        if (state2.find("COMPLETED") != std::string::npos || state2.find("FAILED") != std::string::npos ||
            state2.find("CANCELLED") != std::string::npos)
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    ASSERT_NE(state2.find("COMPLETED"), std::string::npos)
        << state2 << runShell("cat " + dir.file("work") + "/logs/* 2>&1 | tail -40").out;
    EXPECT_EQ(readFile(dir.file("merged.geojson")), readFile(dir.file("single.geojson")));
}

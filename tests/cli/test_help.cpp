// Every subcommand answers --help with exit code 0 and names its options.
#include <gtest/gtest.h>

#include "support/CliRunner.hpp"

using namespace riskmap::test;

TEST(CliHelp, TopLevel) {
    auto r = runRiskmap({"--help"});
    EXPECT_EQ(r.exitCode, 0);
    for (const char* s : {"info", "detectors", "scan", "eval", "merge", "report", "diff", "train"}) EXPECT_NE(r.out.find(s), std::string::npos) << s;
}

TEST(CliHelp, Version) {
    auto r = runRiskmap({"--version"});
    EXPECT_EQ(r.exitCode, 0);
    EXPECT_EQ(r.out.rfind("riskmap ", 0), 0u) << r.out;
}

TEST(CliHelp, Info) {
    auto r = runRiskmap({"info", "--help"});
    EXPECT_EQ(r.exitCode, 0);
    for (const char* s : {"--json", "--sensor", "--band"}) EXPECT_NE(r.out.find(s), std::string::npos) << s;
}

TEST(CliHelp, Detectors) {
    auto r = runRiskmap({"detectors", "--help"});
    EXPECT_EQ(r.exitCode, 0);
    EXPECT_NE(r.out.find("--json"), std::string::npos);
}

TEST(CliHelp, ScanListsDetectorOptionsFromTheirDeclarations) {
    auto r = runRiskmap({"scan", "--help"});
    EXPECT_EQ(r.exitCode, 0);
    for (const char* s : {"--tile-size", "--threads", "--ram", "--overwrite", "--quiet", "--json-progress",
                          "--config", "--set", "--band", "min_area_m2", "[m2]"})
        EXPECT_NE(r.out.find(s), std::string::npos) << s;
}

TEST(CliHelp, Report) {
    auto r = runRiskmap({"report", "--help"});
    EXPECT_EQ(r.exitCode, 0);
    for (const char* s : {"SCAN", "--output", "--overwrite", "--max-chips", "--chip-min-m", "--title", "0700"})
        EXPECT_NE(r.out.find(s), std::string::npos) << s;
}

TEST(CliHelp, Train) {
    auto r = runRiskmap({"train", "--help"});
    EXPECT_EQ(r.exitCode, 0);
    for (const char* s : {"--detector", "--images", "--labels", "--output", "--radius-m", "--folds", "--group-field", "--seed",
                          "--set", "model="})
        EXPECT_NE(r.out.find(s), std::string::npos) << s;
}

TEST(CliHelp, NoSubcommandIsAUsageError) {
    auto r = runRiskmap({});
    EXPECT_EQ(r.exitCode, 2);
    auto bad = runRiskmap({"frobnicate"});
    EXPECT_EQ(bad.exitCode, 2);
}

// docs/detectors.md is generated from the option declarations; when a detector's options change
// the file must be regenerated (build/riskmap detectors --markdown > docs/detectors.md).
TEST(CliHelp, DetectorDocsTableMatchesTheDeclarations) {
    auto r = runRiskmap({"detectors", "--markdown"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(r.out, readFile(std::string(RISKMAP_SOURCE_DIR) + "/docs/detectors.md"))
        << "regenerate: build/riskmap detectors --markdown > docs/detectors.md";
    EXPECT_NE(r.out.find("| `operating_point` |"), std::string::npos);
}

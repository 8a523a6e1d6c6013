#include "cli/Commands.hpp"
#include "core/Error.hpp"

namespace riskmap {

void addRiskOptions(CLI::App& cmd, RiskArgs& a) {
    cmd.add_option("--context", a.context,
                   "context layer and rule: NAME=PATH:RULE:WEIGHT with RULE inside, outside, within=METRES "
                   "or nearest[=METRES], e.g. school=schools.gpkg:within=1000:0.3 (repeatable)")
        ->type_name("SPEC");
    cmd.add_option("--risk-levels", a.levels, "risk at or above MEDIUM is medium, at or above HIGH is high")
        ->type_name("MEDIUM,HIGH")
        ->delimiter(',')
        ->expected(2);
    cmd.add_option("--grid", a.gridMetres, "also write a risk grid of cells this size (metres, equal-area)")
        ->type_name("METRES")
        ->check(CLI::Range(10.0, 1e7));
    cmd.add_option("--grid-shape", a.gridShape, "square or hex")->check(CLI::IsMember({"square", "hex"}))->capture_default_str();
    cmd.add_option("--publish", a.publish,
                   "also write a layer safe to share: coarse cells with enough detections, no coordinates, "
                   "images or paths")
        ->type_name("FILE");
    cmd.add_option("--publish-min-count", a.publishMinCount, "cells with fewer detections are withheld")
        ->check(CLI::Range(1, 1000000))
        ->capture_default_str();
    cmd.add_option("--publish-cell-m", a.publishCellMetres, "published cell size, metres")
        ->check(CLI::Range(1000.0, 1e7))
        ->capture_default_str();
}

void applyRiskOptions(const RiskArgs& a, ScanRequest& r) {
    for (const auto& c : a.context) r.risk.context.push_back(ContextSpec::parse(c));
    if (a.levels.size() == 2) {
        r.risk.medium = a.levels[0];
        r.risk.high = a.levels[1];
    }
    r.gridMetres = a.gridMetres;
    r.gridShape = a.gridShape;
    r.publishPath = a.publish;
    r.publishMinCount = a.publishMinCount;
    r.publishCellMetres = a.publishCellMetres;
}

}  // namespace riskmap

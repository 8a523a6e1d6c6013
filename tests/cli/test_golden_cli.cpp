// Fixed references: each detector on small real scenes from data/, compared with the layers
// committed in tests/golden/ semantically: features matched one to one by position (geodesic
// metres), strings equal, numbers within the tolerances stated in tests/golden/cases.json. The
// references change only through scripts/update-golden.sh, whose diff is reviewed.
#include <gtest/gtest.h>

#include <cmath>

#include "core/Json.hpp"
#include "geo/Geodesy.hpp"
#include "support/CliRunner.hpp"
#include "support/TestRasters.hpp"

using namespace riskmap;
using namespace riskmap::test;

namespace {

const std::string kGolden = std::string(RISKMAP_SOURCE_DIR) + "/tests/golden";

// Mean of the first ring's vertices: a position that moves only when the outline moves.
LonLat centreOf(const Json& feature) {
    const Json& g = feature.at("geometry");
    const Json& ring = g.at("type") == "Polygon" ? g.at("coordinates")[0] : g.at("coordinates")[0][0];
    LonLat c{0, 0};
    for (const auto& p : ring) {
        c.lon += p[0].get<double>() / static_cast<double>(ring.size());
        c.lat += p[1].get<double>() / static_cast<double>(ring.size());
    }
    return c;
}

// "" when the properties agree, else the first difference.
std::string compareProperties(const Json& got, const Json& want, const Json& tolerance) {
    for (auto it = want.begin(); it != want.end(); ++it) {
        const std::string& key = it.key();
        if (key == "id") continue;  // a hash of the position: covered by the position match
        if (!got.contains(key)) return key + " is missing";
        const Json& a = got[key];
        const Json& b = *it;
        if (b.is_number() && a.is_number()) {
            const double tol = tolerance.contains(key) ? tolerance[key].get<double>() : 1e-6 * std::max(1.0, std::fabs(b.get<double>()));
            const double rel = key == "area_m2" ? tol * std::fabs(b.get<double>()) : tol;
            if (std::fabs(a.get<double>() - b.get<double>()) > rel)
                return key + " " + dumpJson(a) + " vs " + dumpJson(b);
        } else if (dumpJson(a) != dumpJson(b)) {
            return key + " " + dumpJson(a) + " vs " + dumpJson(b);
        }
    }
    return "";
}

void compareWithGolden(const Json& c) {
    TempDir dir;
    const std::string out = dir.file("out.geojson");
    std::vector<std::string> args;
    for (const auto& a : c.at("args")) {
        std::string s = a.get<std::string>();
        for (auto [from, to] : {std::pair<std::string, std::string>{"{DATA}", std::string(RISKMAP_SOURCE_DIR) + "/data"}, {"{OUT}", out}})
            for (std::size_t p; (p = s.find(from)) != std::string::npos;) s.replace(p, from.size(), to);
        args.push_back(s);
    }
    args.push_back("-q");
    auto r = runRiskmap(args, dir.path());
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const Json got = parseJsonFile(out);
    const Json want = parseJsonFile(kGolden + "/" + c.at("name").get<std::string>() + ".geojson");
    const auto& g = got.at("features");
    const auto& w = want.at("features");
    ASSERT_EQ(g.size(), w.size()) << "feature count differs from the reference";
    const double radius = c.at("match_m").get<double>();
    std::vector<char> used(g.size(), 0);
    for (std::size_t i = 0; i < w.size(); ++i) {
        const LonLat wc = centreOf(w[i]);
        std::size_t best = g.size();
        double bestDistance = radius;
        for (std::size_t j = 0; j < g.size(); ++j) {
            const double d = geodesicDistance(centreOf(g[j]), wc);
            if (!used[j] && d <= bestDistance) best = j, bestDistance = d;
        }
        ASSERT_LT(best, g.size()) << "reference feature " << i << " (" << dumpJson(w[i].at("properties").at("id")) << ") has no match within " << radius << " m";
        used[best] = 1;
        EXPECT_EQ(compareProperties(g[best].at("properties"), w[i].at("properties"), c.at("tolerance")), "") << "reference feature " << i;
    }
}

}  // namespace

TEST(Golden, EveryCaseMatchesItsReference) {
    const Json cases = parseJsonFile(kGolden + "/cases.json");
    ASSERT_GE(cases.at("cases").size(), 3u);
    for (const auto& c : cases.at("cases")) {
        SCOPED_TRACE(c.at("name").get<std::string>());
        compareWithGolden(c);
    }
}

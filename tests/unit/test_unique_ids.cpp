#include <gtest/gtest.h>

#include <cinttypes>
#include <cstdio>
#include <random>
#include <set>
#include <string>

#include "features/FeatureAssembler.hpp"
#include "features/UniqueIds.hpp"

using namespace riskmap;

namespace {

// What FeatureAssembler did before UniqueIds: a set of every id.
std::string claimInSet(std::set<std::string>& ids, const std::string& id) {
    std::string unique = id;
    for (int k = 2; ids.count(unique); ++k) unique = id + "-" + std::to_string(k);
    ids.insert(unique);
    return unique;
}

std::string hexId(const std::string& prefix, std::uint64_t v) {
    char b[32];
    std::snprintf(b, sizeof b, "%012" PRIx64, static_cast<std::uint64_t>(v & 0xFFFFFFFFFFFFULL));
    return prefix + b;
}

}  // namespace

TEST(UniqueIds, GivesTheSameIdsAsASetOfEveryId) {
    std::mt19937_64 rng(7);
    UniqueIds compact("index-");
    std::set<std::string> reference;
    // Ids from a small value range so that repeats (shared anchors) and their suffixes are
    // common; some of another detector's form, some that are not hex at all.
    for (int i = 0; i < 200000; ++i) {
        const std::uint64_t v = rng() % 150000;
        std::string id = hexId("index-", v);
        if (i % 97 == 0) id = hexId("kilns-", v);  // same length, other prefix
        if (i % 101 == 0) id = "index-" + std::to_string(v % 50) + "zz";
        ASSERT_EQ(compact.claim(id), claimInSet(reference, id)) << i;
    }
    EXPECT_EQ(compact.size(), reference.size());
    // The values 0x...0 and 0xffffffffffff are ids like any other.
    for (std::uint64_t v : {std::uint64_t{0}, std::uint64_t{0xFFFFFFFFFFFFULL}}) {
        const std::string id = hexId("index-", v);
        EXPECT_EQ(compact.claim(id), claimInSet(reference, id));
        EXPECT_EQ(compact.claim(id), claimInSet(reference, id));
    }
}

TEST(UniqueIds, AnIdOfTheUsualFormCostsAtMostThirtyTwoBytes) {
    UniqueIds ids("index-");
    const int n = 300000;
    for (int i = 0; i < n; ++i)
        ids.claim(FeatureAssembler::stableId("index", "index", 88.0 + i * 1e-4, 22.0 - (i % 977) * 1e-4));
    EXPECT_EQ(ids.size(), static_cast<std::size_t>(n));
    EXPECT_LE(ids.heapBytes(), static_cast<std::size_t>(n) * 32 + 8192);  // a table 1/4 to 1/2 full
}

#include "tiling/ShardPlan.hpp"

#include <algorithm>
#include <charconv>
#include <cctype>
#include <cmath>

#include "core/Error.hpp"

namespace riskmap {

ShardSpec ShardSpec::parse(const std::string& text) {
    auto slash = text.find('/');
    auto digits = [](const std::string& s) {
        return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
    };
    if (slash == std::string::npos || !digits(text.substr(0, slash)) || !digits(text.substr(slash + 1)))
        throw UsageError("--shard '" + text + "' is not K/N, e.g. --shard 3/8");
    auto number = [&](const std::string& s) {
        long long v = 0;
        auto r = std::from_chars(s.data(), s.data() + s.size(), v);
        if (r.ec != std::errc() || v > 1000000)
            throw UsageError("--shard '" + text + "': K and N are at most 1000000");
        return static_cast<int>(v);
    };
    ShardSpec s;
    s.index = number(text.substr(0, slash));
    s.count = number(text.substr(slash + 1));
    if (s.count < 1 || s.index < 1 || s.index > s.count)
        throw UsageError("--shard " + text + ": K must be between 1 and N");
    return s;
}

ShardPlan::ShardPlan(const std::vector<TileGrid>& grids, const std::vector<double>& pixelAreaKm2, int count)
    : area_(static_cast<std::size_t>(std::max(1, count)) + 1, 0.0),
      tiles_(static_cast<std::size_t>(std::max(1, count)) + 1, 0) {
    double total = 0;
    for (std::size_t i = 0; i < grids.size(); ++i)
        total += static_cast<double>(grids[i].width()) * grids[i].height() * pixelAreaKm2[i];
    double before = 0;
    for (std::size_t i = 0; i < grids.size(); ++i) {
        shard_.emplace_back(grids[i].size(), 1);
        for (std::size_t t = 0; t < grids[i].size(); ++t) {
            const double a = static_cast<double>(grids[i].tile(t).core.area()) * pixelAreaKm2[i];
            // The shard whose share of the cumulative area holds the tile's midpoint.
            int k = 1;
            if (count > 1 && total > 0)
                k = 1 + std::min(count - 1, static_cast<int>(std::floor((before + a / 2) / total * count)));
            shard_[i][t] = k;
            area_[static_cast<std::size_t>(k)] += a;
            tiles_[static_cast<std::size_t>(k)]++;
            before += a;
        }
    }
}

std::size_t ShardPlan::tilesIn(int shard) const { return tiles_.at(static_cast<std::size_t>(shard)); }
double ShardPlan::areaIn(int shard) const { return area_.at(static_cast<std::size_t>(shard)); }

}  // namespace riskmap

#pragma once
// Sharding: a deterministic, area-balanced share of the tiles of all inputs for each of N
// processes, so that a scan can run as a Slurm job array and be merged afterwards.
#include <string>
#include <vector>

#include "tiling/TileGrid.hpp"

namespace riskmap {

struct ShardSpec {
    int index = 0;  // 1-based
    int count = 0;  // 0 = not sharded
    bool active() const { return count > 0; }
    std::string text() const { return std::to_string(index) + "/" + std::to_string(count); }
    // "K/N" with 1 <= K <= N; throws UsageError.
    static ShardSpec parse(const std::string& text);
};

class ShardPlan {
public:
    // tileAreaKm2[i]: area of one pixel of input i, in km2. Tiles are taken in input order, then
    // row-major, and cut into `count` runs of about equal core area, so that a shard reads
    // neighbouring tiles and shares their blocks.
    ShardPlan(const std::vector<TileGrid>& grids, const std::vector<double>& pixelAreaKm2, int count);

    // 1-based shard of a tile.
    int shardOf(std::size_t input, std::size_t tile) const { return shard_[input][tile]; }
    std::size_t tilesIn(int shard) const;
    double areaIn(int shard) const;

private:
    std::vector<std::vector<int>> shard_;
    std::vector<double> area_;
    std::vector<std::size_t> tiles_;
};

}  // namespace riskmap

#pragma once
// Everything a scan needs, fixed before it starts and passed down read-only.
#include <optional>
#include <string>
#include <vector>

#include "core/Json.hpp"
#include "raster/InputCatalog.hpp"
#include "risk/ContextScorer.hpp"
#include "tiling/ScanPipeline.hpp"
#include "tiling/ShardPlan.hpp"

namespace riskmap {

struct ScanRequest {
    InputRequest input;  // rasters, globs, folders, lists, STAC, band files

    std::string detector;           // empty: the recipe's, else index
    std::string configPath;         // recipe JSON, optional
    std::optional<Json> recipe;     // a recipe given in memory (merge rebuilds scans from journals)
    std::vector<std::string> sets;  // KEY=VALUE detector options, applied after the recipe

    std::string output;
    std::string outCrs;  // for .gpkg/.fgb; empty = CRS of the first input
    bool overwrite = false;
    unsigned fileMode = 0600;
    int coordinatePrecision = 7;
    // Outlines simplified within this many metres, topology kept; < 0 half a pixel, 0 exact.
    double simplifyMetres = -1;
    // Detections of overlapping scenes that overlap by this share of the smaller one are one
    // object; 0 keeps every scene's detections.
    double overlapMerge = 0.3;

    RiskOptions risk;  // context layers and risk levels (a recipe's "context" adds to these)
    double gridMetres = 0;  // --grid: aggregated layer of cells this size (0 = none)
    std::string gridShape = "square";
    std::string explainPath;  // --explain: every rejected candidate with its gate (sensitive)
    std::string publishPath;  // --publish: a coarse grid safe to share
    std::size_t publishMinCount = 5;
    double publishCellMetres = 5000;

    PipelineOptions pipeline;
    ShardSpec shard;           // --shard K/N: this process's share of the tiles
    bool resume = false;       // continue from OUT.journal
    bool keepJournal = false;  // keep OUT.journal after a successful scan
    std::vector<std::string> commandLine;  // recorded in the manifest
};

}  // namespace riskmap

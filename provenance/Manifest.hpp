#pragma once
// The provenance of a scan, written beside its layer as OUT.manifest.json: what was scanned,
// how, where each layer went, and what it cost. This is the one type that writes and reads the
// manifest; `scan` fills it, and `merge`, `eval`, `report`, `--config` and `diff` read it through
// it. Reading checks every key it uses and fails naming the file and the key.
//
// Schema versions: 1 (riskmap 0.1, no "manifest_version" key), 2 (adds it) and 3 (adds input
// acquisition dates, recorded --date and STAC item choices, and "kind": the manifests of `riskmap
// diff` and `scan --time-series`). All read.
#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/Json.hpp"
#include "core/JsonReader.hpp"
#include "geo/Geodesy.hpp"
#include "raster/InputCatalog.hpp"

namespace riskmap {

// The scan as requested: its inputs, input options, recipe and tiling. Enough to reopen the
// inputs (report chips), rebuild the run (merge, --config) and fingerprint it (journal).
struct RecordedRequest {
    InputRequest input;   // paths expanded (globs, folders, lists)
    Json recipe;          // {"detector": ..., "options": {...}}
    int tileSize = 0;

    Json toJson() const;
    static RecordedRequest fromJson(const JsonReader& r);
};

struct Manifest {
    static constexpr int kVersion = 3;

    struct Output {
        std::string path, format, crs, fileMode = "0600";
        std::size_t features = 0;
        int coordinatePrecision = 7;
        double overlapMerge = 0.3;
        std::optional<double> simplifyMetres;  // < 0: half a pixel; absent before it existed (exact edges)
        // --out-crs as given, "" for the first input's; absent in manifests written before it was kept.
        std::optional<std::string> outCrs;
    };
    struct Layer {
        std::string role, path, layer;  // role: detections, grid, footprints, nodata_gaps
    };
    struct Input {
        std::string source;
        std::vector<LonLat> footprint;  // outer ring, lon/lat
        Json description;               // InputCatalog::describe plus tiles and detections
        std::string acquired;           // YYYY-MM-DD, "" when unknown (or before version 3)
    };
    // One scan compared by `riskmap diff`.
    struct DiffSide {
        std::string path;  // the scan's main layer, as given (relative to workingDir)
        std::string date;  // its acquisition date when all its scenes share one, else ""
        std::string detector;
        std::size_t features = 0;
    };
    struct Diff {
        DiffSide before, after;
        double radiusMetres = 0, minScore = 0;
        Json counts;  // {"new", "gone", "persists", "unknown", "below_min_score"}
    };

    int version = kVersion;
    // "scan" (scan, merge), "diff" (riskmap diff) or "series" (scan --time-series). Only a scan's
    // manifest holds a request; the others hold what they compared.
    std::string kind = "scan";
    std::string riskmapVersion;
    std::vector<std::string> commandLine;
    std::string workingDir;  // relative input paths in `request` are relative to it
    std::string startedUtc, finishedUtc;
    Output output;
    std::vector<Layer> layers;
    Json recipe;
    RecordedRequest request;
    std::string detectorName;
    double haloMetres = 0;
    std::optional<Json> detectorResources;  // files the detector read (a verifier model) and their hashes
    Json risk;                    // RiskOptions::toJson
    Json grid;                    // {"cell_m", "shape", "crs", "cells", "coverage_cell_px"}
    std::optional<Json> publish;  // {"path", "cell_m", "min_count", "cells"}
    std::optional<Json> explain;  // {"path", "rejected"}: scan --explain
    std::vector<Input> inputs;
    std::optional<Diff> diff;     // kind "diff"
    std::optional<Json> series;   // kind "series": {"list", "dates": [...], "diffs": [...]}
    std::vector<std::string> warnings;
    // Of them, what the scan's pixel sample showed ("source: note": clipped bands, a wrong
    // scale). A merge reads no pixel and takes these from its shards.
    std::vector<std::string> sampleWarnings;
    Json tiling, counts, timings;  // run statistics, for people (not read back)

    static std::string pathFor(const std::string& output) { return output + ".manifest.json"; }

    Json toJson() const;
    static Manifest fromJson(const Json& j, const std::string& origin);
    // Reads OUT.manifest.json; DataError naming the file when it is missing or damaged.
    static Manifest read(const std::string& path);
    // The layers (role, absolute path) an earlier run wrote to `output`, from its manifest;
    // empty when there is none or it cannot be read (nothing is then known to be that run's).
    static std::vector<std::pair<std::string, std::string>> earlierLayers(
        const std::string& output);

    const Layer* layer(const std::string& role) const;
    // Sources whose files `catalog` (the inputs reopened now) finds with another size or
    // modification time than this run recorded: replaced since the scan. Empty for manifests
    // that predate the record.
    std::set<std::string> changedInputs(const InputCatalog& catalog) const;
    bool isScan() const { return kind == "scan"; }
    // `request` with relative paths made absolute from `workingDir`.
    InputRequest inputsAsRun() const;
    // The scan's rasters opened again (inputsAsRun), each under the source label the scan
    // recorded. Throws as InputCatalog::open does.
    InputCatalog reopenInputs() const;
    // The same, leaving out each input that cannot be opened now (moved, deleted, damaged), with
    // why in `skipped`; DataError when none can.
    InputCatalog reopenReadableInputs(std::vector<std::string>& skipped) const;

    // The --grid cell size the scan ran with (0: none) and its --grid-shape.
    double gridCellMetres() const;
    std::string gridShape() const;
    // A path recorded relative to the folder the run was in, made absolute.
    std::string resolve(const std::string& path) const;
};

}  // namespace riskmap

#pragma once
// Where a scan looked and saw clearly: each scene's footprint minus its nodata gaps (cloud masks,
// dataMask, nodata), from the footprint and gap layers its manifest lists. `riskmap diff` may call
// an object new only where the earlier scan saw clearly, and gone only where the later one did;
// `riskmap eval` does not count truth the scan could not see.
#include <ogr_geometry.h>

#include <string>
#include <vector>

#include "provenance/Manifest.hpp"

namespace riskmap {

class ScanCoverage {
public:
    // `mainPath`: the scan's main layer (its companion layers sit beside it). Notes say what
    // cannot be told (a scan that recorded no gaps).
    ScanCoverage(const Manifest& manifest, const std::string& mainPath, std::vector<std::string>& notes);

    enum class Sight { Clear, NoData, Outside };
    // Clear when the place lies inside the clearly seen area (a share of at most 1e-3 of it
    // outside, for rounding); NoData when inside the footprints but not clear; else Outside.
    Sight look(const OGRGeometry& place) const;
    // True when scene `source` saw nothing clearly within `metres` of `at` (all nodata gaps).
    // Gaps are drawn by coverage cells of 32 px less than half valid, so a place inside a gap
    // cell may sit on valid pixels: `metres` of 1.5 cells keeps such places next to seen ground.
    bool blindAround(const std::string& source, const LonLat& at, double metres) const;
    // The acquisition date of the scene that saw the place (clearly, else at all); "" when none
    // is known.
    std::string dateAt(const OGRGeometry& place) const;
    std::string dateOf(const std::string& source) const;
    // The date every scene shares, "" when they differ or one is unknown.
    std::string commonDate() const;
    // Whether the two scans' footprints share any ground.
    bool overlaps(const ScanCoverage& other) const;
    bool hasGaps() const { return hasGaps_; }

private:
    struct Scene {
        std::string source, date;
        OGRGeometryUniquePtr footprint, clear;  // lon/lat
        OGRPreparedGeometryUniquePtr clearIndexed;  // `clear` with GEOS's index: eval asks per truth object
    };
    void readLayers(const Manifest& m, const std::string& mainPath, std::vector<std::string>& notes);

    std::vector<Scene> scenes_;
    OGRGeometryUniquePtr footprints_, clear_;  // unions over the scenes
    bool hasGaps_ = false;
};

// A companion layer's file: beside the main layer, whatever folder the scan ran in.
std::string besideMain(const std::string& mainPath, const std::string& recordedPath);

}  // namespace riskmap

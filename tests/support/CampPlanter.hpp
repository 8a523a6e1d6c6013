#pragma once
// Plants synthetic camps into copies of the real Sundarbans Sentinel-2 scene, for measuring the
// clearing detector. Camp pixels are copied from real bare or built patches of the same scene
// (Sen2Cor's own "not vegetated" class, chosen independently of the detector) and blended in by
// sub-pixel coverage, so spectra and edge mixing are real. Seeded and reproducible.
#include <cstdint>
#include <string>
#include <vector>

#include "geo/Geodesy.hpp"

namespace riskmap::test {

struct PlantOptions {
    int camps = 15;
    std::uint64_t seed = 1;
    double minHa = 0.1, maxHa = 3.0;   // log-uniform sizes
    double bankShare = 0.5;            // share of camps on a river bank
    double minSeparationM = 400;
    double remoteFromOutsideM = 1000;  // placed this far inside the reserve
};

struct PlantedCamp {
    int id = 0;
    std::string kind;         // "bank" or "inland"
    double areaLandM2 = 0;    // land actually covered (water is never painted)
    LonLat centroid;          // of the covered land
    bool touchesWater = false;
    std::vector<LonLat> polygon;  // the planned outline
};

// Reads Sentinel-2_L2A_{B02,B03,B04,B08,B11,B12}_Raw.tiff, the scene classification rendering
// and reserve.geojson from sceneDir; writes planted copies of the band files into outDir.
std::vector<PlantedCamp> plantCamps(const std::string& sceneDir, const std::string& outDir, const PlantOptions& options);

// Truth as points at each camp's covered-land centroid, with its outline as WKT. Camps below
// `difficultBelowM2` are marked difficult (don't-care) so recall counts only the larger ones.
void writeCampTruth(const std::string& path, const std::vector<PlantedCamp>& camps, double difficultBelowM2);

}  // namespace riskmap::test

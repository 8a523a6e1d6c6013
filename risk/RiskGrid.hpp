#pragma once
// Aggregated risk: square or hexagonal cells of a fixed size in an equal-area projection
// (EPSG:6933, WGS 84 / NSIDC EASE-Grid 2.0 Global), each with the number of detections, their
// density over the area actually scanned, the highest score and the mean risk. Cells the scan
// did not cover are left out, never counted as zero.
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "features/FeatureRecord.hpp"
#include "raster/RasterInput.hpp"
#include "tiling/Coverage.hpp"

namespace riskmap {

class RiskGrid {
public:
    enum class Shape { Square, Hexagon };
    static Shape parseShape(const std::string& s);
    static constexpr const char* kCrs = "EPSG:6933";
    // EPSG:6933's map ends at the antimeridian, x = +-17,367,530 m: square cells are cut there.
    static constexpr double kMapHalfWidth = 17367530.0;

    // cellMetres: the side of a square, or the width across flats of a hexagon.
    RiskGrid(double cellMetres, Shape shape);

    // Area scanned, from valid pixels per coverage cell of an input.
    void addCoverage(const RasterInput& input, const CoverageMap& coverage);
    void addFeatures(const std::vector<FeatureRecord>& features);
    // What a grid takes of a feature: where it is, its score and risk.
    struct Point {
        LonLat centroid;
        double score = 0, risk = 0;
    };
    void addPoints(const std::vector<Point>& points);

    struct Cell {
        long long i = 0, j = 0;
        std::size_t count = 0;
        double maxScore = 0;
        double sumRisk = 0;
        double areaKm2 = 0;
        double meanRisk() const { return count ? sumRisk / static_cast<double>(count) : 0.0; }
        double density() const { return areaKm2 > 0 ? static_cast<double>(count) / areaKm2 : 0.0; }
    };
    // Scanned cells (and any cell holding a detection), ordered by row then column. Cells with
    // fewer than minCount detections are left out.
    std::vector<Cell> cells(std::size_t minCount = 0) const;
    // Published cells nest: 5000 m times a power of two.
    static bool isPublishedCellSize(double metres);
    // The published size for a wish: the smallest of those sizes at least `metres`.
    static double publishedCellSize(double metres);
    // A cell's outline in EPSG:6933 metres (closed implicitly); a square cell across the
    // antimeridian ends at it, each side's part a cell of its own.
    std::vector<MapPoint> outline(const Cell& c) const;
    double cellMetres() const { return size_; }
    Shape shape() const { return shape_; }

private:
    std::pair<long long, long long> cellOf(double x, double y) const;

    double size_;
    Shape shape_;
    std::map<std::pair<long long, long long>, Cell> cells_;  // keyed by (j, i)
};

}  // namespace riskmap

#pragma once
// QGIS styles (QML) for riskmap's layers, so they open styled: detections and grid cells
// graduated by risk, with labels; footprints as outlines; nodata gaps hatched.
#include <string>

namespace riskmap {

class QgisStyle {
public:
    // Detections: graduated fill by `risk` (low / medium / high at the given breaks), labelled
    // with class and risk.
    static std::string detections(double medium, double high);
    // Grid cells: graduated by `mean_risk`, labelled with the count.
    static std::string grid(double medium, double high);
    // Published cells: graduated by `count` (no per-detection data there).
    static std::string published();
    // Changes between two scans (riskmap diff): one colour per `change` (new, gone, persists,
    // unknown hatched), labelled with the change and risk.
    static std::string changes();
    static std::string footprints();
    static std::string gaps();
};

}  // namespace riskmap

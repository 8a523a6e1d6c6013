#include "features/CoverageLayers.hpp"

#include <ogr_spatialref.h>
#include <opencv2/imgproc.hpp>

#include <memory>

#include "core/Error.hpp"
#include "detection/imgproc/PixelOutline.hpp"
#include "geo/CoordinateMapper.hpp"

namespace riskmap {

MapPolygons CoverageLayers::footprint(const RasterInput& input, const std::string& targetCrs) {
    CoordinateMapper mapper(input.crsWkt(), input.geoTransform(), targetCrs);
    std::vector<MapPoint> ring;
    const double w = input.width(), h = input.height();
    const int n = 16;
    auto edge = [&](double x0, double y0, double x1, double y1) {
        for (int i = 0; i < n; ++i) ring.push_back({x0 + (x1 - x0) * i / n, y0 + (y1 - y0) * i / n});
    };
    edge(0, 0, 0, h);
    edge(0, h, w, h);
    edge(w, h, w, 0);
    edge(w, 0, 0, 0);
    mapper.pixelsToTarget(ring);
    return {{ring}};
}

MapPolygons CoverageLayers::gaps(const RasterInput& input, const CoverageMap& cov, const std::string& targetCrs) {
    MapPolygons out;
    if (cov.columns() == 0) return out;
    cv::Mat mask(cov.rows(), cov.columns(), CV_8U, cv::Scalar(0));
    for (int y = 0; y < cov.rows(); ++y)
        for (int x = 0; x < cov.columns(); ++x)
            if (2 * cov.valid(x, y) < cov.capacity(x, y)) mask.at<std::uint8_t>(y, x) = 255;
    cv::Mat labels, stats, cents;
    const int n = cv::connectedComponentsWithStats(mask, labels, stats, cents, 8, CV_32S);
    CoordinateMapper mapper(input.crsWkt(), input.geoTransform(), targetCrs);
    for (int l = 1; l < n; ++l) {
        cv::Rect box(stats.at<int>(l, cv::CC_STAT_LEFT), stats.at<int>(l, cv::CC_STAT_TOP), stats.at<int>(l, cv::CC_STAT_WIDTH),
                     stats.at<int>(l, cv::CC_STAT_HEIGHT));
        cv::Mat comp = labels(box) == l;
        MultiPolygon mp = traceOutline(comp, box.tl());
        for (const auto& part : mp.parts) {
            std::vector<std::vector<MapPoint>> rings;
            std::vector<const Ring*> all{&part.outer};
            for (const auto& hole : part.holes) all.push_back(&hole);
            for (const Ring* r : all) {
                std::vector<MapPoint> pts;
                for (const auto& p : *r)
                    pts.push_back({std::min<double>(p.x * kCoverageCell, input.width()), std::min<double>(p.y * kCoverageCell, input.height())});
                mapper.pixelsToTarget(pts);
                rings.push_back(std::move(pts));
            }
            out.push_back(std::move(rings));
        }
    }
    return out;
}

}  // namespace riskmap

#include "report/ChipRenderer.hpp"

#include <ogr_spatialref.h>
#include <cpl_vsi.h>
#include <gdal_priv.h>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <memory>
#include <optional>

#include "core/Error.hpp"
#include "geo/CoordinateMapper.hpp"
#include "geo/GdalRuntime.hpp"
#include "raster/PngImage.hpp"

namespace riskmap {

namespace {

// A round length near a quarter of the chip width: 10, 20, 50, 100 ... metres.
double niceLength(double metres) {
    const double target = metres / 4;
    double best = 10;
    for (double base = 1; base <= 1e6; base *= 10)
        for (double m : {1.0, 2.0, 5.0})
            if (base * m <= target) best = base * m;
    return best;
}

std::string lengthText(double m) {
    char b[32];
    if (m >= 1000)
        std::snprintf(b, sizeof b, "%g km", m / 1000);
    else
        std::snprintf(b, sizeof b, "%g m", m);
    return b;
}

// One linear stretch for all channels, so colours keep their balance and chips compare. Display
// renderings are shown as they are; reflectance gets the 1st-99th percentile of the valid
// pixels pooled over the channels, at least 0.1 wide, so a uniform window does not turn noise
// into colour.
std::pair<float, float> stretchRange(const std::vector<cv::Mat>& planes, const cv::Mat& valid, bool display) {
    if (display) return {0.0f, 1.0f};
    std::vector<float> v;
    for (const auto& band : planes)
        for (int y = 0; y < band.rows; ++y)
            for (int x = 0; x < band.cols; ++x)
                if (valid.at<std::uint8_t>(y, x)) v.push_back(band.at<float>(y, x));
    if (v.empty()) return {0.0f, 1.0f};
    std::sort(v.begin(), v.end());
    float lo = v[v.size() / 100], hi = v[std::min(v.size() - 1, v.size() * 99 / 100)];
    if (hi - lo < 0.1f) {
        const float mid = (lo + hi) / 2;
        lo = std::max(0.0f, mid - 0.05f);
        hi = lo + 0.1f;
    }
    return {lo, hi};
}

cv::Mat toByte(const cv::Mat& band, const cv::Mat& valid, std::pair<float, float> range) {
    cv::Mat out(band.size(), CV_8U, cv::Scalar(40));
    const float span = range.second - range.first;
    for (int y = 0; y < band.rows; ++y)
        for (int x = 0; x < band.cols; ++x)
            if (valid.at<std::uint8_t>(y, x))
                out.at<std::uint8_t>(y, x) =
                    cv::saturate_cast<std::uint8_t>((band.at<float>(y, x) - range.first) / span * 255.0f);
    return out;
}

}  // namespace

ChipRenderer::ChipRenderer(const RasterInput& input)
    : input_(input), reader_(input), toLonLat_(input.crsWkt(), input.geoTransform()) {
    auto has = [&](const char* n) { return input.bandIndex(n) >= 0; };
    if (has("red") && has("green") && has("blue")) {
        bands_ = {input.bandIndex("red"), input.bandIndex("green"), input.bandIndex("blue")};
        bandText_ = "red, green, blue (true colour)";
    } else if (has("nir") && has("red") && has("green")) {
        bands_ = {input.bandIndex("nir"), input.bandIndex("red"), input.bandIndex("green")};
        bandText_ = "nir, red, green (false colour: vegetation is red)";
    } else {
        bands_ = {0};
        bandText_ = input.bands().front().name + " (grey)";
    }
    OGRSpatialReference ll = epsgSpatialRef(4326), src;
    src.importFromWkt(input.crsWkt().c_str());
    src.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    fromLonLat_.reset(OGRCreateCoordinateTransformation(&ll, &src));
    if (!fromLonLat_) throw DataError("cannot map lon/lat onto '" + input.origin() + "'");
}

ChipRenderer::~ChipRenderer() = default;

// A lon/lat point in raster pixels. A lon/lat raster may run past lon 180 (179.99 to 180.01)
// while the layer cuts objects at the line: of the point and its turns east and west, the one
// nearest the raster's columns (an audit: such an object was 'off its raster', no chip).
std::optional<MapPoint> ChipRenderer::toPixel(const LonLat& p) const {
    std::optional<MapPoint> best;
    auto away = [&](const MapPoint& q) { return q.x < 0 ? -q.x : q.x > input_.width() ? q.x - input_.width() : 0.0; };
    for (const double turn : {0.0, 360.0, -360.0}) {
        double x = p.lon + turn, y = p.lat;
        if (!fromLonLat_->Transform(1, &x, &y)) continue;
        const MapPoint q = input_.geoTransform().inverse(x, y);
        if (!best || away(q) < away(*best)) best = q;
        if (away(*best) == 0) break;
    }
    return best;
}

std::vector<unsigned char> ChipRenderer::render(const std::vector<std::vector<LonLat>>& rings,
                                                const std::vector<std::string>& caption, double minMetres, ChipInfo& info) {
    // Outline in raster pixels.
    std::vector<std::vector<cv::Point2d>> px;
    double x0 = 1e300, y0 = 1e300, x1 = -1e300, y1 = -1e300;
    for (const auto& r : rings) {
        std::vector<cv::Point2d> pr;
        for (const auto& p : r) {
            const std::optional<MapPoint> found = toPixel(p);
            if (!found) continue;
            const MapPoint q = *found;
            pr.emplace_back(q.x, q.y);
            x0 = std::min(x0, q.x);
            x1 = std::max(x1, q.x);
            y0 = std::min(y0, q.y);
            y1 = std::max(y1, q.y);
        }
        px.push_back(std::move(pr));
    }
    if (x1 < x0) return {};
    const double cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
    const double extent = std::max(x1 - x0, (y1 - y0) * input_.gsdY() / input_.gsdX());
    int side = static_cast<int>(std::ceil(std::max(3 * extent, minMetres / input_.gsdX())));
    side = std::max(16, std::min(side, 2048));
    // A raster smaller than the chip gives all it has: the window is clipped to it (a 10 px
    // raster's 16 px window was refused as a tiling bug and lost the whole report; an audit).
    const int sw = std::min(side, input_.width()), sh = std::min(side, input_.height());
    // North up and east right whatever the raster's row and column order: south-up and east-left
    // rasters gave mirrored chips (a sweep of hostile inputs), the scan itself being right. The
    // window is placed in that orientation too, so that it covers the same ground.
    const auto gt = input_.geoTransform().coefficients();
    const bool flipX = gt[1] < 0, flipY = gt[5] > 0;
    auto place = [](double c, int size, int span, bool flip) {
        const double oriented = flip ? size - c : c;
        const int at = std::max(0, std::min(static_cast<int>(std::lround(oriented - span / 2.0)), size - span));
        return flip ? size - span - at : at;
    };
    const int wx = place(cx, input_.width(), sw, flipX), wy = place(cy, input_.height(), sh, flipY);
    if (cx < 0 || cy < 0 || cx > input_.width() || cy > input_.height()) return {};
    Window w{wx, wy, sw, sh};
    TileImage t;
    reader_.read(w, w, bands_, t);
    bool display = true;
    for (int b : bands_) display = display && input_.bands()[static_cast<std::size_t>(b)].display;
    for (std::size_t k = 0; k < t.planes.size(); ++k) t.plane(k);  // convert every band
    const auto range = stretchRange(t.planes, t.valid, display);
    std::vector<cv::Mat> channels;
    for (int k = static_cast<int>(bands_.size()) - 1; k >= 0; --k)
        channels.push_back(toByte(t.plane(static_cast<std::size_t>(k)), t.valid, range));
    if (channels.size() == 1) channels = {channels[0], channels[0], channels[0]};
    cv::Mat img;
    cv::merge(channels, img);  // OpenCV is BGR: bands were pushed in reverse
    if (flipX || flipY) cv::flip(img, img, flipX && flipY ? -1 : flipX ? 1 : 0);
    // Small windows are enlarged by whole pixels, so reviewers see the data's real pixels; large
    // ones (sub-metre imagery) are reduced to keep a report of hundreds of chips small.
    double scale = 1;
    const int longest = std::max(sw, sh);
    if (longest < 384)
        scale = std::floor(384.0 / longest);
    else if (longest > 512)
        scale = 512.0 / longest;
    if (scale != 1)
        cv::resize(img, img, cv::Size(), scale, scale, scale > 1 ? cv::INTER_NEAREST : cv::INTER_AREA);
    // A strip of a raster a few pixels wide: grey beside it, so that the scale bar and caption fit.
    if (img.cols < 384) cv::copyMakeBorder(img, img, 0, 0, 0, 384 - img.cols, cv::BORDER_CONSTANT, cv::Scalar(128, 128, 128));

    for (const auto& r : px) {
        std::vector<cv::Point> pts;
        for (const auto& p : r) {
            const double rx = flipX ? sw - (p.x - wx) : p.x - wx, ry = flipY ? sh - (p.y - wy) : p.y - wy;
            pts.emplace_back(static_cast<int>(std::lround(rx * scale)), static_cast<int>(std::lround(ry * scale)));
        }
        if (pts.size() < 2) continue;
        cv::polylines(img, pts, true, cv::Scalar(20, 20, 20), 4, cv::LINE_AA);
        cv::polylines(img, pts, true, cv::Scalar(0, 230, 255), 2, cv::LINE_AA);
    }
    // Scale bar, bottom left.
    const double widthM = sw * input_.gsdX();
    const double bar = niceLength(widthM);
    const int barPx = static_cast<int>(std::lround(bar / input_.gsdX() * scale));
    const int bx = 12, by = img.rows - 16;
    cv::rectangle(img, cv::Point(bx - 6, by - 22), cv::Point(bx + barPx + 70, by + 8), cv::Scalar(255, 255, 255), cv::FILLED);
    cv::rectangle(img, cv::Point(bx, by - 4), cv::Point(bx + barPx, by), cv::Scalar(0, 0, 0), cv::FILLED);
    cv::putText(img, lengthText(bar), cv::Point(bx, by - 8), cv::FONT_HERSHEY_SIMPLEX, 0.45, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
    info.centre = toLonLat_.pixelToLonLat(cx, cy);
    info.widthMetres = widthM;
    info.scaleBarMetres = bar;
    info.bands = bandText_;
    // Caption below the image, so no pixel of evidence is hidden: the given lines, the centre
    // and the bands shown. A chip saved on its own still says what and where it is.
    char where[96];
    std::snprintf(where, sizeof where, "centre %.5f %c, %.5f %c", std::fabs(info.centre.lat), info.centre.lat >= 0 ? 'N' : 'S',
                  std::fabs(info.centre.lon), info.centre.lon >= 0 ? 'E' : 'W');
    std::vector<std::string> lines = caption;
    lines.push_back(where);
    lines.push_back(bandText_);
    const double fontScale = 0.42;
    const int lineHeight = 17;
    cv::Mat framed(img.rows + 8 + lineHeight * static_cast<int>(lines.size()), img.cols, img.type(), cv::Scalar(255, 255, 255));
    img.copyTo(framed(cv::Rect(0, 0, img.cols, img.rows)));
    int ty = img.rows + 4;
    for (std::string line : lines) {
        // Shorten to the chip's width; the report lists the full text.
        int base = 0;
        while (line.size() > 4 && cv::getTextSize(line, cv::FONT_HERSHEY_SIMPLEX, fontScale, 1, &base).width > framed.cols - 10)
            line = line.substr(0, line.size() - 4) + "...";
        ty += lineHeight;
        cv::putText(framed, line, cv::Point(5, ty - 4), cv::FONT_HERSHEY_SIMPLEX, fontScale, cv::Scalar(10, 10, 10), 1,
                    cv::LINE_AA);
    }
    return encodePng(framed);
}

}  // namespace riskmap

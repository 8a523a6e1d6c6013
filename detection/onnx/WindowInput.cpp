#include "detection/onnx/WindowInput.hpp"

#include <algorithm>
#include <cmath>

#include "core/Error.hpp"

namespace riskmap::onnx {

namespace {

// Values of pixels [lx, lx + n) of local row ly: riskmap's reflectance, or the stored values.
void valueRow(const TileImage& t, std::size_t plane, bool raw, int ly, int lx, int n, double* out) {
    std::vector<float> scratch(static_cast<std::size_t>(n));
    if (raw && plane < t.raw.size() && !t.raw[plane].values.empty()) {
        cv::Mat dst(1, n, CV_64F, out);
        t.raw[plane].values.row(ly).colRange(lx, lx + n).convertTo(dst, CV_64F);
        return;
    }
    const float* v = t.row(plane, ly, lx, n, scratch.data());
    for (int i = 0; i < n; ++i) out[i] = v[i];
}

struct Tap {
    int k;  // raster pixel along the axis
    double w;
};

// Per model pixel of [m0, m0 + n): the raster pixels it draws from. Area averaging when the
// model pixel is larger (s >= 1), bilinear at its centre when smaller; none beyond the raster.
std::vector<std::vector<Tap>> taps(int m0, int n, int modelExtent, int rasterExtent, double s) {
    std::vector<std::vector<Tap>> out(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        const int gi = m0 + i;
        if (gi < 0 || gi >= modelExtent) continue;
        auto& t = out[static_cast<std::size_t>(i)];
        if (s >= 1) {
            const double a = gi * s, b = (gi + 1) * s;
            for (int k = static_cast<int>(std::floor(a)); k < static_cast<int>(std::ceil(b)); ++k)
                if (k >= 0 && k < rasterExtent) t.push_back({k, std::min(b, k + 1.0) - std::max(a, static_cast<double>(k))});
        } else {
            const double c = (gi + 0.5) * s - 0.5;
            const int k0 = static_cast<int>(std::floor(c));
            const double f = c - k0;
            t.push_back({std::clamp(k0, 0, rasterExtent - 1), 1 - f});
            t.push_back({std::clamp(k0 + 1, 0, rasterExtent - 1), f});
        }
    }
    return out;
}

float modelValue(const ModelCard& card, std::size_t b, double v) {
    double x = card.normalise(b, v);
    if (card.clip) x = std::clamp(x, card.clipLo, card.clipHi);
    return static_cast<float>(x);
}

float* planeRow(cv::Mat& blob, std::size_t b, int y) {
    return blob.ptr<float>(0, static_cast<int>(b), y);
}

void fillNative(const TileImage& tile, const ModelCard& card, const std::vector<std::size_t>& planes, const Window& m,
                WindowInput& in) {
    const Window r = m.intersect(Window{0, 0, tile.rasterWidth, tile.rasterHeight});
    std::vector<double> vals(static_cast<std::size_t>(std::max(0, r.w)));
    for (int y = r.y; y < r.bottom(); ++y) {
        const int ly = tile.localY(y), lx = tile.localX(r.x);
        const std::uint8_t* valid = tile.valid.ptr<std::uint8_t>(ly) + lx;
        std::uint8_t* vOut = in.valid.ptr<std::uint8_t>(y - m.y) + (r.x - m.x);
        for (int i = 0; i < r.w; ++i) vOut[i] = valid[i] ? 1 : 0;
        for (std::size_t b = 0; b < planes.size(); ++b) {
            valueRow(tile, planes[b], card.rawValues, ly, lx, r.w, vals.data());
            float* dst = planeRow(in.blob, b, y - m.y) + (r.x - m.x);
            for (int i = 0; i < r.w; ++i)
                if (valid[i]) dst[i] = modelValue(card, b, vals[static_cast<std::size_t>(i)]);
        }
    }
}

// Horizontal pass over raster rows [y0, y1) of one band: per row and model column, the
// weighted sums of value x validity, of validity, and of weight.
struct RowSums {
    cv::Mat value, validW, weight;  // CV_64F, rows x model width
};

RowSums horizontal(const TileImage& tile, const ModelCard& card, std::size_t plane, const std::vector<std::vector<Tap>>& tx,
                   const Window& src) {
    const int n = static_cast<int>(tx.size());
    RowSums s{cv::Mat::zeros(src.h, n, CV_64F), cv::Mat::zeros(src.h, n, CV_64F), cv::Mat::zeros(src.h, n, CV_64F)};
    std::vector<double> vals(static_cast<std::size_t>(src.w));
    for (int r = 0; r < src.h; ++r) {
        const int ly = tile.localY(src.y + r), lx = tile.localX(src.x);
        valueRow(tile, plane, card.rawValues, ly, lx, src.w, vals.data());
        const std::uint8_t* valid = tile.valid.ptr<std::uint8_t>(ly) + lx;
        double *value = s.value.ptr<double>(r), *validW = s.validW.ptr<double>(r), *weight = s.weight.ptr<double>(r);
        for (int u = 0; u < n; ++u)
            for (const Tap& t : tx[static_cast<std::size_t>(u)]) {
                const int i = t.k - src.x;
                const double w = valid[i] ? t.w : 0.0;
                value[u] += w * vals[static_cast<std::size_t>(i)];
                validW[u] += w;
                weight[u] += t.w;
            }
    }
    return s;
}

void fillResampled(const TileImage& tile, const ModelCard& card, const std::vector<std::size_t>& planes, const WindowGrid& g,
                   const Window& m, const Window& src, WindowInput& in) {
    const auto tx = taps(m.x, m.w, g.x.extent, tile.rasterWidth, g.rs.sx);
    const auto ty = taps(m.y, m.h, g.y.extent, tile.rasterHeight, g.rs.sy);
    std::vector<double> value(static_cast<std::size_t>(m.w)), validW(value.size()), weight(value.size());
    for (std::size_t b = 0; b < planes.size(); ++b) {
        const RowSums s = horizontal(tile, card, planes[b], tx, src);
        for (int v = 0; v < m.h; ++v) {
            std::fill(value.begin(), value.end(), 0.0);
            std::fill(validW.begin(), validW.end(), 0.0);
            std::fill(weight.begin(), weight.end(), 0.0);
            for (const Tap& t : ty[static_cast<std::size_t>(v)]) {
                const double *sv = s.value.ptr<double>(t.k - src.y), *sw = s.validW.ptr<double>(t.k - src.y),
                             *st = s.weight.ptr<double>(t.k - src.y);
                for (int u = 0; u < m.w; ++u) {
                    value[u] += t.w * sv[u];
                    validW[u] += t.w * sw[u];
                    weight[u] += t.w * st[u];
                }
            }
            float* dst = planeRow(in.blob, b, v);
            std::uint8_t* ok = in.valid.ptr<std::uint8_t>(v);
            for (int u = 0; u < m.w; ++u) {
                // A model pixel has data when at least half of what it draws from has.
                const bool has = weight[u] > 0 && validW[u] >= 0.5 * weight[u];
                if (has) dst[u] = modelValue(card, b, value[u] / validW[u]);
                if (b == 0) ok[u] = has ? 1 : 0;
            }
        }
    }
}

}  // namespace

WindowInput buildWindowInput(const TileImage& tile, const ModelCard& card, const std::vector<std::size_t>& planes,
                             const WindowGrid& grid, int ix, int iy) {
    const Window m = grid.model(ix, iy);
    const Window src = grid.source(ix, iy, tile.rasterWidth, tile.rasterHeight);
    if (!tile.window.containsWindow(src))
        throw Error("onnx: a model window reaches beyond the tile's halo (a detector bug)");
    const int dims[] = {1, static_cast<int>(planes.size()), m.h, m.w};
    WindowInput in{cv::Mat(4, dims, CV_32F, cv::Scalar(card.padValue)), cv::Mat::zeros(m.h, m.w, CV_8U)};
    if (grid.rs.native())
        fillNative(tile, card, planes, m, in);
    else
        fillResampled(tile, card, planes, grid, m, src, in);
    return in;
}

}  // namespace riskmap::onnx

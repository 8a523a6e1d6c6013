#include "training/CandidateSet.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "core/Error.hpp"
#include "geo/CoordinateMapper.hpp"
#include "raster/RasterReader.hpp"
#include "tiling/ScanPipeline.hpp"
#include "tiling/TileGrid.hpp"

namespace riskmap {

bool insideRing(const std::vector<LonLat>& ring, const LonLat& p) {
    bool in = false;
    for (std::size_t i = 0, j = ring.size() - 1; i < ring.size(); j = i++) {
        const LonLat& a = ring[i];
        const LonLat& b = ring[j];
        if ((a.lat > p.lat) != (b.lat > p.lat) && p.lon < (b.lon - a.lon) * (p.lat - a.lat) / (b.lat - a.lat) + a.lon) in = !in;
    }
    return in;
}

namespace {

// Every candidate the detector's candidate stage finds in one image, tile by tile as a scan reads it.
std::vector<KilnCandidate> imageCandidates(const KilnDetector& det, const RasterInput& in, const std::atomic<bool>* cancel) {
    std::vector<int> idx;
    for (int i : ScanPipeline::bandsRead(in, det)) idx.push_back(i);  // names the image when bands lack
    const int halo = static_cast<int>(std::ceil(det.haloMetres() / in.minGsd())) + ScanPipeline::kHaloSlackPixels;
    const TileGrid grid(in.width(), in.height(), 1024, halo, halo, in.blockWidth(), in.blockHeight());
    RasterReader reader(in);
    TileImage tile;
    std::vector<KilnCandidate> out;
    for (std::size_t t = 0; t < grid.size(); ++t) {
        if (cancel && *cancel) throw Cancelled("riskmap train: stopped");
        const Tile tl = grid.tile(t);
        reader.read(tl.window, tl.core, idx, tile);
        for (KilnCandidate& c : det.candidates(tile)) out.push_back(std::move(c));
    }
    return out;
}

// The group of an image: the most common group of the labels inside it (ties: the first in
// name order), else the image itself.
std::string groupOf(const std::vector<int>& inside, const TrainingLabels& labels, const std::string& image, bool byField) {
    if (!byField || inside.empty()) return image;
    std::map<std::string, int> n;
    for (int k : inside) ++n[labels.points[static_cast<std::size_t>(k)].group];
    return std::max_element(n.begin(), n.end(), [](const auto& a, const auto& b) { return a.second < b.second; })->first;
}

// Whether a label's image field names `image` (a file name, with or without its extension).
bool names(const std::string& value, const std::string& image) {
    const auto slash = image.find_last_of('/');
    const std::string file = slash == std::string::npos ? image : image.substr(slash + 1);
    return value == image || value == file || value == file.substr(0, file.find_last_of('.'));
}

// The nearest certain label within the radius (>= 0), else -1 near a difficult one only, else -2.
int labelOf(const LonLat& p, const std::vector<int>& inside, const TrainingLabels& labels, double radius) {
    bool nearDifficult = false;
    int best = -2;
    double bestD = radius;
    for (int k : inside) {
        const TrainingLabel& l = labels.points[static_cast<std::size_t>(k)];
        const double d = geodesicDistance(p, l.position);
        if (d > radius) continue;
        if (l.difficult) nearDifficult = true;
        else if (best < 0 || d < bestD) {
            best = k;
            bestD = d;
        }
    }
    return best >= 0 ? best : nearDifficult ? -1 : -2;
}

}  // namespace

CandidateSet CandidateSet::collect(const KilnDetector& det, const InputCatalog& images, const TrainingLabels& labels,
                                   double radius, bool byField, bool ownLabelsOnly, const std::atomic<bool>* cancel) {
    CandidateSet s;
    s.gsdMin = std::numeric_limits<double>::max();
    std::vector<char> used(labels.points.size(), 0), named(labels.points.size(), 0);
    for (std::size_t i = 0; i < images.inputs().size(); ++i) {
        const RasterInput& in = images.inputs()[i];
        const std::string& image = images.sources()[i];
        s.gsdMin = std::min({s.gsdMin, in.gsdX(), in.gsdY()});
        s.gsdMax = std::max({s.gsdMax, in.gsdX(), in.gsdY()});
        const std::vector<LonLat> ring = in.footprint();
        ImageLabels il{image, "", {}};
        std::vector<int> inside;
        for (std::size_t k = 0; k < labels.points.size(); ++k)
            if (insideRing(ring, labels.points[k].position)) {
                inside.push_back(static_cast<int>(k));
                const bool own = !ownLabelsOnly || names(labels.points[k].image, image);
                named[k] |= own;
                if (!labels.points[k].difficult && own) il.certain.push_back(static_cast<int>(k));
                used[k] = 1;
            }
        const std::string group = il.group = groupOf(inside, labels, image, byField);
        s.images.push_back(il);
        const CoordinateMapper mapper(in.crsWkt(), in.geoTransform());
        for (const KilnCandidate& c : imageCandidates(det, in, cancel)) {
            if (!c.gate.empty()) {
                ++s.gated;
                continue;
            }
            const LonLat p = mapper.pixelToLonLat(c.centre.x, c.centre.y);
            const int target = labelOf(p, inside, labels, radius);
            if (target == -1) {
                ++s.ignored;
                continue;
            }
            s.samples.push_back({KilnDetector::verifierFeatures(c), target >= 0 ? 1 : 0, std::max(target, -1), image, group, p});
        }
    }
    s.labelsInside = static_cast<std::size_t>(std::count(used.begin(), used.end(), 1));
    for (std::size_t k = 0; k < labels.points.size(); ++k) {
        if (!used[k] || labels.points[k].difficult) continue;
        ++(named[k] ? s.labelsNamed : s.labelsUnnamed);
    }
    return s;
}

}  // namespace riskmap

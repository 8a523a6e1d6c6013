// The kiln detector's options, its decision (hard gates, body choice, probability threshold,
// NMS; steps 6-8 of research/kiln/REPORT.md) and its output. Measurement lives in
// KilnGrid.cpp and KilnMeasure.cpp, the model in KilnModel.cpp, the outline in KilnOutline.cpp.
#include "detection/detectors/KilnDetector.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/Error.hpp"
#include "detection/OptionTable.hpp"
#include "detection/detectors/KilnParts.hpp"

namespace riskmap {

namespace {

using kiln::Measured;

// How far a decision about a candidate reaches, in metres from its peak. Measuring a candidate
// reads every pixel within window_m, and each of those needs the background box and the
// smoothing; two candidates compete in NMS when their centres (each within window_m of its peak)
// are within the NMS distance, and in the body choice when a peak lies in the other's complex
// (within window_m). NMS needs the competitor's body-choice verdict, so the reaches add up.
struct Reach {
    double measure, nms, bodyChoice;
    double decision() const { return nms + bodyChoice; }
};

Reach reachOf(const KilnDetector::Params& p) {
    const double filter = std::max(p.backgroundWindow / 2, 4 * p.kilnSigma);
    Reach r;
    r.measure = std::max(p.window + filter, p.backgroundWindow / 2 + 4 * p.kilnSigma);
    r.nms = std::max(p.detNms, p.complexNms) + 2 * p.window;
    r.bodyChoice = p.window;
    return r;
}

const std::vector<std::string> kFeatureNames = {
    "b_peak", "b_lift", "bb_mis", "y_con", "y_homog", "ln_area", "c_fill", "c_wid", "c_solid", "ccz", "cc_yard",
    "cb_mis", "c_area", "c_len", "c_elong", "c_zin", "c_tex", "c_open", "valid_frac", "y_in", "y_out", "b_dist",
    "bb_len", "bb_wid", "bb_area", "cc", "cb_len", "cb_wid", "sdc", "ndvi", "ndbi"};

}  // namespace

const OptionTable<KilnDetector::Params>& KilnDetector::table() {
    using P = Params;
    static const auto t = OptionTable<P>()
        .choice("operating_point", &P::operatingPoint, "balanced", {"high_precision", "balanced", "high_recall"},
                "probability threshold: high_precision 0.7, balanced 0.4, high_recall 0.2 (docs/kilns.md has their precision and recall)")
        .file("model", &P::model, "path of a verifier trained on your labels by 'riskmap train': re-scores every candidate (operating points become the model's)")
        .number("min_score", &P::minScore, 0, "probability", "when above 0, the probability threshold in place of operating_point's", 0, 1)
        .boolean("colour", &P::colour, true, "use colour evidence; off scores every candidate colour-free (tan or grey kilns, unusual renderings)")
        .number("internal_gsd_m", &P::internalGsd, 10, "m", "working resolution; finer input is block-averaged to it, so one parameter set serves 0.5-20 m", 1, 30)
        .number("max_gsd_m", &P::maxGsd, 20, "m", "input coarser than this cannot resolve a 100 x 50 m kiln: report nothing", 1, 1000)
        .number("background_window_m", &P::backgroundWindow, 400, "m", "box of the local mean and SD: kiln + yard (<= 300 m) << box << landscape; 300 m loses precision and recall", 100, 5000)
        .number("kiln_sigma_m", &P::kilnSigma, 20, "m", "Gaussian ~ half the 40-60 m body width: a matched filter for the body", 1, 200)
        .number("sd_floor", &P::sdFloor, 0.05, "ln", "the local SD of log-brightness is never taken below this (flat water, uniform fields)", 0.001, 1)
        .number("peak_radius_m", &P::peakRadius, 40, "m", "candidates are strict local maxima within this radius, about half a kiln length", 1, 500)
        .number("min_peak_sd", &P::minPeakSd, 0.8, "SD", "bright candidates: smoothed brightness contrast at least this (dev kiln bodies 1.1-2.1)", -10, 10)
        .number("min_chroma", &P::minChroma, 0.18, "ln chroma", "chroma candidates (colour images): chroma contrast at least this (dev kiln bodies 0.23-0.40)", 0, 5)
        .number("window_m", &P::window, 250, "m", "analysis disk around a peak: the drying yard plus a surround ring", 100, 1000)
        .number("region_sd", &P::regionSd, 0.7, "SD", "the bright complex (kiln + yard) is brightness contrast at least this, connected to the peak", -5, 5)
        .number("min_chroma_sd", &P::minChromaSd, 0.02, "ln chroma", "local chroma SD below which a candidate has no usable colour and is scored colour-free", 0, 1)
        .number("max_ndvi", &P::maxNdvi, 0.3, "NDVI", "with nir: reject vegetated bodies (bare clay and brick have NDVI <= 0.2; +0.1 for mixed pixels)", -1, 1)
        .number("min_ndbi", &P::minNdbi, -0.2, "NDBI", "with nir and swir1: reject wet or vegetated bodies", -1, 1)
        .number("max_complex_ha", &P::maxComplexHa, 30, "ha", "reject a bright complex larger than this: a field, river bar or town (dev kiln complexes <= 6.7 ha)", 0.01, 10000)
        .number("det_nms_m", &P::detNms, 120, "m", "one detection per kiln: centres closer than this are one object (closest certain dev kilns: 195 m)", 0, 300)
        .number("complex_nms_m", &P::complexNms, 150, "m", "... and closer than this when one body lies in the other's bright complex", 0, 300)
        .number("type_max_gsd_m", &P::typeMaxGsd, 5, "m", "outline at native resolution, and kiln_type from it, at this GSD or finer", 0.1, 30)
        .number("dark_offset", &P::darkOffset, 0.02, "of white", "added to R, G, B before logs, to steady dark pixels", 0.001, 0.2);
    return t;
}

DetectorInfo KilnDetector::describe() {
    DetectorInfo d;
    d.name = "kiln";
    d.description =
        "Brick kilns (bull's-trench, zigzag, circular) in true-colour, greyscale or multispectral imagery from "
        "~0.5 to 20 m. Candidates are peaks of brightness contrast in local-SD units and, in colour images, of "
        "hue-free chroma contrast; each is measured in metres (bright complex, yard, kiln body) and scored by a "
        "calibrated model: the score is the probability that it is a kiln. Reports the oriented outline of the body.";
    d.options = table().specs();
    d.attributes = {
        {"kiln_type", AttributeType::String, "", "fcbk, zigzag, circular or unknown (10 m pixels cannot tell fcbk from zigzag)"},
        {"type_confidence", AttributeType::Double, "0-1", "confidence of kiln_type"},
        {"length_m", AttributeType::Double, "m", "length of the kiln body (moment-based, includes blur)"},
        {"width_m", AttributeType::Double, "m", "width of the kiln body"},
        {"orientation_deg", AttributeType::Double, "deg", "azimuth of the long axis, clockwise from north, 0-180"},
        {"mode", AttributeType::String, "", "colour (scored with colour evidence) or free (colour-free)"},
        {"found_by", AttributeType::String, "", "which candidate source found it: bright (brightness), chroma or both"},
        {"brightness", AttributeType::Double, "SD", "smoothed brightness contrast at the peak, in local SDs"},
        {"chroma_contrast", AttributeType::Double, "SD", "chroma contrast of the body in local chroma SDs (0 without colour)"},
        {"complex_ha", AttributeType::Double, "ha", "area of the bright complex (kiln and drying yard)"},
        {"touches_edge", AttributeType::Bool, "", "the kiln body touches nodata or the raster edge"},
    };
    return d;
}

std::unique_ptr<Detector> KilnDetector::create(const OptionValues& options) { return std::make_unique<KilnDetector>(options); }

KilnDetector::KilnDetector(const OptionValues& o) : info_(describe()), p_(table().bind(o)) {
    if (p_.model.empty()) return;
    auto m = std::make_shared<VerifierModel>(VerifierModel::read(p_.model));
    m->checkFits(info_.name, verifierFeatureNames(), p_.model);
    model_ = std::move(m);
    checkTrainedAlike(o);
    modelSha256_ = fileSha256(p_.model);
}

double KilnDetector::operatingPointThreshold(const std::string& name) {
    // F1-optimal for a calibrated score is about F1*/2 (Lipton, Elkan & Naryanaswamy 2014): 0.4.
    if (name == "high_precision") return 0.7;
    if (name == "balanced") return 0.4;
    if (name == "high_recall") return 0.2;
    throw UsageError("unknown operating_point '" + name + "': choose high_precision, balanced or high_recall");
}

double KilnDetector::threshold() const {
    if (p_.minScore > 0) return p_.minScore;
    operatingPointThreshold(p_.operatingPoint);  // validates the name
    return model_ ? model_->threshold(p_.operatingPoint) : operatingPointThreshold(p_.operatingPoint);
}

const std::vector<std::string>& KilnDetector::featureNames() { return kFeatureNames; }

double KilnCandidate::feature(const std::string& name) const {
    const auto it = std::find(kFeatureNames.begin(), kFeatureNames.end(), name);
    if (it == kFeatureNames.end()) throw Error("unknown kiln feature '" + name + "'");
    return features[static_cast<std::size_t>(it - kFeatureNames.begin())];
}

std::vector<std::string> KilnDetector::bandsFor(const std::vector<std::string>& available) const {
    auto has = [&](const char* n) { return std::find(available.begin(), available.end(), n) != available.end(); };
    std::string missing;
    for (const char* n : {"red", "green", "blue"})
        if (!has(n)) missing += (missing.empty() ? "" : ", ") + std::string(n);
    if (!missing.empty())
        throw UsageError("the kiln detector needs red, green and blue bands but the input lacks " + missing +
                         ": pass --sensor (e.g. rgb, sentinel2, planetscope) or --band red=...,green=...,blue=...");
    std::vector<std::string> bands{"red", "green", "blue"};
    if (has("nir")) bands.push_back("nir");                   // rejects vegetated bodies
    if (has("nir") && has("swir1")) bands.push_back("swir1");  // and wet ones
    return bands;
}

double KilnDetector::haloMetres() const {
    // A decision's reach from a candidate's peak, plus the internal grid's alignment.
    const Reach r = reachOf(p_);
    return r.measure + r.decision() + 3 * p_.internalGsd;
}

std::size_t KilnDetector::workingBytesPerPixel(std::size_t bands, bool) const {
    // At an internal grid as fine as the input: four 8-byte fixed-point planes while filtering
    // (their box and Gaussian sums are streamed a row at a time), then about a dozen float
    // planes. Two tiles in flight add 67-75 bytes a window pixel with 4 bands, all included
    // (RSS over 512, 1024 and 1536 px tiles), one tile alone peaks higher; with this figure
    // scans at --ram 123-384 peaked at 86-91 % of it.
    return 96 + 4 * bands;
}

double KilnDetector::contextMetres() const {
    // The background box around a kiln and its yard: windows centred on the 41 dev kilns found
    // 24 of them at 300 m across, 36 at 400 m, 38 at 600 m (docs/kilns.md).
    return 1.5 * p_.backgroundWindow;
}

std::string KilnDetector::inputWarning(double gsdX, double gsdY) const {
    const double g = std::max(gsdX, gsdY);
    if (!tooCoarse(gsdX, gsdY)) return modelGsdWarning(g);
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "pixels of %.1f m cannot resolve a 100 x 50 m kiln (max_gsd_m = %.0f): the kiln "
                  "detector reports nothing here (raise max_gsd_m to force it)",
                  g, p_.maxGsd);
    return buf;
}

namespace {

// The tile's grid and the candidates measured: every one the tile owns, and those a decision
// about an owned candidate depends on.
struct Analysis {
    kiln::Grid grid;
    std::vector<Measured> cands;  // in raster order of their peaks
    std::vector<char> owned;      // the tile owns cands[i]
};

// Peaks of the grid within `reachX` x `reachY` grid pixels of a peak: an index range of the
// peaks in raster order, filtered by column.
template <class F>
void forPeaksNear(const std::vector<kiln::Peak>& peaks, const kiln::Peak& c, int reachX, int reachY, F f) {
    auto row = [](const kiln::Peak& x, int y) { return x.y < y; };
    auto k = std::lower_bound(peaks.begin(), peaks.end(), c.y - reachY, row);
    for (; k != peaks.end() && k->y <= c.y + reachY; ++k)
        if (std::abs(k->x - c.x) <= reachX) f(static_cast<std::size_t>(k - peaks.begin()));
}

}  // namespace

// Measures candidates on demand (issue 14): those the tile owns first, then only the halo
// candidates a decision about an owned one can depend on. Every decision reads candidates whose
// peaks lie within a reach of its own (Reach), so measuring all of those gives the decisions
// that measuring every halo candidate gave: most owned candidates fail a hard gate or the
// probability bound and need no neighbour.
class KilnDetector::LazyAnalysis {
public:
    LazyAnalysis(const TileImage& t, const KilnDetector& d, double measureThreshold)
        : t_(t), d_(d), p_(d.p_), threshold_(measureThreshold) {}

    Analysis run(bool decisions) {
        a_.grid = kiln::buildGrid(t_, p_);
        const kiln::Grid& g = a_.grid;
        if (g.w < 3 || g.h < 3) return std::move(a_);
        findPeaks();
        kiln::Measurer measurer(g, p_);
        measurer_ = &measurer;
        std::vector<std::size_t> owned;
        for (std::size_t i = 0; i < peaks_.size(); ++i)
            if (owns(i)) owned.push_back(i);
        measure(owned);
        if (decisions) measureNeighbours(owned);
        return collect();
    }

private:
    void findPeaks() {
        const kiln::Grid& g = a_.grid;
        const double reach = reachOf(p_).decision();
        for (const kiln::Peak& pk : kiln::findPeaks(g, p_)) {
            // Metres from the peak's anchor pixel to the tile core: farther ones cannot matter.
            const int ax = anchorX(pk), ay = anchorY(pk);
            const int dx = std::max({t_.core.x - ax, 0, ax - (t_.core.x + t_.core.w - 1)});
            const int dy = std::max({t_.core.y - ay, 0, ay - (t_.core.y + t_.core.h - 1)});
            if (dx * t_.gsdX <= reach && dy * t_.gsdY <= reach) peaks_.push_back(pk);
        }
        cands_.resize(peaks_.size());
        done_.assign(peaks_.size(), 0);
    }
    int anchorX(const kiln::Peak& pk) const { return a_.grid.ox + pk.x * a_.grid.f + a_.grid.f / 2; }
    int anchorY(const kiln::Peak& pk) const { return a_.grid.oy + pk.y * a_.grid.f + a_.grid.f / 2; }
    bool owns(std::size_t i) const { return t_.owns(anchorX(peaks_[i]), anchorY(peaks_[i])); }

    // Measures (and with a model re-scores) the candidates of `idx` not yet measured, in parallel.
    void measure(std::vector<std::size_t> idx) {
        idx.erase(std::remove_if(idx.begin(), idx.end(), [&](std::size_t i) { return done_[i] != 0; }), idx.end());
        tbb::parallel_for(tbb::blocked_range<std::size_t>(0, idx.size(), 16), [&](const tbb::blocked_range<std::size_t>& r) {
            for (std::size_t k = r.begin(); k < r.end(); ++k) {
                Measured& m = cands_[idx[k]] = measurer_->measure(peaks_[idx[k]], threshold_);
                if (d_.model_) {
                    d_.rescore(m.c);
                    m.evidence = m.c.logit;  // its score also decides which candidate holds a body
                }
            }
        });
        for (std::size_t i : idx) done_[i] = 1;
    }

    // The peaks within `metres` of those of `from` (a superset of the candidates that can relate
    // to them: one grid pixel of slack for the disks' rounding).
    std::vector<std::size_t> near(const std::vector<std::size_t>& from, double metres) const {
        const int rx = static_cast<int>(std::ceil(metres / a_.grid.gx)) + 1;
        const int ry = static_cast<int>(std::ceil(metres / a_.grid.gy)) + 1;
        std::vector<char> mark(peaks_.size(), 0);
        for (std::size_t i : from) forPeaksNear(peaks_, peaks_[i], rx, ry, [&](std::size_t k) { mark[k] = 1; });
        std::vector<std::size_t> out;
        for (std::size_t k = 0; k < mark.size(); ++k)
            if (mark[k]) out.push_back(k);
        return out;
    }
    std::vector<std::size_t> passingGates(const std::vector<std::size_t>& idx) const {
        std::vector<std::size_t> out;
        for (std::size_t i : idx)
            if (cands_[i].c.gate.empty()) out.push_back(i);
        return out;
    }

    void measureNeighbours(const std::vector<std::size_t>& owned);
    Analysis collect();

    const TileImage& t_;
    const KilnDetector& d_;
    const Params& p_;
    double threshold_;
    Analysis a_;
    const kiln::Measurer* measurer_ = nullptr;
    std::vector<kiln::Peak> peaks_;
    std::vector<Measured> cands_;
    std::vector<char> done_;
};

std::vector<KilnCandidate> KilnDetector::candidates(const TileImage& tile) const {
    std::vector<KilnCandidate> out;
    if (tooCoarse(tile.gsdX, tile.gsdY) || tile.validCount == 0) return out;
    Analysis a = LazyAnalysis(tile, *this, -1).run(false);
    for (Measured& m : a.cands) out.push_back(std::move(m.c));
    return out;
}

namespace {

// Why a candidate was not reported: the gate, what it measured and the limit (empty: reported).
struct Verdict {
    std::string gate;
    double value = 0, limit = 0;
};

// Whether a comes before b: stronger key first, then the raster order of the peak.
bool before(double ka, const Measured& a, double kb, const Measured& b) {
    if (ka != kb) return ka > kb;
    return std::make_pair(a.c.peak.y, a.c.peak.x) < std::make_pair(b.c.peak.y, b.c.peak.x);
}

// Body choice: candidates of one complex with bodies within complex_nms_m are one kiln; the one
// with the strongest body evidence holds it (chroma contrast with colour, else brightness).
double bodyChoiceDistance(const Measured& c, const Measured& k, const kiln::Grid& g, const KilnDetector::Params& p) {
    const double d = std::hypot((c.c.body.x - k.c.body.x) * g.gx, (c.c.body.y - k.c.body.y) * g.gy);
    const bool related = d <= p.complexNms && (k.inComplex(c.c.peak) || c.inComplex(k.c.peak));
    return related ? d : -1;
}

// NMS: one detection per kiln, centres within det_nms_m, or within complex_nms_m when one's body
// lies in the other's complex (kilns of a shared yard farther apart both survive).
double nmsDistance(const Measured& c, const Measured& k, const kiln::Grid& g, const KilnDetector::Params& p) {
    const double d = std::hypot((c.cx - k.cx) * g.gx, (c.cy - k.cy) * g.gy);
    const bool related = d <= p.detNms || (d <= p.complexNms && (k.inComplex(c.c.body) || c.inComplex(k.c.body)));
    return related ? d : -1;
}

// Candidates in raster order of their peaks: some of a tile's measured ones, by index.
struct CandView {
    const std::vector<Measured>& all;
    const std::vector<std::size_t>& idx;
    std::size_t size() const { return idx.size(); }
    const Measured& operator[](std::size_t k) const { return all[idx[k]]; }
};

// The first position in m whose peak row is at least y (m is in raster order).
std::size_t firstRow(const CandView& m, int y) {
    std::size_t lo = 0, hi = m.size();
    while (lo < hi) {
        const std::size_t mid = lo + (hi - lo) / 2;
        if (m[mid].c.peak.y < y) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

// The strongest candidate among `eligible` that comes before c and relates to it, or -1. Only
// peaks within `rows` grid rows can relate (candidates are in raster order of their peaks).
template <class Key, class Rel>
int strongest(const CandView& m, std::size_t c, const std::vector<char>& eligible, int rows, Key key, Rel rel, double& d) {
    const std::size_t lo = firstRow(m, m[c].c.peak.y - rows), hi = firstRow(m, m[c].c.peak.y + rows + 1);
    int best = -1;
    for (std::size_t k = lo; k < hi; ++k) {
        if (k == c || !eligible[k] || !before(key(m[k]), m[k], key(m[c]), m[c])) continue;
        const auto b = static_cast<std::size_t>(best);
        if (best >= 0 && !before(key(m[k]), m[k], key(m[b]), m[b])) continue;
        const double dk = rel(m[c], m[k]);
        if (dk >= 0) {
            best = static_cast<int>(k);
            d = dk;
        }
    }
    return best;
}

// Steps 6-7: hard gates, body choice and the probability threshold. Returns which candidates
// go on to NMS; the verdicts of the others are set.
std::vector<char> choose(const CandView& m, const kiln::Grid& g, const KilnDetector::Params& p, double thr,
                         std::vector<Verdict>& v) {
    const std::size_t n = m.size();
    v.assign(n, Verdict());
    std::vector<char> gated(n), live(n);
    for (std::size_t i = 0; i < n; ++i) {
        gated[i] = m[i].c.gate.empty();
        if (!gated[i]) v[i] = {m[i].c.gate, m[i].c.gateValue, m[i].c.gateLimit};
    }
    const int bcRows = static_cast<int>(std::ceil(reachOf(p).bodyChoice / g.gy)) + 1;
    auto evidence = [](const Measured& c) { return c.evidence; };
    auto bodyRel = [&](const Measured& c, const Measured& k) { return bodyChoiceDistance(c, k, g, p); };
    for (std::size_t i = 0; i < n; ++i) {
        double d = 0;
        if (gated[i] && strongest(m, i, gated, bcRows, evidence, bodyRel, d) >= 0) v[i] = {"body_choice", d, p.complexNms};
        else if (gated[i] && m[i].c.probability < thr) v[i] = {"probability", m[i].c.probability, thr};
        live[i] = v[i].gate.empty();
    }
    return live;
}

// Steps 6-8 for every candidate. Body choice and NMS are evaluated without chains (dropped when
// any stronger related candidate is eligible), which bounds a decision's reach for the halo; on
// every dev-set variant it gives the same detections as the prototype's greedy order.
std::vector<Verdict> decide(const CandView& m, const kiln::Grid& g, const KilnDetector::Params& p, double thr) {
    std::vector<Verdict> v;
    const std::vector<char> live = choose(m, g, p, thr, v);
    const int nmsRows = static_cast<int>(std::ceil(reachOf(p).nms / g.gy)) + 1;
    auto logit = [](const Measured& c) { return c.c.logit; };
    auto nmsRel = [&](const Measured& c, const Measured& k) { return nmsDistance(c, k, g, p); };
    for (std::size_t i = 0; i < m.size(); ++i) {
        double d = 0;
        if (live[i] && strongest(m, i, live, nmsRows, logit, nmsRel, d) >= 0) v[i] = {"nms", d, d <= p.detNms ? p.detNms : p.complexNms};
    }
    return v;
}

}  // namespace

// Owned candidates' neighbours, in the order decisions need them: the body choice of those that
// pass their gates; then, for those still live after it, their NMS rivals and the rivals' own
// body choice.
void KilnDetector::LazyAnalysis::measureNeighbours(const std::vector<std::size_t>& owned) {
    const Reach r = reachOf(p_);
    measure(near(passingGates(owned), r.bodyChoice));
    std::vector<std::size_t> measured;
    for (std::size_t i = 0; i < done_.size(); ++i)
        if (done_[i]) measured.push_back(i);
    std::vector<Verdict> v;
    const std::vector<char> live = choose(CandView{cands_, measured}, a_.grid, p_, d_.threshold(), v);
    std::vector<std::size_t> liveOwned;
    for (std::size_t k = 0; k < measured.size(); ++k)
        if (live[k] && owns(measured[k])) liveOwned.push_back(measured[k]);
    if (liveOwned.empty()) return;
    const std::vector<std::size_t> rivals = near(liveOwned, r.nms);
    measure(rivals);
    measure(near(passingGates(rivals), r.bodyChoice));
}

Analysis KilnDetector::LazyAnalysis::collect() {
    for (std::size_t i = 0; i < peaks_.size(); ++i)
        if (done_[i]) {
            a_.cands.push_back(std::move(cands_[i]));
            a_.owned.push_back(owns(i) ? 1 : 0);
        }
    return std::move(a_);
}

namespace {

std::vector<AttributeValue> attributes(const Measured& m, const kiln::Outline& o) {
    const auto& f = m.c.features;
    return {AttributeValue(o.type), AttributeValue(o.typeConfidence), AttributeValue(o.length), AttributeValue(o.width),
            AttributeValue(o.azimuth), AttributeValue(std::string(m.c.colour ? "colour" : "free")), AttributeValue(m.c.source),
            AttributeValue(f[kiln::BPeak]), AttributeValue(f[kiln::Ccz]), AttributeValue(f[kiln::CArea]), AttributeValue(o.touches)};
}

Rejection rejection(const Measured& m, const Verdict& v, const TileImage& t, const kiln::Grid& g, const KilnDetector::Params& p) {
    KilnDetector::Params coarse = p;
    coarse.typeMaxGsd = 0;  // rejected candidates are drawn from the internal grid only
    Rejection r;
    r.candidate.geometry.parts.push_back(kiln::outline(t, g, m, coarse).polygon);
    r.candidate.anchor = m.c.anchor;
    r.candidate.cls = "kiln";
    r.candidate.score = m.c.probability;
    r.gate = v.gate;
    r.value = v.value;
    r.limit = v.limit;
    r.measures = {{"probability", m.c.probability}, {"logit", m.c.logit}, {"colour", m.c.colour ? 1.0 : 0.0},
                  {"bright_source", m.c.source != "chroma" ? 1.0 : 0.0}, {"chroma_source", m.c.source != "bright" ? 1.0 : 0.0}};
    for (std::size_t i = 0; i < kFeatureNames.size(); ++i)
        if (!std::isnan(m.c.features[i])) r.measures.emplace_back(kFeatureNames[i], m.c.features[i]);
    return r;
}

}  // namespace

std::vector<Detection> KilnDetector::detect(const TileImage& tile, std::vector<Rejection>* rejected) const {
    std::vector<Detection> out;
    if (tooCoarse(tile.gsdX, tile.gsdY) || tile.validCount == 0) return out;
    Analysis a = LazyAnalysis(tile, *this, rejected || model_ ? -1.0 : threshold()).run(true);
    std::vector<std::size_t> all(a.cands.size());
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
    const std::vector<Verdict> verdicts = decide(CandView{a.cands, all}, a.grid, p_, threshold());
    for (std::size_t i = 0; i < a.cands.size(); ++i) {
        const Measured& m = a.cands[i];
        if (!a.owned[i]) continue;
        if (!verdicts[i].gate.empty()) {
            if (rejected) rejected->push_back(rejection(m, verdicts[i], tile, a.grid, p_));
            continue;
        }
        const kiln::Outline o = kiln::outline(tile, a.grid, m, p_);
        Detection d;
        d.geometry.parts.push_back(o.polygon);
        d.anchor = m.c.anchor;
        d.cls = "kiln";
        d.score = m.c.probability;
        d.attributes = attributes(m, o);
        out.push_back(std::move(d));
    }
    return out;
}

}  // namespace riskmap

// Step 7 of the kiln detector: the two-stage logistic evidence model and its calibration,
// fitted by research/kiln/experiment.py on the 30 dev chips (model.json, copied at full
// precision). logit = f_free(colour-free terms) + [colour] g(colour terms); without colour the
// colour term is absent, not zero-valued evidence. Platt scaling (Platt 1999) per mode maps the
// logit to the probability that a detection is a kiln, fitted on leave-one-district-out
// detections after NMS.
#include <cmath>

#include "detection/detectors/KilnParts.hpp"

namespace riskmap::kiln {

namespace {

struct Stage {
    double intercept;
    int features[9];
    double coef[9], mean[9], sd[9];
    int n;
};

// Colour-free stage, trained on brightness-source candidates only (what a greyscale image yields).
constexpr Stage kFree{-3.6185849143732347,
                      {BPeak, BLift, BbMis, YCon, YHomog, LnArea, CFill, CWid, CSolid},
                      {1.9491287796501948, 0.11589425185001614, 0.4663636696567524, -0.6966301479664339,
                       -2.1893630198451888, 1.3572184967067453, 0.40641079463611, 0.7125030236533546,
                       1.5155213477200016},
                      {1.149855309756439, -0.038661563331125595, 2.0740735746864623, 0.5010389258676595,
                       0.6785604956782172, 0.07672537294034082, 0.5011643283250794, 116.97844194363334,
                       0.6476750004318823},
                      {0.30136255183198635, 0.2881673137871163, 1.1232987241363712, 0.4082736384179156,
                       0.28605106198259883, 0.9263218835877935, 0.1290645738233212, 55.92261394404667,
                       0.14259259548328246},
                      9};

// Colour stage, trained on colour candidates with the colour-free logit as a fixed offset.
constexpr Stage kColour{-2.760070254124047,
                        {Ccz, CcYard, CbMis},
                        {3.546617732102908, 1.659412857261999, -0.6189846730276698},
                        {1.714244167492346, 1.144757120423937, 0.48992985062901},
                        {0.684162396896652, 1.0375350552746574, 0.2562494838786008},
                        3};

// Platt maps p = 1 / (1 + exp(-(A logit + B))), pooled over the three districts' out-of-fold detections.
constexpr double kPlattColour[2] = {0.6142731229597176, -2.332345455546621};
constexpr double kPlattFree[2] = {0.6792297091100492, -2.2026934166048373};

static_assert(kFree.features[2] == BbMis && kFree.features[6] == CFill && kFree.features[8] == CSolid &&
                  kColour.features[2] == CbMis && kFree.coef[2] > 0 && kFree.coef[6] > 0 && kFree.coef[8] > 0 &&
                  kColour.coef[2] < 0,
              "mostFavourable() assumes these signs of the bb_mis, c_fill, c_solid and cb_mis coefficients");

double apply(const Stage& s, const std::vector<double>& f) {
    double l = s.intercept;
    for (int i = 0; i < s.n; ++i) l += s.coef[i] * (f[static_cast<std::size_t>(s.features[i])] - s.mean[i]) / s.sd[i];
    return l;
}

}  // namespace

double logitFree(const std::vector<double>& f) { return apply(kFree, f); }
double logitColour(const std::vector<double>& f) { return apply(kColour, f); }

double logit(const std::vector<double>& f, bool colour) {
    const double free = logitFree(f);
    return colour ? free + logitColour(f) : free;
}

std::vector<double> mostFavourable(std::vector<double> f) {
    // Positive coefficients: fill and solidity are at most 1, the blob misfit at most 3; negative
    // coefficient: the chroma-body misfit is at least 0.
    f[CFill] = 1.0;
    f[CSolid] = 1.0;
    f[BbMis] = 3.0;
    f[CbMis] = 0.0;
    return f;
}

double calibrated(double logit, bool colour) {
    const double* ab = colour ? kPlattColour : kPlattFree;
    return 1.0 / (1.0 + std::exp(-(ab[0] * logit + ab[1])));
}

}  // namespace riskmap::kiln

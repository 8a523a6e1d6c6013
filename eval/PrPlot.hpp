#pragma once
// `riskmap eval --plot FILE.png`: the precision-recall curve as a picture, with AP, the best-F1
// point and the operating point (--min-score) marked.
#include <string>

#include "eval/Evaluation.hpp"

namespace riskmap {

// PNG bytes of the plot (640 x 480).
std::vector<unsigned char> plotPrecisionRecall(const EvalReport& report);

}  // namespace riskmap

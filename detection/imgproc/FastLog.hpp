#pragma once
// Natural logarithms of whole rows, vectorised. Within 1e-15 of std::log for positive normal
// doubles (an atanh series on the mantissa folded to [1/sqrt 2, sqrt 2)), which is far below the
// 2^-16 fixed point that riskmap's exact filters quantise logs to, at a quarter of the cost.
namespace riskmap {

// out[i] = ln(x[i]) for x[i] > 0 and normal; other inputs give unspecified values.
void logArray(const double* x, double* out, int n);

}  // namespace riskmap

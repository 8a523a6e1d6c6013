#include "core/ProgressSink.hpp"

namespace riskmap {

double ProgressState::etaSeconds() const {
    if (areaDoneKm2 <= 0 || elapsedSeconds <= 0 || areaTotalKm2 <= 0) return -1;
    double rate = areaDoneKm2 / elapsedSeconds;
    return (areaTotalKm2 - areaDoneKm2) / rate;
}

}  // namespace riskmap

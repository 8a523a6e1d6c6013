#include "core/TtyProgress.hpp"

#include <cmath>
#include <string>

namespace riskmap {

namespace {

std::string clock(double seconds) {
    if (seconds < 0 || !std::isfinite(seconds)) return "--:--";
    long s = std::lround(seconds);
    char buf[32];
    if (s >= 3600)
        std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
    else
        std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
    return buf;
}

}  // namespace

void TtyProgress::start(const ProgressState& state) { draw(state); }

void TtyProgress::update(const ProgressState& state) {
    // Redrawing more than ten times a second only costs time.
    if (lastDraw_ >= 0 && state.elapsedSeconds - lastDraw_ < 0.1) return;
    draw(state);
}

void TtyProgress::finish(const ProgressState& state) {
    draw(state);
    std::fputc('\n', out_);
    std::fflush(out_);
}

void TtyProgress::phase(const std::string& name, std::size_t count) {
    std::fprintf(out_, "%s %s %zu feature(s)%s\n", label_, name.c_str(), count, name == "writing" ? "..." : "");
    std::fflush(out_);
}

void TtyProgress::draw(const ProgressState& state) {
    lastDraw_ = state.elapsedSeconds;
    const int width = 30;
    double frac = state.tilesTotal ? static_cast<double>(state.tilesDone) / state.tilesTotal : 0;
    int filled = static_cast<int>(frac * width);
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.append(static_cast<std::size_t>(width - filled), '.');
    double rate = state.elapsedSeconds > 0 ? state.areaDoneKm2 / state.elapsedSeconds : 0;
    std::fprintf(out_, "\r%s [%s] %zu/%zu tiles  %.1f km2/s  %zu found  ETA %s \x1b[K", label_,
                 bar.c_str(), state.tilesDone, state.tilesTotal, rate, state.detections,
                 clock(state.etaSeconds()).c_str());
    std::fflush(out_);
}

}  // namespace riskmap

#include "core/JsonProgress.hpp"

#include "core/Json.hpp"

namespace riskmap {

void JsonProgress::start(const ProgressState& state) { emit("start", state); }

void JsonProgress::update(const ProgressState& state) {
    if (lastEmit_ >= 0 && state.elapsedSeconds - lastEmit_ < minInterval_) return;
    emit("progress", state);
}

void JsonProgress::finish(const ProgressState& state) { emit("finish", state); }

void JsonProgress::phase(const std::string& name, std::size_t count) {
    Json line = Json::object();
    line["event"] = name;
    line.update(tags_);
    line["features"] = count;
    std::fprintf(out_, "%s\n", dumpJson(line).c_str());
    std::fflush(out_);
}

void JsonProgress::emit(const char* event, const ProgressState& state) {
    lastEmit_ = state.elapsedSeconds;
    Json line = Json::object();
    line["event"] = event;
    line.update(tags_);
    line["tiles_done"] = state.tilesDone;
    line["tiles_total"] = state.tilesTotal;
    line["area_done_km2"] = state.areaDoneKm2;
    line["area_total_km2"] = state.areaTotalKm2;
    line["detections"] = state.detections;
    line["elapsed_s"] = state.elapsedSeconds;
    double eta = state.etaSeconds();
    line["eta_s"] = eta >= 0 ? Json(eta) : Json();
    std::fprintf(out_, "%s\n", dumpJson(line).c_str());
    std::fflush(out_);
}

}  // namespace riskmap

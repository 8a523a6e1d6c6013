#pragma once
// NDJSON progress lines on a stream, for orchestrators (Slurm wrappers, notebooks).
#include <cstdio>
#include <utility>

#include "core/Json.hpp"
#include "core/ProgressSink.hpp"

namespace riskmap {

class JsonProgress : public ProgressSink {
public:
    // minInterval: seconds between "progress" lines; start and finish always print.
    // tags: fields every line carries (a time series' date).
    explicit JsonProgress(std::FILE* out, double minInterval = 0.5, Json tags = Json::object())
        : out_(out), minInterval_(minInterval), tags_(std::move(tags)) {}
    void start(const ProgressState& state) override;
    void update(const ProgressState& state) override;
    void finish(const ProgressState& state) override;
    void phase(const std::string& name, std::size_t count) override;

private:
    void emit(const char* event, const ProgressState& state);
    std::FILE* out_;
    double minInterval_;
    Json tags_;
    double lastEmit_ = -1;
};

}  // namespace riskmap

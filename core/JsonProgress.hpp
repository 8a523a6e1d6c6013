#pragma once
// NDJSON progress lines on a stream, for orchestrators (Slurm wrappers, notebooks).
#include <cstdio>

#include "core/ProgressSink.hpp"

namespace riskmap {

class JsonProgress : public ProgressSink {
public:
    // minInterval: seconds between "progress" lines; start and finish always print.
    explicit JsonProgress(std::FILE* out, double minInterval = 0.5)
        : out_(out), minInterval_(minInterval) {}
    void start(const ProgressState& state) override;
    void update(const ProgressState& state) override;
    void finish(const ProgressState& state) override;
    void phase(const std::string& name, std::size_t count) override;

private:
    void emit(const char* event, const ProgressState& state);
    std::FILE* out_;
    double minInterval_;
    double lastEmit_ = -1;
};

}  // namespace riskmap

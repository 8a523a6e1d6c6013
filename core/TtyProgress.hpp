#pragma once
// A live progress bar for a terminal: tiles done, area per second, ETA.
#include <cstdio>

#include "core/ProgressSink.hpp"

namespace riskmap {

class TtyProgress : public ProgressSink {
public:
    explicit TtyProgress(std::FILE* out, const char* label = "scan") : out_(out), label_(label) {}
    void start(const ProgressState& state) override;
    void update(const ProgressState& state) override;
    void finish(const ProgressState& state) override;
    void phase(const std::string& name, std::size_t count) override;

private:
    void draw(const ProgressState& state);
    std::FILE* out_;
    const char* label_;
    double lastDraw_ = -1;
};

}  // namespace riskmap

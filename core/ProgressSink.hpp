#pragma once
// Where a long run reports how far it got. The pipeline calls these from one thread.
#include <cstddef>
#include <string>

namespace riskmap {

struct ProgressState {
    std::size_t tilesDone = 0;
    std::size_t tilesTotal = 0;
    double areaDoneKm2 = 0;
    double areaTotalKm2 = 0;
    std::size_t detections = 0;
    double elapsedSeconds = 0;

    // Seconds left at the current area rate; negative when unknown.
    double etaSeconds() const;
};

class ProgressSink {
public:
    virtual ~ProgressSink() = default;
    virtual void start(const ProgressState& state) = 0;
    virtual void update(const ProgressState& state) = 0;
    virtual void finish(const ProgressState& state) = 0;
    // A step after the tiles: "writing" `count` features, then "written" when they are in place.
    virtual void phase(const std::string& name, std::size_t count) {
        (void)name;
        (void)count;
    }
};

class NullProgress : public ProgressSink {
public:
    void start(const ProgressState&) override {}
    void update(const ProgressState&) override {}
    void finish(const ProgressState&) override {}
};

}  // namespace riskmap

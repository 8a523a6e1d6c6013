#pragma once
// `riskmap scan --time-series LIST -o OUT`: one scan per date of LIST into OUT.DATE.ext (each a
// full scan with its manifest, footprints, gaps and its own journal), the diffs between
// consecutive dates into OUT.diff.DATE1_DATE2.ext, and last one layer OUT holding every date's
// objects with a `date` field. With --resume, the dates an interrupted run finished are kept
// (after checking they were scanned as asked) and an unfinished date continues from its journal.
#include <atomic>
#include <functional>
#include <memory>
#include <map>
#include <string>
#include <vector>

#include "change/ScanDiff.hpp"
#include "change/SeriesList.hpp"
#include "core/ProgressSink.hpp"
#include "detection/DetectorRegistry.hpp"
#include "scan/ScanJob.hpp"
#include "scan/ScanRequest.hpp"

namespace riskmap {

struct SeriesRequest {
    ScanRequest scan;          // every date's options and OUT; its inputs stay empty
    std::string list;          // --time-series LIST
    double radiusMetres = 60;  // --diff-radius-m: matching radius of the diffs
};

struct SeriesSummary {
    struct Date {
        std::string date, output;
        std::size_t features = 0, resumedTiles = 0;
        bool kept = false;  // finished by an earlier, interrupted run
    };
    std::vector<Date> dates;
    std::vector<std::pair<std::string, DiffSummary>> diffs;  // output path, summary
    std::string output, manifestPath;
    std::size_t features = 0;
    std::vector<std::string>
        warnings;  // of the series itself (per-date ones are in their manifests)
};

class TimeSeries {
public:
    // Checks the request, reads LIST and every output path (UsageError, DataError).
    TimeSeries(SeriesRequest request, const DetectorRegistry& registry);

    // The progress of the scan of dates()[i].
    using ProgressFactory = std::function<std::unique_ptr<ProgressSink>(std::size_t i)>;
    using Log = std::function<void(const std::string&)>;
    SeriesSummary run(const ProgressFactory& progress, const Log& log,
                      const std::atomic<bool>* cancel = nullptr);

    const std::vector<SeriesDate>& dates() const { return dates_; }
    static std::string dateOutput(const std::string& output, const std::string& date);
    static std::string diffOutput(const std::string& output, const std::string& before,
                                  const std::string& after);

private:
    ScanRequest requestFor(const SeriesDate& d) const;
    std::map<std::string, std::string> plannedStyles() const;
    std::vector<std::string> plannedFiles() const;
    void checkFiles() const;
    void checkOutputsAreNotInputs() const;
    bool finishedEarlier(const SeriesDate& d) const;
    void dropCombined() const;
    ScanSummary scanDate(std::size_t i, const ProgressFactory& progress, const Log& log, const std::atomic<bool>* cancel);
    static std::vector<std::string> earlierSeriesFiles(const std::string& output);
    static void noteFilesLeftBehind(const std::vector<std::string>& earlier, SeriesSummary& s);
    void writeDiffs(SeriesSummary& s, const Log& log, const std::atomic<bool>* cancel) const;
    void writeCombined(SeriesSummary& s, const std::string& started,
                       const std::atomic<bool>* cancel) const;

    SeriesRequest request_;
    const DetectorRegistry& registry_;
    std::vector<SeriesDate> dates_;
};

}  // namespace riskmap

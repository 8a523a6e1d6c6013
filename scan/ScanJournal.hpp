#pragma once
// A crash-safe journal of finished tiles and their detections, kept next to the output while a
// scan runs. Append-only text: one record per line, each prefixed by its CRC-32, so a record cut
// short by a crash is recognised and dropped. `--resume` replays it; `riskmap merge` reads the
// journals of shards. The first record is the run's fingerprint: everything that decides the
// detections (inputs, options, tiling, shard), so a changed run is refused with the reason.
#include <cstdio>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/Json.hpp"
#include "core/JsonReader.hpp"
#include "detection/Detector.hpp"
#include "tiling/Coverage.hpp"

namespace riskmap {

struct JournalTile {
    std::size_t input = 0;
    std::size_t tile = 0;
    std::vector<Detection> detections;
    TileCoverage coverage;
    std::vector<Rejection> rejections;  // scan --explain only
};

class ScanJournal {
public:
    ~ScanJournal();
    ScanJournal(const ScanJournal&) = delete;
    ScanJournal& operator=(const ScanJournal&) = delete;
    ScanJournal(ScanJournal&&) noexcept;

    static std::string pathFor(const std::string& output) { return output + ".journal"; }

    // Whether a running scan holds the journal (locked while it runs).
    static bool inUse(const std::string& path);
    // Whether `path` is empty or starts as a riskmap journal record does ("%08x {"): a file that
    // does not is someone else's, and neither --resume nor a fresh start may delete it.
    static bool looksLikeJournal(const std::string& path);
    // The refusal when it is: one line, naming the journal.
    static std::string inUseMessage(const std::string& path);
    // Starts a new journal (replacing any) with the run's fingerprint. A journal another run
    // holds is never replaced, nor resumed: UsageError.
    static ScanJournal create(const std::string& path, const Json& fingerprint);
    // Reopens a journal to continue it: the fingerprint must match (UsageError naming what
    // changed otherwise); finished tiles are returned and a damaged tail is cut off.
    static ScanJournal resume(const std::string& path, const Json& fingerprint, const DetectorInfo& info,
                              std::vector<JournalTile>& done);
    // Reads a journal without changing it (for merging shards).
    static Json read(const std::string& path, const DetectorInfo* info, std::vector<JournalTile>* done);

    // After resume: what was damaged and dropped (for a warning), empty when nothing was. The
    // last record a kill cut short is not damage.
    const std::string& repairNote() const { return repairNote_; }

    void append(const JournalTile& tile);
    // Flushes to disk and keeps the journal open, so locked: the run holds its output until
    // its files are committed.
    void sync();
    void close();

    // "what differs" between two fingerprints, empty when equal. `ignore` skips top-level keys.
    static std::string differences(const Json& want, const Json& have, const std::vector<std::string>& ignore = {});

    static Json detectionToJson(const Detection& d);
    // The same as dumpJson(detectionToJson(d)), appended to `out` without building a tree.
    static void appendDetection(std::string& out, const Detection& d);
    static Detection detectionFromJson(const JsonReader& j, const DetectorInfo& info);
    static Json rejectionToJson(const Rejection& r);
    static Rejection rejectionFromJson(const JsonReader& j);

private:
    ScanJournal() = default;
    void writeRecord(const Json& record);
    void writeLine(const std::string& body);
    // `line` is kLinePrefix bytes (the CRC's place) and then the body: no copy of the body.
    void writeReserved(std::string& line);
    static constexpr std::size_t kLinePrefix = 9;  // "%08x "

    std::string path_, repairNote_;
    int fd_ = -1;
    double lastSync_ = 0;
};

}  // namespace riskmap

#include "scan/ScanJournal.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>

#include "core/Crc32.hpp"
#include "core/Error.hpp"
#include "core/JsonReader.hpp"

namespace riskmap {

namespace {

constexpr int kJournalVersion = 1;

double nowSeconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string hex8(std::uint32_t v) {
    char b[16];
    std::snprintf(b, sizeof b, "%08x", v);
    return b;
}

int openJournal(const std::string& path, int flags) {
    const int fd = ::open(path.c_str(), flags | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 && errno == ELOOP)
        throw UsageError("journal '" + path + "' is a symbolic link: riskmap never writes through links; remove it");
    if (fd < 0) throw DataError("cannot open journal '" + path + "': " + std::strerror(errno));
    return fd;
}

// A running scan holds its journal locked (flock, released when it closes or dies): a second
// scan of the same output, with --overwrite or --resume, would mix the two runs' files.
void lockOrRefuse(int fd, const std::string& path) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return;
    const int e = errno;
    ::close(fd);
    if (e == EWOULDBLOCK) throw UsageError(ScanJournal::inUseMessage(path));
    throw IoError("cannot lock journal '" + path + "': " + std::strerror(e));
}

// Calls `each` with every "crc json" line in order, parsed, one at a time (a merge of shards
// with 80,000 objects held every record's tree at once: issue 14); stops at the first damaged
// line. Returns the byte length of the good prefix so that a resumed run can cut the tail off.
// The descriptor refuses symbolic links (openJournal).
std::size_t forEachRecord(int fd, const std::string& path, const std::function<void(Json&&)>& each,
                          std::size_t* damagedRecord = nullptr) {
    std::string pending;
    std::size_t goodBytes = 0, records = 0;
    // A whole line that fails its check is damage (disk, an edit), unlike a last line a kill cut.
    auto damaged = [&] {
        if (damagedRecord) *damagedRecord = records + 1;
        return goodBytes;
    };
    char buf[1 << 16];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw DataError("cannot read journal '" + path + "': " + std::strerror(errno));
        if (n == 0) return goodBytes;  // what is left has no newline: a record cut short by a crash
        pending.append(buf, static_cast<std::size_t>(n));
        std::size_t pos = 0;
        for (std::size_t nl; (nl = pending.find('\n', pos)) != std::string::npos; pos = nl + 1) {
            const std::size_t len = nl - pos;
            if (len < 10 || pending[pos + 8] != ' ') return damaged();
            const std::string body = pending.substr(pos + 9, len - 9);
            if (hex8(crc32(body)) != pending.substr(pos, 8)) return damaged();
            Json rec;
            try {
                rec = parseJson(body, path);
            } catch (const DataError&) {
                return damaged();
            }
            each(std::move(rec));
            goodBytes += len + 1;
            ++records;
        }
        pending.erase(0, pos);
    }
}

// The same, on a journal opened for reading.
std::size_t forEachRecord(const std::string& path, const std::function<void(Json&&)>& each) {
    const int fd = openJournal(path, O_RDONLY);
    try {
        const std::size_t good = forEachRecord(fd, path, each);
        ::close(fd);
        return good;
    } catch (...) {
        ::close(fd);
        throw;
    }
}

void diffInto(const Json& a, const Json& b, const std::string& where, std::vector<std::string>& out) {
    if (out.size() >= 3) return;
    auto at = [&](const std::string& k) { return where.empty() ? k : where + "." + k; };
    if (a.is_object() && b.is_object()) {
        for (auto it = a.begin(); it != a.end(); ++it) {
            auto other = b.find(it.key());
            if (other == b.end())
                out.push_back(at(it.key()) + " is new");
            else
                diffInto(*it, *other, at(it.key()), out);
        }
        for (auto it = b.begin(); it != b.end(); ++it)
            if (!a.contains(it.key())) out.push_back(at(it.key()) + " was dropped");
        return;
    }
    if (a.is_array() && b.is_array() && a.size() == b.size()) {
        for (std::size_t i = 0; i < a.size(); ++i) diffInto(a[i], b[i], where + "[" + std::to_string(i) + "]", out);
        return;
    }
    // A long value (an input list, a band set) is shortened: a message of 2,000 characters said
    // less than its start (a sweep of hostile inputs).
    auto brief = [](const Json& j) {
        std::string t = dumpJson(j);
        return t.size() <= 120 ? t : t.substr(0, 100) + "... (" + std::to_string(t.size()) + " characters)";
    };
    if (dumpJson(a) != dumpJson(b)) out.push_back(where + " was " + brief(b) + ", now " + brief(a));
}

}  // namespace

ScanJournal::~ScanJournal() { close(); }

ScanJournal::ScanJournal(ScanJournal&& o) noexcept
    : path_(std::move(o.path_)),
      repairNote_(std::move(o.repairNote_)),
      fd_(o.fd_),
      lastSync_(o.lastSync_) {
    o.fd_ = -1;
}

void ScanJournal::sync() {
    if (fd_ >= 0) ::fdatasync(fd_);
}

void ScanJournal::close() {
    if (fd_ >= 0) {
        ::fdatasync(fd_);
        ::close(fd_);
        fd_ = -1;
    }
}

void ScanJournal::writeRecord(const Json& record) { writeLine(dumpJson(record)); }

void ScanJournal::writeLine(const std::string& body) {
    std::string line(kLinePrefix, ' ');
    line += body;
    writeReserved(line);
}

void ScanJournal::writeReserved(std::string& line) {
    const std::string crc = hex8(crc32(line.data() + kLinePrefix, line.size() - kLinePrefix));
    line.replace(0, crc.size(), crc);
    line += '\n';
    // One write per record: a kill leaves at most one partial line, which the CRC rejects.
    const char* p = line.data();
    std::size_t left = line.size();
    while (left > 0) {
        ssize_t n = ::write(fd_, p, left);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw IoError("writing journal '" + path_ + "' failed: " + std::strerror(errno));
        }
        p += n;
        left -= static_cast<std::size_t>(n);
    }
    // The page cache survives a killed process; fdatasync about once a second also covers a
    // crashed machine without slowing small tiles down.
    const double t = nowSeconds();
    if (t - lastSync_ > 1.0) {
        ::fdatasync(fd_);
        lastSync_ = t;
    }
}

std::string ScanJournal::inUseMessage(const std::string& path) {
    return "another riskmap run is writing this output now (its journal '" + path +
           "' is locked): wait for it to finish, or choose another -o";
}

bool ScanJournal::inUse(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return false;
    // A shared lock: only a writer holds the exclusive one, so two readers (merges of the same
    // shards) do not take each other for a running scan.
    const bool busy = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    ::close(fd);
    return busy;
}

ScanJournal ScanJournal::create(const std::string& path, const Json& fingerprint) {
    ScanJournal j;
    j.path_ = path;
    // Replace an earlier journal by unlinking it, never by writing through what the name
    // points at: a planted link must not redirect detections or clobber another file.
    struct stat st;
    if (::lstat(path.c_str(), &st) == 0) {
        if (S_ISLNK(st.st_mode))
            throw UsageError("journal '" + path + "' is a symbolic link: riskmap never writes through links; remove it");
        const int held = openJournal(path, O_RDONLY);
        lockOrRefuse(held, path);  // not another run's
        if (::unlink(path.c_str()) != 0) {
            const int e = errno;
            ::close(held);
            throw IoError("cannot replace journal '" + path + "': " + std::strerror(e));
        }
        ::close(held);
    }
    j.fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_APPEND | O_CLOEXEC, 0600);
    if (j.fd_ < 0) throw IoError("cannot create journal '" + path + "': " + std::strerror(errno));
    const int fd = j.fd_;
    j.fd_ = -1;  // lockOrRefuse closes it on failure
    lockOrRefuse(fd, path);
    j.fd_ = fd;
    Json header = Json::object();
    header["riskmap_journal"] = kJournalVersion;
    header["fingerprint"] = fingerprint;
    j.writeRecord(header);
    ::fdatasync(j.fd_);
    return j;
}

namespace {

// Limits a journal record must keep (a forged record must not make the reader allocate freely).
constexpr std::size_t kMaxDetectionsPerTile = 1000000;
constexpr std::size_t kMaxCoverageCells = 1u << 22;

JournalTile tileFromRecord(const JsonReader& r, const DetectorInfo& info) {
    JournalTile t;
    t.input = static_cast<std::size_t>(r.at("input").integer(0, 1 << 30));
    t.tile = static_cast<std::size_t>(r.at("tile").integer(0, std::int64_t{1} << 40));
    for (const auto& d : r.at("detections").items(kMaxDetectionsPerTile)) t.detections.push_back(ScanJournal::detectionFromJson(d, info));
    const auto cov = r.at("coverage").items(kMaxCoverageCells + 4);
    if (cov.size() < 4) r.at("coverage").fail("must start with the first cell and the cell counts");
    t.coverage.cx0 = static_cast<int>(cov[0].integer(0, 1 << 30));
    t.coverage.cy0 = static_cast<int>(cov[1].integer(0, 1 << 30));
    t.coverage.ncx = static_cast<int>(cov[2].integer(0, 1 << 20));
    t.coverage.ncy = static_cast<int>(cov[3].integer(0, 1 << 20));
    for (std::size_t k = 4; k < cov.size(); ++k) t.coverage.valid.push_back(static_cast<std::uint32_t>(cov[k].integer(0, kCoverageCell * kCoverageCell)));
    if (t.coverage.valid.size() != static_cast<std::size_t>(t.coverage.ncx) * static_cast<std::size_t>(t.coverage.ncy))
        r.at("coverage").fail("holds " + std::to_string(t.coverage.valid.size()) + " cells, not its " +
                              std::to_string(t.coverage.ncx) + " x " + std::to_string(t.coverage.ncy));
    if (auto x = r.find("rejected"))
        for (const auto& j : x->items(kMaxDetectionsPerTile)) t.rejections.push_back(ScanJournal::rejectionFromJson(j));
    return t;
}

}  // namespace

Json ScanJournal::read(const std::string& path, const DetectorInfo* info, std::vector<JournalTile>* done) {
    Json fingerprint;
    std::size_t n = 0;
    forEachRecord(path, [&](Json&& rec) {
        ++n;
        if (n == 1) {
            if (!rec.is_object() || !rec.contains("riskmap_journal")) return;
            const JsonReader header(rec, path, "record 1");
            if (header.at("riskmap_journal").integer() != kJournalVersion)
                throw DataError("'" + path + "' was written by an incompatible riskmap version");
            header.at("fingerprint").object();
            fingerprint = std::move(rec["fingerprint"]);
        } else if (done && info && !fingerprint.is_null()) {
            done->push_back(tileFromRecord(JsonReader(rec, path, "record " + std::to_string(n)), *info));
        }
    });
    if (fingerprint.is_null()) throw DataError("'" + path + "' is not a riskmap journal (or its header was cut short)");
    return fingerprint;
}

bool ScanJournal::looksLikeJournal(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return true;  // a link or unreadable: the opener says so
    struct stat st {};
    char head[kLinePrefix + 1] = {};
    const bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    const ssize_t n = regular ? ::read(fd, head, sizeof head) : -1;
    ::close(fd);
    if (!regular || n < 0) return false;
    if (n == 0) return true;  // created, killed before its header was written
    for (ssize_t i = 0; i < n; ++i) {
        const char c = head[i];
        const bool ok = i < 8 ? std::isxdigit(static_cast<unsigned char>(c)) != 0 : i == 8 ? c == ' ' : c == '{';
        if (!ok) return false;
    }
    return true;
}

ScanJournal ScanJournal::resume(const std::string& path, const Json& fingerprint, const DetectorInfo& info,
                                std::vector<JournalTile>& done) {
    // A file of someone else's under the journal's name was deleted as "no readable header" (a
    // hostile-input sweep): only what looks like a riskmap journal is started afresh.
    if (!looksLikeJournal(path))
        throw UsageError("'" + path + "' is not a riskmap journal: move it away, or pass --overwrite (without --resume) to replace it");
    ScanJournal j;
    j.path_ = path;
    const int fd = openJournal(path, O_RDWR | O_APPEND);
    lockOrRefuse(fd, path);
    j.fd_ = fd;
    Json header;  // the first record only: the tiles are read below, one record at a time
    std::size_t damagedAt = 0;
    const std::size_t good = forEachRecord(
        j.fd_, path,
        [&](Json&& rec) {
            if (header.is_null()) header = rec.is_object() ? std::move(rec) : Json::object();
        },
        &damagedAt);
    if (!header.contains("fingerprint")) {
        j.close();
        ScanJournal fresh = create(path, fingerprint);  // nothing usable
        fresh.repairNote_ =
            "the journal '" + path +
            "' had no readable header: it was started afresh, and every tile is scanned again";
        return fresh;
    }
    if (damagedAt)
        j.repairNote_ =
            "the journal '" + path + "' was damaged at record " + std::to_string(damagedAt) +
            ": it and the records after it were dropped, and their tiles are scanned again";
    std::string diff = differences(fingerprint, header["fingerprint"]);
    if (!diff.empty())
        throw UsageError("cannot resume from '" + path + "': " + diff +
                         "; rerun with the original inputs and options, or without --resume (and with --overwrite) to start over");
    done.clear();
    read(path, &info, &done);
    // Cut a damaged tail so that new records follow the last good one.
    if (::ftruncate(j.fd_, static_cast<off_t>(good)) != 0)
        throw IoError("cannot repair journal '" + path + "': " + std::strerror(errno));
    return j;
}

// The record is written as text directly: building a JSON tree per tile and tearing it down
// again was 9 % of a scan's CPU on a real-texture raster with 80,000 objects (perf). The bytes
// are those of dumpJson(detectionToJson(d)) (ScanJournal.TextWriterMatchesTheJsonTree).
void ScanJournal::appendDetection(std::string& out, const Detection& d) {
    out += "{\"a\":[" + std::to_string(d.anchor.x) + "," + std::to_string(d.anchor.y) + "],\"c\":" + jsonQuote(d.cls) +
           ",\"s\":" + formatDouble(d.score) + ",\"g\":[";
    auto ring = [&](const Ring& r) {
        out += '[';
        for (std::size_t i = 0; i < r.size(); ++i) {
            if (i) out += ',';
            appendDouble(out, r[i].x);
            out += ',';
            appendDouble(out, r[i].y);
        }
        out += ']';
    };
    for (std::size_t p = 0; p < d.geometry.parts.size(); ++p) {
        out += p ? ",[" : "[";
        ring(d.geometry.parts[p].outer);
        for (const auto& h : d.geometry.parts[p].holes) {
            out += ',';
            ring(h);
        }
        out += ']';
    }
    out += "],\"v\":[";
    for (std::size_t i = 0; i < d.attributes.size(); ++i) {
        if (i) out += ',';
        const auto& a = d.attributes[i];
        switch (a.index()) {
            case 0: out += std::to_string(std::get<std::int64_t>(a)); break;
            case 1: out += formatDouble(std::get<double>(a)); break;
            case 2: out += jsonQuote(std::get<std::string>(a)); break;
            default: out += std::get<bool>(a) ? "true" : "false"; break;
        }
    }
    out += "]}";
}

void ScanJournal::append(const JournalTile& tile) {
    std::string body(kLinePrefix, ' ');
    body += "{\"input\":" + std::to_string(tile.input) + ",\"tile\":" + std::to_string(tile.tile) +
            ",\"detections\":[";
    for (std::size_t i = 0; i < tile.detections.size(); ++i) {
        if (i) body += ',';
        appendDetection(body, tile.detections[i]);
    }
    body += "],\"coverage\":[" + std::to_string(tile.coverage.cx0) + "," + std::to_string(tile.coverage.cy0) + "," +
            std::to_string(tile.coverage.ncx) + "," + std::to_string(tile.coverage.ncy);
    for (std::uint32_t v : tile.coverage.valid) body += "," + std::to_string(v);
    body += ']';
    if (!tile.rejections.empty()) {
        Json x = Json::array();
        for (const auto& r : tile.rejections) x.push_back(rejectionToJson(r));
        body += ",\"rejected\":" + dumpJson(x);
    }
    body += '}';
    writeReserved(body);
}

std::string ScanJournal::differences(const Json& want, const Json& have, const std::vector<std::string>& ignore) {
    Json a = want, b = have;
    for (const auto& k : ignore) {
        if (a.is_object()) a[k] = Json();
        if (b.is_object()) b[k] = Json();
    }
    std::vector<std::string> out;
    diffInto(a, b, "", out);
    std::string s;
    for (const auto& d : out) s += (s.empty() ? "" : "; ") + d;
    return s;
}

Json ScanJournal::detectionToJson(const Detection& d) {
    // Doubles are written in their shortest exact form, so a replayed detection is identical.
    Json j = Json::object();
    Json anchor = Json::array();
    anchor.push_back(d.anchor.x);
    anchor.push_back(d.anchor.y);
    j["a"] = anchor;
    j["c"] = d.cls;
    j["s"] = d.score;
    Json parts = Json::array();
    for (const auto& p : d.geometry.parts) {
        Json rings = Json::array();
        auto ring = [](const Ring& r) {
            Json flat = Json::array();
            for (const auto& q : r) {
                flat.push_back(q.x);
                flat.push_back(q.y);
            }
            return flat;
        };
        rings.push_back(ring(p.outer));
        for (const auto& h : p.holes) rings.push_back(ring(h));
        parts.push_back(rings);
    }
    j["g"] = parts;
    Json attrs = Json::array();
    for (const auto& a : d.attributes) {
        switch (a.index()) {
            case 0: attrs.push_back(Json(static_cast<long long>(std::get<std::int64_t>(a)))); break;
            case 1: attrs.push_back(Json(std::get<double>(a))); break;
            case 2: attrs.push_back(Json(std::get<std::string>(a))); break;
            default: attrs.push_back(Json(std::get<bool>(a))); break;
        }
    }
    j["v"] = attrs;
    return j;
}

Json ScanJournal::rejectionToJson(const Rejection& r) {
    Json j = detectionToJson(r.candidate);
    j["gate"] = r.gate;
    j["value"] = r.value;
    j["limit"] = r.limit;
    Json m = Json::object();
    for (const auto& [k, v] : r.measures) m[k] = v;
    j["m"] = m;
    return j;
}

Rejection ScanJournal::rejectionFromJson(const JsonReader& j) {
    static const DetectorInfo none;  // a rejection carries no attributes
    Rejection r;
    r.candidate = detectionFromJson(j, none);
    r.gate = j.at("gate").str();
    r.value = j.at("value").json().is_null() ? std::nan("") : j.at("value").number();
    r.limit = j.at("limit").json().is_null() ? std::nan("") : j.at("limit").number();
    for (const auto& [k, v] : j.at("m").members()) r.measures.emplace_back(k, v.json().is_null() ? std::nan("") : v.number());
    return r;
}

Detection ScanJournal::detectionFromJson(const JsonReader& j, const DetectorInfo& info) {
    Detection d;
    const auto a = j.at("a").items(2);
    if (a.size() != 2) j.at("a").fail("must hold the anchor's column and row");
    d.anchor = cv::Point(static_cast<int>(a[0].integer(0, INT32_MAX)), static_cast<int>(a[1].integer(0, INT32_MAX)));
    d.cls = j.at("c").str();
    d.score = j.at("s").number(0, 1);
    // An object without an outline crashed whatever read it next (a forged record, a sweep).
    if (j.at("g").items().empty()) j.at("g").fail("has no polygon");
    for (const auto& part : j.at("g").items()) {
        Polygon p;
        bool first = true;
        for (const auto& flat : part.items()) {
            Ring r;
            const auto v = flat.items();
            if (v.size() % 2 || v.size() < 6) flat.fail("must hold at least three x, y pairs");
            for (std::size_t i = 0; i + 1 < v.size(); i += 2) r.emplace_back(v[i].number(), v[i + 1].number());
            (first ? p.outer : p.holes.emplace_back()) = std::move(r);
            first = false;
        }
        if (first) part.fail("has no ring");
        d.geometry.parts.push_back(std::move(p));
    }
    const auto v = j.at("v").items();
    if (v.size() != info.attributes.size())
        j.at("v").fail("has " + std::to_string(v.size()) + " attributes, detector '" + info.name + "' has " +
                       std::to_string(info.attributes.size()));
    for (std::size_t i = 0; i < v.size(); ++i) {
        switch (info.attributes[i].type) {
            case AttributeType::Int: d.attributes.emplace_back(v[i].integer()); break;
            case AttributeType::Double: d.attributes.emplace_back(v[i].json().is_null() ? std::nan("") : v[i].number()); break;
            case AttributeType::String: d.attributes.emplace_back(v[i].str()); break;
            case AttributeType::Bool: d.attributes.emplace_back(v[i].boolean()); break;
        }
    }
    return d;
}

}  // namespace riskmap

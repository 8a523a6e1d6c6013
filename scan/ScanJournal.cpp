#include "scan/ScanJournal.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/Crc32.hpp"
#include "core/Error.hpp"

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

// The journal's bytes, read through a descriptor that refuses symbolic links.
std::string readAll(int fd, const std::string& path) {
    std::string data;
    char buf[1 << 16];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw DataError("cannot read journal '" + path + "': " + std::strerror(errno));
        if (n == 0) break;
        data.append(buf, static_cast<std::size_t>(n));
    }
    return data;
}

int openJournal(const std::string& path, int flags) {
    const int fd = ::open(path.c_str(), flags | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 && errno == ELOOP)
        throw UsageError("journal '" + path + "' is a symbolic link: riskmap never writes through links; remove it");
    if (fd < 0) throw DataError("cannot open journal '" + path + "': " + std::strerror(errno));
    return fd;
}

// Parses "crc json" lines; stops at the first damaged one. Returns the byte length of the good
// prefix so that a resumed run can cut the tail off.
std::vector<Json> readRecords(int fd, const std::string& path, std::size_t& goodBytes) {
    const std::string data = readAll(fd, path);
    std::vector<Json> out;
    goodBytes = 0;
    std::size_t pos = 0;
    while (pos < data.size()) {
        const std::size_t nl = data.find('\n', pos);
        if (nl == std::string::npos) break;  // no newline: a record cut short by a crash
        const std::string line = data.substr(pos, nl - pos);
        if (line.size() < 10 || line[8] != ' ') break;
        std::string body = line.substr(9);
        if (hex8(crc32(body)) != line.substr(0, 8)) break;
        try {
            out.push_back(Json::parse(body, path));
        } catch (const DataError&) {
            break;
        }
        pos = nl + 1;
        goodBytes = pos;
    }
    return out;
}

std::vector<Json> readRecords(const std::string& path, std::size_t& goodBytes) {
    const int fd = openJournal(path, O_RDONLY);
    try {
        auto recs = readRecords(fd, path, goodBytes);
        ::close(fd);
        return recs;
    } catch (...) {
        ::close(fd);
        throw;
    }
}

void diffInto(const Json& a, const Json& b, const std::string& where, std::vector<std::string>& out) {
    if (out.size() >= 3) return;
    if (a.isObject() && b.isObject()) {
        for (const auto& kv : a.asObject()) {
            const Json* other = b.find(kv.first);
            std::string at = where.empty() ? kv.first : where + "." + kv.first;
            if (!other)
                out.push_back(at + " is new");
            else
                diffInto(kv.second, *other, at, out);
        }
        for (const auto& kv : b.asObject())
            if (!a.find(kv.first)) out.push_back((where.empty() ? kv.first : where + "." + kv.first) + " was dropped");
        return;
    }
    if (a.isArray() && b.isArray() && a.asArray().size() == b.asArray().size()) {
        for (std::size_t i = 0; i < a.asArray().size(); ++i)
            diffInto(a.asArray()[i], b.asArray()[i], where + "[" + std::to_string(i) + "]", out);
        return;
    }
    if (a.dump() != b.dump()) out.push_back(where + " was " + b.dump() + ", now " + a.dump());
}

}  // namespace

ScanJournal::~ScanJournal() { close(); }

ScanJournal::ScanJournal(ScanJournal&& o) noexcept : path_(std::move(o.path_)), fd_(o.fd_), lastSync_(o.lastSync_) {
    o.fd_ = -1;
}

void ScanJournal::close() {
    if (fd_ >= 0) {
        ::fdatasync(fd_);
        ::close(fd_);
        fd_ = -1;
    }
}

void ScanJournal::writeRecord(const Json& record) {
    const std::string body = record.dump();
    const std::string line = hex8(crc32(body)) + " " + body + "\n";
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

ScanJournal ScanJournal::create(const std::string& path, const Json& fingerprint) {
    ScanJournal j;
    j.path_ = path;
    // Replace an earlier journal by unlinking it, never by writing through what the name
    // points at: a planted link must not redirect detections or clobber another file.
    struct stat st;
    if (::lstat(path.c_str(), &st) == 0) {
        if (S_ISLNK(st.st_mode))
            throw UsageError("journal '" + path + "' is a symbolic link: riskmap never writes through links; remove it");
        if (::unlink(path.c_str()) != 0) throw IoError("cannot replace journal '" + path + "': " + std::strerror(errno));
    }
    j.fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_APPEND | O_CLOEXEC, 0600);
    if (j.fd_ < 0) throw IoError("cannot create journal '" + path + "': " + std::strerror(errno));
    Json header = Json::object();
    header.set("riskmap_journal", kJournalVersion);
    header.set("fingerprint", fingerprint);
    j.writeRecord(header);
    ::fdatasync(j.fd_);
    return j;
}

Json ScanJournal::read(const std::string& path, const DetectorInfo* info, std::vector<JournalTile>* done) {
    std::size_t good = 0;
    std::vector<Json> recs = readRecords(path, good);
    if (recs.empty() || !recs[0].find("riskmap_journal"))
        throw DataError("'" + path + "' is not a riskmap journal (or its header was cut short)");
    if (recs[0].find("riskmap_journal")->asInt() != kJournalVersion)
        throw DataError("'" + path + "' was written by an incompatible riskmap version");
    if (done && info) {
        for (std::size_t i = 1; i < recs.size(); ++i) {
            JournalTile t;
            t.input = static_cast<std::size_t>(recs[i].find("input")->asInt());
            t.tile = static_cast<std::size_t>(recs[i].find("tile")->asInt());
            for (const auto& d : recs[i].find("detections")->asArray()) t.detections.push_back(detectionFromJson(d, *info));
            if (const Json* cov = recs[i].find("coverage")) {
                const auto& v = cov->asArray();
                t.coverage.cx0 = static_cast<int>(v.at(0).asInt());
                t.coverage.cy0 = static_cast<int>(v.at(1).asInt());
                t.coverage.ncx = static_cast<int>(v.at(2).asInt());
                t.coverage.ncy = static_cast<int>(v.at(3).asInt());
                for (std::size_t k = 4; k < v.size(); ++k) t.coverage.valid.push_back(static_cast<std::uint32_t>(v[k].asInt()));
                if (t.coverage.valid.size() != static_cast<std::size_t>(t.coverage.ncx) * t.coverage.ncy)
                    throw DataError("journal '" + path + "' has a damaged coverage record");
            }
            done->push_back(std::move(t));
        }
    }
    return *recs[0].find("fingerprint");
}

ScanJournal ScanJournal::resume(const std::string& path, const Json& fingerprint, const DetectorInfo& info,
                                std::vector<JournalTile>& done) {
    ScanJournal j;
    j.path_ = path;
    j.fd_ = openJournal(path, O_RDWR | O_APPEND);
    std::size_t good = 0;
    std::vector<Json> recs = readRecords(j.fd_, path, good);
    if (recs.empty() || !recs[0].find("fingerprint")) {
        j.close();
        return create(path, fingerprint);  // nothing usable
    }
    std::string diff = differences(fingerprint, *recs[0].find("fingerprint"));
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

void ScanJournal::append(const JournalTile& tile) {
    Json rec = Json::object();
    rec.set("input", tile.input);
    rec.set("tile", tile.tile);
    Json dets = Json::array();
    for (const auto& d : tile.detections) dets.push(detectionToJson(d));
    rec.set("detections", dets);
    Json cov = Json::array();
    for (int v : {tile.coverage.cx0, tile.coverage.cy0, tile.coverage.ncx, tile.coverage.ncy}) cov.push(v);
    for (std::uint32_t v : tile.coverage.valid) cov.push(static_cast<long long>(v));
    rec.set("coverage", cov);
    writeRecord(rec);
}

std::string ScanJournal::differences(const Json& want, const Json& have, const std::vector<std::string>& ignore) {
    Json a = want, b = have;
    for (const auto& k : ignore) {
        if (a.isObject()) a.set(k, Json());
        if (b.isObject()) b.set(k, Json());
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
    anchor.push(d.anchor.x);
    anchor.push(d.anchor.y);
    j.set("a", anchor);
    j.set("c", d.cls);
    j.set("s", d.score);
    Json parts = Json::array();
    for (const auto& p : d.geometry.parts) {
        Json rings = Json::array();
        auto ring = [](const Ring& r) {
            Json flat = Json::array();
            for (const auto& q : r) {
                flat.push(q.x);
                flat.push(q.y);
            }
            return flat;
        };
        rings.push(ring(p.outer));
        for (const auto& h : p.holes) rings.push(ring(h));
        parts.push(rings);
    }
    j.set("g", parts);
    Json attrs = Json::array();
    for (const auto& a : d.attributes) {
        switch (a.index()) {
            case 0: attrs.push(Json(static_cast<long long>(std::get<std::int64_t>(a)))); break;
            case 1: attrs.push(Json(std::get<double>(a))); break;
            case 2: attrs.push(Json(std::get<std::string>(a))); break;
            default: attrs.push(Json(std::get<bool>(a))); break;
        }
    }
    j.set("v", attrs);
    return j;
}

Detection ScanJournal::detectionFromJson(const Json& j, const DetectorInfo& info) {
    Detection d;
    const auto& a = j.find("a")->asArray();
    d.anchor = cv::Point(static_cast<int>(a.at(0).asInt()), static_cast<int>(a.at(1).asInt()));
    d.cls = j.find("c")->asString();
    d.score = j.find("s")->asDouble();
    for (const auto& part : j.find("g")->asArray()) {
        Polygon p;
        bool first = true;
        for (const auto& flat : part.asArray()) {
            Ring r;
            const auto& v = flat.asArray();
            for (std::size_t i = 0; i + 1 < v.size(); i += 2) r.emplace_back(v[i].asDouble(), v[i + 1].asDouble());
            if (first)
                p.outer = std::move(r);
            else
                p.holes.push_back(std::move(r));
            first = false;
        }
        d.geometry.parts.push_back(std::move(p));
    }
    const auto& v = j.find("v")->asArray();
    if (v.size() != info.attributes.size())
        throw DataError("journal detection has " + std::to_string(v.size()) + " attributes, detector '" + info.name +
                        "' has " + std::to_string(info.attributes.size()));
    for (std::size_t i = 0; i < v.size(); ++i) {
        switch (info.attributes[i].type) {
            case AttributeType::Int: d.attributes.emplace_back(v[i].asInt()); break;
            case AttributeType::Double: d.attributes.emplace_back(v[i].asDouble()); break;
            case AttributeType::String: d.attributes.emplace_back(v[i].asString()); break;
            case AttributeType::Bool: d.attributes.emplace_back(v[i].asBool()); break;
        }
    }
    return d;
}

}  // namespace riskmap

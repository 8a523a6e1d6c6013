#include "detection/DetectionPack.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <new>
#include <utility>

#include "core/Error.hpp"
#include "core/SpillFile.hpp"

namespace riskmap {

namespace {

constexpr std::size_t kChunk = std::size_t{1} << 20;
enum RingMode : std::uint8_t { kSteps = 0, kDoubles = 1 };

// Where encode() puts a record: into a chunk, or only counted, so that push() and
// packedBytes() walk the same code and cannot disagree.
struct ByteSink {
    std::uint8_t* out;  // room for the whole record was made before
    void byte(std::uint8_t b) { *out++ = b; }
    void bytes(const void* p, std::size_t n) {
        std::memcpy(out, p, n);
        out += n;
    }
};

struct CountSink {
    std::size_t n = 0;
    void byte(std::uint8_t) { ++n; }
    void bytes(const void*, std::size_t k) { n += k; }
};

template <class Sink>
void putVarint(Sink& out, std::uint64_t v) {
    while (v >= 0x80) {
        out.byte(static_cast<std::uint8_t>(v | 0x80));
        v >>= 7;
    }
    out.byte(static_cast<std::uint8_t>(v));
}

template <class Sink>
void putSigned(Sink& out, std::int64_t v) {
    putVarint(out, (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
}

template <class Sink, class T>
void putRaw(Sink& out, const T& v) {
    out.bytes(&v, sizeof v);
}

template <class Sink>
void putString(Sink& out, const std::string& s) {
    putVarint(out, s.size());
    out.bytes(s.data(), s.size());
}

// Pixel-corner outlines are integers well inside int32: those are stored as steps.
bool integral(const Ring& r) {
    constexpr double kLimit = 1 << 30;
    for (const auto& p : r)
        if (!(std::fabs(p.x) < kLimit && std::fabs(p.y) < kLimit) || p.x != std::floor(p.x) || p.y != std::floor(p.y) ||
            (p.x == 0 && std::signbit(p.x)) || (p.y == 0 && std::signbit(p.y)))
            return false;
    return true;
}

template <class Sink>
void putRing(Sink& out, const Ring& r) {
    putVarint(out, r.size());
    if (!integral(r)) {
        out.byte(kDoubles);
        for (const auto& p : r) putRaw(out, p.x), putRaw(out, p.y);
        return;
    }
    out.byte(kSteps);
    std::int64_t x = 0, y = 0;
    for (const auto& p : r) {
        const auto px = static_cast<std::int64_t>(p.x), py = static_cast<std::int64_t>(p.y);
        putSigned(out, px - x), putSigned(out, py - y);
        x = px, y = py;
    }
}

template <class Sink>
void putAttribute(Sink& out, const AttributeValue& a) {
    out.byte(static_cast<std::uint8_t>(a.index()));
    switch (a.index()) {
        case 0: putRaw(out, std::get<std::int64_t>(a)); break;
        case 1: putRaw(out, std::get<double>(a)); break;
        case 2: putString(out, std::get<std::string>(a)); break;
        default: out.byte(std::get<bool>(a) ? 1 : 0); break;
    }
}

// The record: anchor, score, class (the head), parts with their rings, attributes.
template <class Sink>
void encode(Sink& out, const Detection& d) {
    putRaw(out, static_cast<std::int32_t>(d.anchor.x));
    putRaw(out, static_cast<std::int32_t>(d.anchor.y));
    putRaw(out, d.score);
    putString(out, d.cls);
    putVarint(out, d.geometry.parts.size());
    for (const Polygon& part : d.geometry.parts) {
        putVarint(out, part.holes.size());
        putRing(out, part.outer);
        for (const Ring& h : part.holes) putRing(out, h);
    }
    putVarint(out, d.attributes.size());
    for (const auto& a : d.attributes) putAttribute(out, a);
}

struct Reader {
    const std::uint8_t* p;
    std::uint64_t varint() {
        std::uint64_t v = 0;
        for (int shift = 0;; shift += 7) {
            const std::uint8_t b = *p++;
            v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
            if (!(b & 0x80)) return v;
        }
    }
    std::int64_t signedVarint() {
        const std::uint64_t z = varint();
        return static_cast<std::int64_t>(z >> 1) ^ -static_cast<std::int64_t>(z & 1);
    }
    template <class T>
    T raw() {
        T v;
        std::memcpy(&v, p, sizeof v);
        p += sizeof v;
        return v;
    }
    std::string string() {
        const auto n = static_cast<std::size_t>(varint());
        std::string s(reinterpret_cast<const char*>(p), n);
        p += n;
        return s;
    }
    Ring ring() {
        Ring r(static_cast<std::size_t>(varint()));
        if (*p++ == kDoubles) {
            for (auto& q : r) q.x = raw<double>(), q.y = raw<double>();
            return r;
        }
        std::int64_t x = 0, y = 0;
        for (auto& q : r) {
            x += signedVarint(), y += signedVarint();
            q = {static_cast<double>(x), static_cast<double>(y)};
        }
        return r;
    }
    DetectionPack::Head head() {
        DetectionPack::Head h;
        h.anchor.x = raw<std::int32_t>();
        h.anchor.y = raw<std::int32_t>();
        h.score = raw<double>();
        h.cls = string();
        return h;
    }
    AttributeValue attribute() {
        switch (*p++) {
            case 0: return raw<std::int64_t>();
            case 1: return raw<double>();
            case 2: return string();
            default: return *p++ != 0;
        }
    }
};

}  // namespace

DetectionPack::DetectionPack() = default;
DetectionPack::~DetectionPack() { release(); }

DetectionPack::DetectionPack(DetectionPack&& o) noexcept { *this = std::move(o); }

DetectionPack& DetectionPack::operator=(DetectionPack&& o) noexcept {
    if (this == &o) return *this;
    release();
    chunks_.swap(o.chunks_);
    at_.swap(o.at_);
    std::swap(resident_, o.resident_);
    std::swap(residentLimit_, o.residentLimit_);
    std::swap(spilled_, o.spilled_);
    spill_.swap(o.spill_);
    return *this;
}

void DetectionPack::release() {
    for (Chunk& c : chunks_)
        if (c.data) munmap(c.data, c.capacity);
    chunks_.clear();
    at_.clear();
    resident_ = spilled_ = 0;
    spill_.reset();
}

void DetectionPack::spillBeyond(std::size_t residentBytes, std::shared_ptr<SpillFile> file) {
    residentLimit_ = residentBytes;
    spill_ = std::move(file);
}

// Called when every chunk is full: they all go to the file, in order.
void DetectionPack::spillFullChunks() {
    for (Chunk& c : chunks_) {
        if (!c.data) continue;
        if (c.size > 0) c.spilled = spill_->append(c.data, c.size);
        spilled_ += c.size;
        munmap(c.data, c.capacity);
        resident_ -= c.capacity;
        c.data = nullptr;
    }
}

void DetectionPack::dropResident() const {
    if (spill_) spill_->dropResident();
}

void DetectionPack::push(const Detection& d) {
    CountSink count;
    encode(count, d);
    const std::size_t bytes = count.n;
    if (chunks_.empty() || chunks_.back().size + bytes > chunks_.back().capacity) {
        if (chunks_.size() >= std::numeric_limits<std::uint32_t>::max() || bytes > kChunk * 1024)
            throw Error("a detection too large to hold (" + std::to_string(bytes) + " bytes packed)");
        // Chunks grow from 64 KiB to 1 MiB: a scan of many inputs with few detections each must
        // not reserve a megabyte per input.
        const std::size_t grown = chunks_.empty() ? kChunk / 16 : std::min(kChunk, 2 * chunks_.back().capacity);
        if (spill_ && resident_ > residentLimit_) spillFullChunks();
        Chunk c;
        c.capacity = roundUpToPage(std::max(grown, bytes));
        chunks_.reserve(chunks_.size() + 1);  // so that a mapping made is always recorded
        void* at = mmap(nullptr, c.capacity, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (at == MAP_FAILED) throw std::bad_alloc();
        c.data = static_cast<std::uint8_t*>(at);
        chunks_.push_back(c);
        resident_ += c.capacity;
    }
    Chunk& c = chunks_.back();  // appended in place: the capacity holds the record
    at_.push_back({static_cast<std::uint32_t>(chunks_.size() - 1), static_cast<std::uint32_t>(c.size)});
    ByteSink out{c.data + c.size};
    encode(out, d);
    c.size += bytes;
}

const std::uint8_t* DetectionPack::record(std::size_t i) const {
    const Where w = at_.at(i);
    const Chunk& c = chunks_[w.chunk];
    return (c.spilled ? c.spilled : c.data) + w.offset;
}

DetectionPack::Head DetectionPack::head(std::size_t i) const {
    Reader r{record(i)};
    return r.head();
}

Detection DetectionPack::at(std::size_t i) const {
    Reader r{record(i)};
    Detection d;
    Head head = r.head();
    d.anchor = head.anchor;
    d.score = head.score;
    d.cls = std::move(head.cls);
    d.geometry.parts.resize(static_cast<std::size_t>(r.varint()));
    for (Polygon& part : d.geometry.parts) {
        part.holes.resize(static_cast<std::size_t>(r.varint()));
        part.outer = r.ring();
        for (Ring& h : part.holes) h = r.ring();
    }
    d.attributes.resize(static_cast<std::size_t>(r.varint()));
    for (auto& a : d.attributes) a = r.attribute();
    return d;
}

std::size_t DetectionPack::heapBytes() const {
    return at_.capacity() * sizeof(Where) + chunks_.capacity() * sizeof(Chunk) + resident_;
}

std::size_t DetectionPack::packedBytes(const Detection& d) {
    CountSink count;
    encode(count, d);
    return count.n + sizeof(Where);
}

}  // namespace riskmap

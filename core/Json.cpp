#include "core/Json.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <vector>

#include "core/Error.hpp"
#include "core/TextFile.hpp"

namespace riskmap {

namespace {

// "line:column" of a byte offset, for messages.
std::string positionOf(const std::string& text, std::size_t offset) {
    std::size_t line = 1, col = 1;
    for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
        if (text[i] == '\n') {
            ++line;
            col = 1;
        } else {
            ++col;
        }
    }
    return std::to_string(line) + ":" + std::to_string(col);
}

// The library's message without its "[json.exception...] " prefix.
std::string reason(const nlohmann::detail::exception& e) {
    std::string m = e.what();
    const auto close = m.find("] ");
    return close == std::string::npos ? m : m.substr(close + 2);
}

void writeValue(std::string& out, const Json& v, int indent, int depth);

void newline(std::string& out, int indent, int depth) {
    if (indent < 0) return;
    out += '\n';
    out.append(static_cast<std::size_t>(indent) * static_cast<std::size_t>(depth), ' ');
}

void writeContainer(std::string& out, const Json& v, int indent, int depth) {
    const bool object = v.is_object();
    out += object ? '{' : '[';
    bool first = true;
    for (auto it = v.begin(); it != v.end(); ++it) {
        if (!first) out += ',';
        first = false;
        newline(out, indent, depth + 1);
        if (object) {
            out += jsonQuote(it.key());
            out += indent < 0 ? ":" : ": ";
        }
        writeValue(out, *it, indent, depth + 1);
    }
    if (!first) newline(out, indent, depth);
    out += object ? '}' : ']';
}

void writeValue(std::string& out, const Json& v, int indent, int depth) {
    switch (v.type()) {
        case Json::value_t::null: out += "null"; break;
        case Json::value_t::boolean: out += v.get<bool>() ? "true" : "false"; break;
        case Json::value_t::number_integer: out += std::to_string(v.get<std::int64_t>()); break;
        case Json::value_t::number_unsigned: out += std::to_string(v.get<std::uint64_t>()); break;
        case Json::value_t::number_float: out += formatDouble(v.get<double>()); break;
        case Json::value_t::string: out += jsonQuote(v.get_ref<const std::string&>()); break;
        case Json::value_t::object:
        case Json::value_t::array: writeContainer(out, v, indent, depth); break;
        default: out += "null"; break;  // binary and discarded values never occur in riskmap's JSON
    }
}

}  // namespace

Json parseJson(const std::string& text, const std::string& origin) {
    // Keys seen in each open object, innermost last: a key given twice is refused, since
    // which of the two values counts would otherwise be a guess.
    std::vector<std::set<std::string>> keys;
    std::string duplicate;
    auto guard = [&](int depth, nlohmann::json::parse_event_t event, Json& parsed) {
        using E = nlohmann::json::parse_event_t;
        if (depth > kMaxJsonDepth) throw DataError(origin + ": invalid JSON: nesting deeper than " + std::to_string(kMaxJsonDepth));
        if (event == E::object_start) keys.emplace_back();
        if (event == E::object_end && !keys.empty()) keys.pop_back();
        if (event == E::key && !keys.empty() && !keys.back().insert(parsed.get<std::string>()).second)
            throw DataError(origin + ": invalid JSON: key '" + parsed.get<std::string>() + "' is given twice");
        return true;
    };
    try {
        return Json::parse(text, guard);
    } catch (const nlohmann::json::parse_error& e) {
        throw DataError(origin + ":" + positionOf(text, e.byte > 0 ? e.byte - 1 : 0) + ": invalid JSON: " + reason(e));
    } catch (const nlohmann::json::exception& e) {
        throw DataError(origin + ": invalid JSON: " + reason(e));
    }
}

Json parseJsonFile(const std::string& path) {
    return parseJson(readTextFile(path, "JSON file"), path);
}

std::string dumpJson(const Json& value, int indent) {
    std::string out;
    writeValue(out, value, indent, 0);
    return out;
}

void appendDouble(std::string& out, double v) {
    if (!std::isfinite(v)) {
        out += "null";  // JSON has no NaN or infinity
        return;
    }
    char buf[64];
    char* end = std::to_chars(buf, buf + sizeof buf - 2, v).ptr;
    // Keep a visible decimal point so readers see a real number.
    if (std::find_if(buf, end, [](char c) { return c == '.' || c == 'e' || c == 'E'; }) == end)
        *end++ = '.', *end++ = '0';
    out.append(buf, end);
}

std::string formatDouble(double v) {
    std::string s;
    appendDouble(s, v);
    return s;
}

namespace {

// Bytes from i that form one valid UTF-8 sequence (RFC 3629), or 0.
std::size_t utf8Length(const std::string& s, std::size_t i) {
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = b(i);
    const std::size_t n = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c <= 0xDF ? 2 : 0;
    if (n == 0 || i + n > s.size()) return 0;
    for (std::size_t k = 1; k < n; ++k)
        if ((b(i + k) & 0xC0) != 0x80) return 0;
    if (n == 3 && ((c == 0xE0 && b(i + 1) < 0xA0) || (c == 0xED && b(i + 1) >= 0xA0))) return 0;  // overlong, surrogate
    if (n == 4 && ((c == 0xF0 && b(i + 1) < 0x90) || (c == 0xF4 && b(i + 1) >= 0x90))) return 0;  // overlong, > U+10FFFF
    return n;
}

}  // namespace

std::size_t appendUtf8(std::string& out, const std::string& s, std::size_t i) {
    const std::size_t n = utf8Length(s, i);
    if (n == 0) {
        out += "\xEF\xBF\xBD";  // U+FFFD, for this byte
        return 1;
    }
    out.append(s, i, n);
    return n;
}

// Invalid UTF-8 (half a character cut from a message, a file name in another encoding) becomes
// U+FFFD, each byte: JSON must be UTF-8, and an error event with half an 'ñ' was no JSON (a sweep).
std::string jsonQuote(const std::string& s) {
    std::string out;
    out.reserve(s.size() + 2);
    out += '"';
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (static_cast<unsigned char>(c) >= 0x80) {
            i += appendUtf8(out, s, i) - 1;
            continue;
        }
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
                    out += buf;
                } else {
                    out += c;
                }
        }
    }
    out += '"';
    return out;
}

const char* jsonTypeName(const Json& j) {
    if (j.is_number()) return "number";
    return j.type_name();
}

}  // namespace riskmap

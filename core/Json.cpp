#include "core/Json.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "core/Error.hpp"

namespace riskmap {

namespace {

[[noreturn]] void typeMismatch(const char* want, const Json& j) {
    throw DataError(std::string("expected a JSON ") + want + ", found " + j.typeName());
}

class Parser {
public:
    Parser(const std::string& text, const std::string& origin) : s_(text), origin_(origin) {}

    Json parseDocument() {
        Json v = parseValue(0);
        skipSpace();
        if (pos_ != s_.size()) fail("unexpected text after the JSON value");
        return v;
    }

private:
    [[noreturn]] void fail(const std::string& why) const {
        std::size_t line = 1, col = 1;
        for (std::size_t i = 0; i < pos_ && i < s_.size(); ++i) {
            if (s_[i] == '\n') {
                ++line;
                col = 1;
            } else {
                ++col;
            }
        }
        throw DataError(origin_ + ":" + std::to_string(line) + ":" + std::to_string(col) +
                        ": invalid JSON: " + why);
    }

    void skipSpace() {
        while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' ||
                                    s_[pos_] == '\r'))
            ++pos_;
    }

    bool consume(const char* word) {
        std::size_t n = std::char_traits<char>::length(word);
        if (s_.compare(pos_, n, word) == 0) {
            pos_ += n;
            return true;
        }
        return false;
    }

    Json parseValue(int depth) {
        if (depth > 200) fail("nesting too deep");
        skipSpace();
        if (pos_ >= s_.size()) fail("unexpected end of input");
        char c = s_[pos_];
        if (c == '{') return parseObject(depth);
        if (c == '[') return parseArray(depth);
        if (c == '"') return Json(parseString());
        if (consume("true")) return Json(true);
        if (consume("false")) return Json(false);
        if (consume("null")) return Json(nullptr);
        if (c == '-' || (c >= '0' && c <= '9')) return parseNumber();
        fail(std::string("unexpected character '") + c + "'");
    }

    Json parseObject(int depth) {
        ++pos_;  // {
        Json obj = Json::object();
        skipSpace();
        if (pos_ < s_.size() && s_[pos_] == '}') {
            ++pos_;
            return obj;
        }
        while (true) {
            skipSpace();
            if (pos_ >= s_.size() || s_[pos_] != '"') fail("expected a quoted key");
            std::string key = parseString();
            skipSpace();
            if (pos_ >= s_.size() || s_[pos_] != ':') fail("expected ':' after key \"" + key + "\"");
            ++pos_;
            if (obj.find(key)) fail("duplicate key \"" + key + "\"");
            obj.asObject().emplace_back(key, parseValue(depth + 1));
            skipSpace();
            if (pos_ < s_.size() && s_[pos_] == ',') {
                ++pos_;
                continue;
            }
            if (pos_ < s_.size() && s_[pos_] == '}') {
                ++pos_;
                return obj;
            }
            fail("expected ',' or '}' in object");
        }
    }

    Json parseArray(int depth) {
        ++pos_;  // [
        Json arr = Json::array();
        skipSpace();
        if (pos_ < s_.size() && s_[pos_] == ']') {
            ++pos_;
            return arr;
        }
        while (true) {
            arr.push(parseValue(depth + 1));
            skipSpace();
            if (pos_ < s_.size() && s_[pos_] == ',') {
                ++pos_;
                continue;
            }
            if (pos_ < s_.size() && s_[pos_] == ']') {
                ++pos_;
                return arr;
            }
            fail("expected ',' or ']' in array");
        }
    }

    static void appendUtf8(std::string& out, unsigned cp) {
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xC0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out += static_cast<char>(0xE0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            out += static_cast<char>(0xF0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        }
    }

    unsigned parseHex4() {
        if (pos_ + 4 > s_.size()) fail("short \\u escape");
        unsigned v = 0;
        for (int i = 0; i < 4; ++i) {
            char h = s_[pos_++];
            v <<= 4;
            if (h >= '0' && h <= '9')
                v |= static_cast<unsigned>(h - '0');
            else if (h >= 'a' && h <= 'f')
                v |= static_cast<unsigned>(h - 'a' + 10);
            else if (h >= 'A' && h <= 'F')
                v |= static_cast<unsigned>(h - 'A' + 10);
            else
                fail("bad \\u escape");
        }
        return v;
    }

    std::string parseString() {
        ++pos_;  // opening quote
        std::string out;
        while (true) {
            if (pos_ >= s_.size()) fail("unterminated string");
            char c = s_[pos_++];
            if (c == '"') return out;
            if (static_cast<unsigned char>(c) < 0x20) fail("control character in string");
            if (c != '\\') {
                out += c;
                continue;
            }
            if (pos_ >= s_.size()) fail("unterminated escape");
            char e = s_[pos_++];
            switch (e) {
                case '"': out += '"'; break;
                case '\\': out += '\\'; break;
                case '/': out += '/'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                case 'u': {
                    unsigned cp = parseHex4();
                    if (cp >= 0xD800 && cp < 0xDC00) {
                        if (!consume("\\u")) fail("lone surrogate in \\u escape");
                        unsigned lo = parseHex4();
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    }
                    appendUtf8(out, cp);
                    break;
                }
                default: fail(std::string("bad escape \\") + e);
            }
        }
    }

    Json parseNumber() {
        std::size_t start = pos_;
        bool isFloat = false;
        if (s_[pos_] == '-') ++pos_;
        while (pos_ < s_.size()) {
            char c = s_[pos_];
            if (c >= '0' && c <= '9') {
                ++pos_;
            } else if (c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
                isFloat = true;
                ++pos_;
            } else {
                break;
            }
        }
        const char* b = s_.data() + start;
        const char* e = s_.data() + pos_;
        if (!isFloat) {
            std::int64_t v = 0;
            auto r = std::from_chars(b, e, v);
            if (r.ec == std::errc() && r.ptr == e) return Json(static_cast<long long>(v));
        }
        double d = 0;
        auto r = std::from_chars(b, e, d);
        if (r.ec != std::errc() || r.ptr != e) fail("malformed number");
        return Json(d);
    }

    const std::string& s_;
    std::string origin_;
    std::size_t pos_ = 0;
};

}  // namespace

bool Json::asBool() const {
    if (!isBool()) typeMismatch("boolean", *this);
    return std::get<bool>(value_);
}

std::int64_t Json::asInt() const {
    if (isInt()) return std::get<std::int64_t>(value_);
    if (isDouble()) {
        double d = std::get<double>(value_);
        if (std::floor(d) == d && std::fabs(d) < 9.0e15) return static_cast<std::int64_t>(d);
    }
    typeMismatch("integer", *this);
}

double Json::asDouble() const {
    if (isDouble()) return std::get<double>(value_);
    if (isInt()) return static_cast<double>(std::get<std::int64_t>(value_));
    typeMismatch("number", *this);
}

const std::string& Json::asString() const {
    if (!isString()) typeMismatch("string", *this);
    return std::get<std::string>(value_);
}

const Json::Array& Json::asArray() const {
    if (!isArray()) typeMismatch("array", *this);
    return std::get<Array>(value_);
}

const Json::Object& Json::asObject() const {
    if (!isObject()) typeMismatch("object", *this);
    return std::get<Object>(value_);
}

Json::Array& Json::asArray() {
    if (!isArray()) typeMismatch("array", *this);
    return std::get<Array>(value_);
}

Json::Object& Json::asObject() {
    if (!isObject()) typeMismatch("object", *this);
    return std::get<Object>(value_);
}

Json& Json::set(const std::string& key, Json value) {
    auto& obj = asObject();
    for (auto& kv : obj) {
        if (kv.first == key) {
            kv.second = std::move(value);
            return kv.second;
        }
    }
    obj.emplace_back(key, std::move(value));
    return obj.back().second;
}

const Json* Json::find(const std::string& key) const {
    if (!isObject()) return nullptr;
    for (const auto& kv : std::get<Object>(value_))
        if (kv.first == key) return &kv.second;
    return nullptr;
}

Json* Json::find(const std::string& key) {
    if (!isObject()) return nullptr;
    for (auto& kv : std::get<Object>(value_))
        if (kv.first == key) return &kv.second;
    return nullptr;
}

Json& Json::push(Json value) {
    auto& arr = asArray();
    arr.push_back(std::move(value));
    return arr.back();
}

const char* Json::typeName() const {
    switch (value_.index()) {
        case 0: return "null";
        case 1: return "boolean";
        case 2: return "integer";
        case 3: return "number";
        case 4: return "string";
        case 5: return "array";
        default: return "object";
    }
}

std::string formatDouble(double v) {
    if (!std::isfinite(v)) return "null";  // JSON has no NaN or infinity
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    std::string s(buf, r.ptr);
    // Keep a visible decimal point so readers see a real number.
    if (s.find_first_of(".eE") == std::string::npos) s += ".0";
    return s;
}

std::string jsonQuote(const std::string& s) {
    std::string out;
    out.reserve(s.size() + 2);
    out += '"';
    for (char c : s) {
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

void Json::write(std::string& out, int indent, int depth) const {
    auto newline = [&](int d) {
        if (indent < 0) return;
        out += '\n';
        out.append(static_cast<std::size_t>(indent * d), ' ');
    };
    switch (value_.index()) {
        case 0: out += "null"; break;
        case 1: out += std::get<bool>(value_) ? "true" : "false"; break;
        case 2: out += std::to_string(std::get<std::int64_t>(value_)); break;
        case 3: out += formatDouble(std::get<double>(value_)); break;
        case 4: out += jsonQuote(std::get<std::string>(value_)); break;
        case 5: {
            const auto& arr = std::get<Array>(value_);
            if (arr.empty()) {
                out += "[]";
                break;
            }
            out += '[';
            for (std::size_t i = 0; i < arr.size(); ++i) {
                if (i) out += ',';
                newline(depth + 1);
                arr[i].write(out, indent, depth + 1);
            }
            newline(depth);
            out += ']';
            break;
        }
        default: {
            const auto& obj = std::get<Object>(value_);
            if (obj.empty()) {
                out += "{}";
                break;
            }
            out += '{';
            for (std::size_t i = 0; i < obj.size(); ++i) {
                if (i) out += ',';
                newline(depth + 1);
                out += jsonQuote(obj[i].first);
                out += indent < 0 ? ":" : ": ";
                obj[i].second.write(out, indent, depth + 1);
            }
            newline(depth);
            out += '}';
        }
    }
}

std::string Json::dump(int indent) const {
    std::string out;
    write(out, indent, 0);
    return out;
}

Json Json::parse(const std::string& text, const std::string& origin) {
    return Parser(text, origin).parseDocument();
}

Json Json::parseFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw DataError("cannot read " + path + ": check that the file exists and is readable");
    std::ostringstream ss;
    ss << in.rdbuf();
    return parse(ss.str(), path);
}

}  // namespace riskmap

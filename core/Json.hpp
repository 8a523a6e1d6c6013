#pragma once
// A small ordered JSON value. Object keys keep insertion order so that manifests,
// `detectors --json` and configs serialise deterministically.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace riskmap {

class Json {
public:
    using Array = std::vector<Json>;
    using Object = std::vector<std::pair<std::string, Json>>;

    Json() : value_(nullptr) {}
    Json(std::nullptr_t) : value_(nullptr) {}
    Json(bool b) : value_(b) {}
    Json(int v) : value_(static_cast<std::int64_t>(v)) {}
    Json(long v) : value_(static_cast<std::int64_t>(v)) {}
    Json(long long v) : value_(static_cast<std::int64_t>(v)) {}
    Json(unsigned v) : value_(static_cast<std::int64_t>(v)) {}
    Json(unsigned long v) : value_(static_cast<std::int64_t>(v)) {}
    Json(unsigned long long v) : value_(static_cast<std::int64_t>(v)) {}
    Json(double v) : value_(v) {}
    Json(const char* s) : value_(std::string(s)) {}
    Json(std::string s) : value_(std::move(s)) {}
    Json(Array a) : value_(std::move(a)) {}
    Json(Object o) : value_(std::move(o)) {}

    static Json object() { return Json(Object{}); }
    static Json array() { return Json(Array{}); }

    bool isNull() const { return std::holds_alternative<std::nullptr_t>(value_); }
    bool isBool() const { return std::holds_alternative<bool>(value_); }
    bool isInt() const { return std::holds_alternative<std::int64_t>(value_); }
    bool isDouble() const { return std::holds_alternative<double>(value_); }
    bool isNumber() const { return isInt() || isDouble(); }
    bool isString() const { return std::holds_alternative<std::string>(value_); }
    bool isArray() const { return std::holds_alternative<Array>(value_); }
    bool isObject() const { return std::holds_alternative<Object>(value_); }

    bool asBool() const;
    std::int64_t asInt() const;
    double asDouble() const;
    const std::string& asString() const;
    const Array& asArray() const;
    const Object& asObject() const;
    Array& asArray();
    Object& asObject();

    // Object access: set() replaces an existing key in place or appends.
    Json& set(const std::string& key, Json value);
    const Json* find(const std::string& key) const;
    Json* find(const std::string& key);
    // Array append.
    Json& push(Json value);

    // indent < 0 writes compact single-line JSON.
    std::string dump(int indent = -1) const;
    // Throws DataError with `origin` in the message on malformed text.
    static Json parse(const std::string& text, const std::string& origin);
    static Json parseFile(const std::string& path);

    // A short type name for error messages.
    const char* typeName() const;

private:
    void write(std::string& out, int indent, int depth) const;
    std::variant<std::nullptr_t, bool, std::int64_t, double, std::string, Array, Object> value_;
};

// Shortest text that reads back as the same double (C++17 to_chars).
std::string formatDouble(double v);
// JSON string literal with escapes.
std::string jsonQuote(const std::string& s);

}  // namespace riskmap

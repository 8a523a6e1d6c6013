#include "core/JsonReader.hpp"

#include <algorithm>

#include <cmath>

#include "core/Error.hpp"

namespace riskmap {

JsonReader::JsonReader(const Json& value, std::string origin, std::string path)
    : value_(&value), origin_(std::move(origin)), path_(std::move(path)) {}

std::string JsonReader::where() const { return "'" + origin_ + "'" + (path_.empty() ? "" : ": " + path_); }

void JsonReader::fail(const std::string& why) const { throw DataError(where() + " " + why); }

const Json& JsonReader::object() const {
    if (!value_->is_object()) fail(std::string("must be an object, not ") + jsonTypeName(*value_));
    return *value_;
}

const Json& JsonReader::array() const {
    if (!value_->is_array()) fail(std::string("must be an array, not ") + jsonTypeName(*value_));
    return *value_;
}

bool JsonReader::has(const std::string& key) const {
    if (!value_->is_object()) return false;
    auto it = value_->find(key);
    return it != value_->end() && !it->is_null();
}

JsonReader JsonReader::at(const std::string& key) const {
    const Json& obj = object();
    auto it = obj.find(key);
    const std::string p = path_.empty() ? key : path_ + "." + key;
    if (it == obj.end()) JsonReader(*value_, origin_, p).fail("is missing");
    return JsonReader(*it, origin_, p);
}

std::optional<JsonReader> JsonReader::find(const std::string& key) const {
    if (!has(key)) return std::nullopt;
    return at(key);
}

std::vector<JsonReader> JsonReader::items(std::size_t maxItems) const {
    const Json& arr = array();
    if (arr.size() > maxItems) fail("holds " + std::to_string(arr.size()) + " items, more than the " + std::to_string(maxItems) + " allowed");
    std::vector<JsonReader> out;
    out.reserve(arr.size());
    for (std::size_t i = 0; i < arr.size(); ++i) out.emplace_back(arr[i], origin_, path_ + "[" + std::to_string(i) + "]");
    return out;
}

void JsonReader::onlyKeys(const std::vector<std::string>& allowed) const {
    for (auto it = object().begin(); it != value_->end(); ++it) {
        if (std::find(allowed.begin(), allowed.end(), it.key()) != allowed.end()) continue;
        std::string list;
        for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
        fail("has an unknown key '" + it.key() + "' (known: " + list + ")");
    }
}

std::vector<std::pair<std::string, JsonReader>> JsonReader::members() const {
    std::vector<std::pair<std::string, JsonReader>> out;
    for (auto it = object().begin(); it != value_->end(); ++it)
        out.emplace_back(it.key(), JsonReader(it.value(), origin_, path_.empty() ? it.key() : path_ + "." + it.key()));
    return out;
}

std::string JsonReader::str() const {
    if (!value_->is_string()) fail(std::string("must be a string, not ") + jsonTypeName(*value_));
    return value_->get<std::string>();
}

bool JsonReader::boolean() const {
    if (!value_->is_boolean()) fail(std::string("must be true or false, not ") + jsonTypeName(*value_));
    return value_->get<bool>();
}

double JsonReader::number() const {
    if (!value_->is_number()) fail(std::string("must be a number, not ") + jsonTypeName(*value_));
    const double v = value_->get<double>();
    if (!std::isfinite(v)) fail("must be a finite number");
    return v;
}

double JsonReader::number(double lo, double hi) const {
    const double v = number();
    if (v < lo || v > hi) fail("is " + formatDouble(v) + ", outside " + formatDouble(lo) + " to " + formatDouble(hi));
    return v;
}

std::int64_t JsonReader::integer(std::int64_t lo, std::int64_t hi) const {
    if (!value_->is_number_integer()) fail(std::string("must be a whole number, not ") + jsonTypeName(*value_));
    if (value_->is_number_unsigned() && value_->get<std::uint64_t>() > static_cast<std::uint64_t>(hi))
        fail("is " + std::to_string(value_->get<std::uint64_t>()) + ", above " + std::to_string(hi));
    const std::int64_t v = value_->get<std::int64_t>();
    if (v < lo || v > hi) fail("is " + std::to_string(v) + ", outside " + std::to_string(lo) + " to " + std::to_string(hi));
    return v;
}

std::string JsonReader::str(const std::string& key, const std::string& fallback) const {
    auto v = find(key);
    return v ? v->str() : fallback;
}

double JsonReader::number(const std::string& key, double fallback) const {
    auto v = find(key);
    return v ? v->number() : fallback;
}

}  // namespace riskmap

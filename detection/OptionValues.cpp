#include "detection/OptionValues.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

#include "core/Error.hpp"
#include "core/JsonReader.hpp"

namespace riskmap {

const char* optionTypeName(OptionType t) {
    switch (t) {
        case OptionType::Bool: return "bool";
        case OptionType::Int: return "int";
        case OptionType::Double: return "number";
        case OptionType::String: return "string";
        case OptionType::Choice: return "choice";
    }
    return "?";
}

std::string optionValueText(const OptionValue& v) {
    switch (v.index()) {
        case 0: return std::get<bool>(v) ? "true" : "false";
        case 1: return std::to_string(std::get<std::int64_t>(v));
        case 2: {
            std::string s = formatDouble(std::get<double>(v));
            if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
            return s;
        }
        default: return std::get<std::string>(v);
    }
}

Json optionValueJson(const OptionValue& v) {
    switch (v.index()) {
        case 0: return Json(std::get<bool>(v));
        case 1: return Json(static_cast<long long>(std::get<std::int64_t>(v)));
        case 2: return Json(std::get<double>(v));
        default: return Json(std::get<std::string>(v));
    }
}

Json OptionSpec::toJson() const {
    Json j = Json::object();
    j["name"] = name;
    j["type"] = optionTypeName(type);
    j["default"] = optionValueJson(defaultValue);
    j["unit"] = unit;
    j["description"] = description;
    if (min) j["min"] = *min;
    if (max) j["max"] = *max;
    if (!choices.empty()) {
        Json c = Json::array();
        for (const auto& s : choices) c.push_back(s);
        j["choices"] = c;
    }
    return j;
}

OptionValues::OptionValues(std::vector<OptionSpec> specs)
    : specs_(std::make_shared<const std::vector<OptionSpec>>(std::move(specs))) {
    for (const auto& s : *specs_) values_.push_back(s.defaultValue);
    set_.assign(values_.size(), false);
}

std::size_t OptionValues::indexOf(const std::string& key) const {
    for (std::size_t i = 0; i < specs_->size(); ++i)
        if ((*specs_)[i].name == key) return i;
    std::string known;
    for (const auto& s : *specs_) known += (known.empty() ? "" : ", ") + s.name;
    throw UsageError("unknown option '" + key + "': this detector takes " +
                     (known.empty() ? std::string("no options") : known));
}

namespace {

// A limit as a user reads it: "600 m", but "1" for a probability, not "1 0-1" (an audit).
std::string withUnit(double limit, const std::string& unit) {
    const std::string text = optionValueText(OptionValue(limit));
    for (const char* physical : {"m", "m2", "ha", "px", "model px"})
        if (unit == physical) return text + " " + unit;
    return unit.empty() || unit == "0-1" ? text : text + " (" + unit + ")";
}

}  // namespace

void OptionValues::validate(const OptionSpec& spec, OptionValue& v) const {
    if (spec.type == OptionType::Double || spec.type == OptionType::Int) {
        double d = v.index() == 1 ? static_cast<double>(std::get<std::int64_t>(v))
                                  : std::get<double>(v);
        if (!std::isfinite(d))
            throw UsageError("option " + spec.name + " must be a finite number");
        if (spec.min && d < *spec.min)
            throw UsageError("option " + spec.name + "=" + optionValueText(v) + " is below the minimum " +
                             withUnit(*spec.min, spec.unit));
        if (spec.max && d > *spec.max)
            throw UsageError("option " + spec.name + "=" + optionValueText(v) + " is above the maximum " +
                             withUnit(*spec.max, spec.unit));
    }
    if (spec.type == OptionType::Choice) {
        const auto& s = std::get<std::string>(v);
        if (std::find(spec.choices.begin(), spec.choices.end(), s) == spec.choices.end()) {
            std::string c;
            for (const auto& x : spec.choices) c += (c.empty() ? "" : ", ") + x;
            throw UsageError("option " + spec.name + "='" + s + "' is not one of: " + c);
        }
    }
}

void OptionValues::setText(const std::string& key, const std::string& text) {
    std::size_t i = indexOf(key);
    const OptionSpec& spec = (*specs_)[i];
    OptionValue v;
    auto bad = [&](const char* want) {
        throw UsageError("option " + key + "='" + text + "' is not " + want);
    };
    switch (spec.type) {
        case OptionType::Bool: {
            std::string t = text;
            std::transform(t.begin(), t.end(), t.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            if (t == "true" || t == "1" || t == "yes" || t == "on")
                v = true;
            else if (t == "false" || t == "0" || t == "no" || t == "off")
                v = false;
            else
                bad("a boolean (true/false)");
            break;
        }
        case OptionType::Int: {
            std::int64_t x = 0;
            auto r = std::from_chars(text.data(), text.data() + text.size(), x);
            if (r.ec != std::errc() || r.ptr != text.data() + text.size()) bad("an integer");
            v = x;
            break;
        }
        case OptionType::Double: {
            double x = 0;
            auto r = std::from_chars(text.data(), text.data() + text.size(), x);
            if (r.ec != std::errc() || r.ptr != text.data() + text.size()) bad("a number");
            v = x;
            break;
        }
        case OptionType::String:
        case OptionType::Choice: v = text; break;
    }
    validate(spec, v);
    values_[i] = v;
    set_[i] = true;
}

void OptionValues::setJson(const std::string& key, const Json& value, const std::string& origin) {
    std::size_t i = indexOf(key);
    const OptionSpec& spec = (*specs_)[i];
    OptionValue v;
    try {
        const JsonReader r(value, origin, "options." + key);
        switch (spec.type) {
            case OptionType::Bool: v = r.boolean(); break;
            case OptionType::Int: v = r.integer(); break;
            case OptionType::Double: v = r.number(); break;
            case OptionType::String:
            case OptionType::Choice: v = r.str(); break;
        }
    } catch (const DataError& e) {
        throw UsageError(origin + ": option " + key + ": " + e.what());
    }
    validate(spec, v);
    values_[i] = v;
    set_[i] = true;
}

void OptionValues::setAssignment(const std::string& assignment) {
    auto eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0)
        throw UsageError("--set '" + assignment + "' is not KEY=VALUE");
    setText(assignment.substr(0, eq), assignment.substr(eq + 1));
}

const OptionValue& OptionValues::get(const std::string& key) const { return values_[indexOf(key)]; }

bool OptionValues::isSet(const std::string& key) const { return set_[indexOf(key)]; }

bool OptionValues::getBool(const std::string& key) const { return std::get<bool>(get(key)); }

std::int64_t OptionValues::getInt(const std::string& key) const {
    return std::get<std::int64_t>(get(key));
}

double OptionValues::getDouble(const std::string& key) const {
    const auto& v = get(key);
    if (v.index() == 1) return static_cast<double>(std::get<std::int64_t>(v));
    return std::get<double>(v);
}

const std::string& OptionValues::getString(const std::string& key) const {
    return std::get<std::string>(get(key));
}

Json OptionValues::toJson() const {
    Json j = Json::object();
    for (std::size_t i = 0; i < specs_->size(); ++i) j[(*specs_)[i].name] = optionValueJson(values_[i]);
    return j;
}

}  // namespace riskmap

#pragma once
// Detector options: one declaration (OptionSpec) drives --help, `detectors --json`, --set
// parsing and config files. OptionValues holds validated values for one run.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/Json.hpp"

namespace riskmap {

enum class OptionType { Bool, Int, Double, String, Choice };
const char* optionTypeName(OptionType t);

using OptionValue = std::variant<bool, std::int64_t, double, std::string>;

struct OptionSpec {
    std::string name;
    OptionType type = OptionType::Double;
    OptionValue defaultValue;
    std::string unit;  // "m", "m2", "index", "" ...
    std::string description;
    std::optional<double> min;
    std::optional<double> max;
    std::vector<std::string> choices;  // for Choice
    // A file path (a model, a card): relative ones in a manifest rerun from another folder are
    // resolved from the folder the scan ran in.
    bool filePath = false;

    // A number with its unit and allowed range, the common case.
    static OptionSpec number(const char* name, double def, const char* unit, const char* desc, double lo, double hi) {
        return OptionSpec{name, OptionType::Double, def, unit, desc, lo, hi, {}};
    }

    Json toJson() const;
};

std::string optionValueText(const OptionValue& v);
Json optionValueJson(const OptionValue& v);

class OptionValues {
public:
    explicit OptionValues(std::vector<OptionSpec> specs);

    const std::vector<OptionSpec>& specs() const { return *specs_; }

    // Parse text from --set KEY=VALUE; throws UsageError naming the key and what is allowed.
    void setText(const std::string& key, const std::string& text);
    // Set from a config file's JSON value; `origin` names the file in errors.
    void setJson(const std::string& key, const Json& value, const std::string& origin);
    // "KEY=VALUE"
    void setAssignment(const std::string& assignment);

    bool getBool(const std::string& key) const;
    std::int64_t getInt(const std::string& key) const;
    double getDouble(const std::string& key) const;
    const std::string& getString(const std::string& key) const;
    const OptionValue& get(const std::string& key) const;
    // Keys set explicitly (not left at default).
    bool isSet(const std::string& key) const;

    // {"name": value, ...} in declaration order.
    Json toJson() const;

private:
    std::size_t indexOf(const std::string& key) const;
    void validate(const OptionSpec& spec, OptionValue& v) const;
    std::shared_ptr<const std::vector<OptionSpec>> specs_;
    std::vector<OptionValue> values_;
    std::vector<bool> set_;
};

}  // namespace riskmap

#pragma once
// A detector's options declared once: each binds a member of the detector's Params struct to
// its name, unit, range, default and help. The table gives the OptionSpecs that drive --set,
// --config, the manifest, `detectors --json` and the docs, and fills a Params from validated
// values, so no option name is written twice.
//
//   static const OptionTable<Params>& table() {
//       static const auto t = OptionTable<Params>()
//           .number("min_area_m2", &Params::minArea, 500, "m2", "smallest patch", 0, 1e7);
//       return t;
//   }
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "detection/OptionValues.hpp"

namespace riskmap {

template <class P>
class OptionTable {
public:
    OptionTable& number(const char* name, double P::*member, double def, const char* unit, const char* help,
                        std::optional<double> lo, std::optional<double> hi) {
        specs_.push_back(OptionSpec{name, OptionType::Double, def, unit, help, lo, hi, {}});
        binders_.push_back([member, name](const OptionValues& v, P& p) { p.*member = v.getDouble(name); });
        return *this;
    }
    OptionTable& integer(const char* name, std::int64_t P::*member, std::int64_t def, const char* unit, const char* help,
                         double lo, double hi) {
        specs_.push_back(OptionSpec{name, OptionType::Int, def, unit, help, lo, hi, {}});
        binders_.push_back([member, name](const OptionValues& v, P& p) { p.*member = v.getInt(name); });
        return *this;
    }
    OptionTable& boolean(const char* name, bool P::*member, bool def, const char* help) {
        specs_.push_back(OptionSpec{name, OptionType::Bool, def, "", help, {}, {}, {}});
        binders_.push_back([member, name](const OptionValues& v, P& p) { p.*member = v.getBool(name); });
        return *this;
    }
    OptionTable& text(const char* name, std::string P::*member, const char* def, const char* help) {
        specs_.push_back(OptionSpec{name, OptionType::String, std::string(def), "", help, {}, {}, {}});
        binders_.push_back([member, name](const OptionValues& v, P& p) { p.*member = v.getString(name); });
        return *this;
    }
    // A string naming a file (DetectorConfig resolves it from a manifest's folder).
    OptionTable& file(const char* name, std::string P::*member, const char* help) {
        text(name, member, "", help);
        specs_.back().filePath = true;
        return *this;
    }
    OptionTable& choice(const char* name, std::string P::*member, const char* def, std::vector<std::string> choices,
                        const char* help) {
        specs_.push_back(OptionSpec{name, OptionType::Choice, std::string(def), "", help, {}, {}, std::move(choices)});
        binders_.push_back([member, name](const OptionValues& v, P& p) { p.*member = v.getString(name); });
        return *this;
    }

    const std::vector<OptionSpec>& specs() const { return specs_; }
    // A Params with every declared member set from `values` (validated against these specs).
    P bind(const OptionValues& values) const {
        P p{};
        for (const auto& b : binders_) b(values, p);
        return p;
    }
    // A Params holding the declared defaults.
    P defaults() const { return bind(OptionValues(specs_)); }

private:
    std::vector<OptionSpec> specs_;
    std::vector<std::function<void(const OptionValues&, P&)>> binders_;
};

}  // namespace riskmap

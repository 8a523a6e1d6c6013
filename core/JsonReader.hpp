#pragma once
// Checked reading of a JSON document that came from a file (a manifest, a journal record, a
// STAC item, a recipe, a truth file). Every accessor knows where its value sits
// ("'out.geojson.manifest.json': inputs[0].path") and throws DataError saying what is missing or
// of the wrong type, so a damaged or hostile file never dereferences nothing.
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "core/Json.hpp"

namespace riskmap {

class JsonReader {
public:
    // `origin` names the document in messages (usually its file name).
    JsonReader(const Json& value, std::string origin, std::string path = "");

    const Json& json() const { return *value_; }
    // "'origin': path" for messages.
    std::string where() const;

    bool has(const std::string& key) const;  // present and not null
    JsonReader at(const std::string& key) const;  // throws when absent
    std::optional<JsonReader> find(const std::string& key) const;  // nullopt when absent or null
    std::vector<JsonReader> items(std::size_t maxItems = std::numeric_limits<std::size_t>::max()) const;  // an array's
    std::vector<std::pair<std::string, JsonReader>> members() const;  // an object's, in order

    bool isNull() const { return value_->is_null(); }
    std::string str() const;
    bool boolean() const;
    double number() const;  // any finite number
    double number(double lo, double hi) const;
    std::int64_t integer(std::int64_t lo = std::numeric_limits<std::int64_t>::min(),
                         std::int64_t hi = std::numeric_limits<std::int64_t>::max()) const;
    const Json& object() const;  // the value, checked to be an object
    const Json& array() const;   // the value, checked to be an array

    // Optional members with a default when absent or null.
    std::string str(const std::string& key, const std::string& fallback) const;
    double number(const std::string& key, double fallback) const;

    [[noreturn]] void fail(const std::string& why) const;
    // Fails naming the first key of this object that is not in `allowed` (a misspelt optional
    // key would otherwise be ignored, its default used in silence).
    void onlyKeys(const std::vector<std::string>& allowed) const;

private:
    const Json* value_;
    std::string origin_, path_;
};

}  // namespace riskmap

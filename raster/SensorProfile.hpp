#pragma once
// Sensor profiles name the bands of common products (blue, green, red, nir, swir1, ...) and
// hold the scaling from stored digital numbers to surface reflectance, so that detectors
// only ever see bands by name and reflectance in [0, 1].
#include <optional>
#include <string>
#include <vector>

namespace riskmap {

struct BandDescriptor {
    std::string description;  // GDAL band description, e.g. "B04" or "SR_B5"
    std::string colorInterp;  // GDAL colour interpretation name, e.g. "Red", "Alpha"
};

// reflectance = dn * scale + offset
struct ReflectanceScale {
    double scale = 1.0;
    double offset = 0.0;
};

class SensorProfile {
public:
    struct Layout {
        std::vector<std::string> names;  // canonical band names in file order
    };

    SensorProfile(std::string name, std::string description, std::vector<Layout> layouts,
                  std::vector<std::pair<std::string, std::string>> aliases,
                  double integerScale, double integerOffset);

    const std::string& name() const { return name_; }
    const std::string& description() const { return description_; }

    // Band names for a file with `count` bands in the profile's usual order, if the profile
    // knows such a layout.
    std::optional<std::vector<std::string>> layoutFor(std::size_t count) const;
    // Canonical name for a band description such as "B08" or "SR_B5"; empty if unknown.
    std::string nameForDescription(const std::string& description) const;
    // Scale from stored values of this GDAL data type (e.g. "UInt16") to reflectance.
    ReflectanceScale scaleFor(const std::string& gdalDataType) const;
    // The layouts as text, for help and error messages.
    std::string layoutsText() const;

    // All built-in profiles: sentinel2, landsat8, landsat9, landsat7, planetscope, rgb.
    static const std::vector<SensorProfile>& builtin();
    // Throws UsageError naming the known profiles when `name` is unknown.
    static const SensorProfile& byName(const std::string& name);
    // Guess a profile from band descriptions and colour interpretation; nullptr if nothing fits.
    static const SensorProfile* detect(const std::vector<BandDescriptor>& bands);

    // Canonical names detectors may ask for.
    static const std::vector<std::string>& canonicalNames();

private:
    std::string name_;
    std::string description_;
    std::vector<Layout> layouts_;
    std::vector<std::pair<std::string, std::string>> aliases_;  // lower-case description -> name
    double integerScale_;
    double integerOffset_;
};

// Resolve band names for a file: descriptions that already are canonical names win, then the
// profile's aliases, then its layout for this band count. Unresolved bands are named b1, b2, ...
// A band whose name an earlier band took keeps its positional name; `shadowed` says which.
std::vector<std::string> resolveBandNames(const std::vector<BandDescriptor>& bands,
                                          const SensorProfile* profile,
                                          std::vector<std::string>* shadowed = nullptr);

}  // namespace riskmap

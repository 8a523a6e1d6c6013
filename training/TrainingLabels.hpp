#pragma once
// The point labels `riskmap train` learns from: one point per object (polygons by their
// centroid), in any OGR format and CRS, with an optional don't-care flag and group field.
#include <cstddef>
#include <string>
#include <vector>

#include "geo/Geodesy.hpp"

namespace riskmap {

struct TrainingLabel {
    LonLat position;
    bool difficult = false;  // don't care: candidates near it are neither positive nor negative
    std::string group;       // value of the group field, when one is given
    std::string image;       // value of the image field (the image it was labelled in), when given
};

struct TrainingLabels {
    std::string path, sha256;
    std::vector<TrainingLabel> points;
    std::size_t duplicates = 0;  // repeats of a label dropped (same place, same image)

    // UsageError naming the file when it cannot be read, holds no point, lacks `groupField`
    // (when given) or has a point that cannot be put in lon/lat.
    // `difficultRequired`: the field was named by the user, so labels without it are an error
    // (else a typo silently trains on every label). Labels at the same place in the same image
    // are one object: the repeats are dropped and counted (duplicates).
    static TrainingLabels read(const std::string& path, const std::string& groupField,
                               const std::string& difficultField, const std::string& imageField,
                               bool difficultRequired = false);
};

}  // namespace riskmap

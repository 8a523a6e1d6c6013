#pragma once
// A path recorded relative to the folder a run was in, made absolute from that folder: inputs,
// models, cards and context layers of a manifest rerun from elsewhere all follow this one rule.
#include <filesystem>
#include <string>

namespace riskmap {

// A GDAL virtual path (/vsicurl/, /vsis3/...) or a URL: no local file to compare or check.
inline bool isRemotePath(const std::string& path) {
    return path.rfind("/vsi", 0) == 0 || path.find("://") != std::string::npos;
}

// `path` unchanged when it is empty, absolute or a URL, or when `base` is empty.
inline std::string resolveFrom(const std::string& base, const std::string& path) {
    if (path.empty() || path[0] == '/' || path.find("://") != std::string::npos || base.empty()) return path;
    return (std::filesystem::path(base) / path).string();
}

}  // namespace riskmap

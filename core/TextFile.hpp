#pragma once
// Small text files a user names (recipes, manifests, input lists, truth tables): read whole, but
// only when they are regular files of a sane size. /dev/zero as a --config grew riskmap to 24 GB
// in five seconds; a FIFO would wait for ever.
#include <cstddef>
#include <string>

namespace riskmap {

// The whole of `path`, or a DataError naming `what` and the path: not a regular file (a folder, a
// device, a FIFO), unreadable, or larger than `maxBytes`.
std::string readTextFile(const std::string& path, const std::string& what,
                         std::size_t maxBytes = std::size_t(256) << 20);

// A DataError naming `what` when `path` is a pipe, socket or device: opening one to read its
// header waits for ever (a FIFO) or never ends (/dev/zero). A path that does not exist, or that
// GDAL resolves itself (/vsi..., URLs), is left to the opener to report.
void refuseSpecialFile(const std::string& path, const std::string& what);

}  // namespace riskmap

#pragma once
// GDAL handles beyond each reader's own, shared by all the readers of a scan. A tile's blocks
// decode on every idle thread, and a GDAL handle serves one thread at a time: a thread that
// joins another reader's read borrows a handle of the file from here, opened the first time
// and kept for the next. At most as many handles of a file are ever open here as threads
// decoded it at once, whatever the number of readers (one pool per reader would hold up to
// threads x threads handles a file; a 13-file band stack on 32 threads, ~13,000 descriptors).
#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "geo/GdalRuntime.hpp"

namespace riskmap {

class HandlePool {
public:
    // A handle of `path` no other thread holds; nullptr when none is idle and opening another
    // failed (the caller then waits for a handle it already has). Give it back with release().
    GDALDataset* acquire(const std::string& path);
    void release(const std::string& path, GDALDataset* ds);
    // Handles opened so far, of every file.
    std::size_t opened() const;

private:
    mutable std::mutex mutex_;
    std::map<std::string, std::vector<GDALDataset*>> idle_;
    std::vector<DatasetPtr> owned_;
};

}  // namespace riskmap

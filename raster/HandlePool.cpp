#include "raster/HandlePool.hpp"

#include <exception>

namespace riskmap {

GDALDataset* HandlePool::acquire(const std::string& path) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        std::vector<GDALDataset*>& idle = idle_[path];
        if (!idle.empty()) {
            GDALDataset* ds = idle.back();
            idle.pop_back();
            return ds;
        }
    }
    DatasetPtr opened;
    try {
        opened = openRaster(path);  // outside the lock: opening a VRT can take a while
    } catch (const std::exception&) {
        // Out of descriptors, or a remote file that did not answer this time: the read goes
        // on with the handles it has, and fails only where they fail.
        return nullptr;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    owned_.push_back(std::move(opened));
    return owned_.back().get();
}

void HandlePool::release(const std::string& path, GDALDataset* ds) {
    std::lock_guard<std::mutex> lock(mutex_);
    idle_[path].push_back(ds);
}

std::size_t HandlePool::opened() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return owned_.size();
}

}  // namespace riskmap

#include "output/AtomicFile.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "core/Error.hpp"

namespace riskmap {

namespace {

std::string dirOf(const std::string& path) {
    auto slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

std::string fileOf(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool exists(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

void AtomicFile::checkWritable(const std::string& path, bool overwrite) {
    if (path.empty()) throw UsageError("no output path given: pass -o OUT.geojson");
    if (exists(path) && !overwrite)
        throw UsageError("output '" + path + "' already exists: pass --overwrite to replace it");
    std::string dir = dirOf(path);
    struct stat st;
    if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        throw IoError("output folder '" + dir + "' does not exist: create it first");
    if (::access(dir.c_str(), W_OK) != 0)
        throw IoError("output folder '" + dir + "' is not writable: choose another -o path");
}

AtomicFile::AtomicFile(std::string path, bool overwrite, unsigned mode)
    : path_(std::move(path)), overwrite_(overwrite), mode_(mode) {
    checkWritable(path_, overwrite_);
    std::string name = fileOf(path_);
    auto dot = name.rfind('.');
    std::string stem = dot == std::string::npos || dot == 0 ? name : name.substr(0, dot);
    std::string ext = dot == std::string::npos || dot == 0 ? "" : name.substr(dot);
    std::string dir = dirOf(path_);
    temp_ = (dir == "." && path_.find('/') == std::string::npos ? "" : dir + "/") + "." + stem +
            ".partial-" + std::to_string(::getpid()) + ext;
    std::remove(temp_.c_str());
}

AtomicFile::~AtomicFile() {
    if (!committed_) std::remove(temp_.c_str());
}

void AtomicFile::commit() {
    if (committed_) return;
    if (!exists(temp_)) throw IoError("nothing was written to '" + temp_ + "'");
    if (!overwrite_ && exists(path_))
        throw UsageError("output '" + path_ + "' appeared while writing: pass --overwrite to replace it");
    if (::chmod(temp_.c_str(), static_cast<mode_t>(mode_)) != 0)
        throw IoError("cannot set permissions on '" + temp_ + "': " + std::strerror(errno));
    if (std::rename(temp_.c_str(), path_.c_str()) != 0)
        throw IoError("cannot move '" + temp_ + "' to '" + path_ + "': " + std::strerror(errno));
    committed_ = true;
}

void AtomicFile::write(const std::string& path, const std::string& content, bool overwrite,
                       unsigned mode) {
    AtomicFile f(path, overwrite, mode);
    {
        std::ofstream out(f.tempPath(), std::ios::binary | std::ios::trunc);
        if (!out) throw IoError("cannot create '" + f.tempPath() + "': " + std::strerror(errno));
        out << content;
        out.flush();
        if (!out) throw IoError("writing '" + f.tempPath() + "' failed (disk full?)");
    }
    f.commit();
}

}  // namespace riskmap

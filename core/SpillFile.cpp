#include "core/SpillFile.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/Error.hpp"

namespace riskmap {

namespace {

std::string reason() { return std::strerror(errno); }

}  // namespace

SpillFile::~SpillFile() {
    for (const auto& m : mappings_) munmap(m.at, m.length);
    if (fd_ >= 0) close(fd_);
}

std::size_t roundUpToPage(std::size_t bytes) {
    const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    return (bytes + page - 1) / page * page;
}

// An unnamed file where the filesystem allows it (O_TMPFILE), else a named one removed at once:
// either way it disappears with the process, however the process ends.
void SpillFile::open() {
    std::string tried;
    for (const auto& dir : dirs_) {
#ifdef O_TMPFILE
        fd_ = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
#endif
        if (fd_ < 0) {
            std::string path = dir + "/.riskmap-spill-XXXXXX";
            fd_ = mkostemp(path.data(), O_CLOEXEC);
            if (fd_ >= 0 && unlink(path.c_str()) != 0) {  // never leave a named file behind
                close(fd_);
                fd_ = -1;
            }
        }
        if (fd_ >= 0) {
            dir_ = dir;
            return;
        }
        tried += (tried.empty() ? "'" : ", '") + dir + "' (" + reason() + ")";
    }
    throw IoError("cannot make a spill file in " + tried +
                  ": the objects found need one to stay within --ram; make a folder writable (TMPDIR) or raise --ram");
}

const std::uint8_t* SpillFile::append(const std::uint8_t* bytes, std::size_t n) {
    if (fd_ < 0) open();
    const std::size_t offset = size_;
    for (std::size_t done = 0; done < n;) {
        const ssize_t w = pwrite(fd_, bytes + done, n - done, static_cast<off_t>(offset + done));
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0)
            throw IoError("cannot write " + std::to_string(n) + " bytes to the spill file in '" + dir_ + "' (" +
                          (w < 0 ? reason() : std::string("no space")) + "): free disk space there or raise --ram");
        done += static_cast<std::size_t>(w);
    }
    mappings_.reserve(mappings_.size() + 1);  // so that a mapping made is always recorded
    void* at = mmap(nullptr, n, PROT_READ, MAP_SHARED, fd_, static_cast<off_t>(offset));
    if (at == MAP_FAILED)
        throw IoError("cannot map the spill file in '" + dir_ + "' back (" + reason() +
                      "): point TMPDIR at a local folder or raise --ram");
    mappings_.push_back({at, n});
    size_ = roundUpToPage(offset + n);  // every mapping starts on a page
    return static_cast<const std::uint8_t*>(at);
}

void SpillFile::dropResident() const {
    for (const auto& m : mappings_) madvise(m.at, m.length, MADV_DONTNEED);
}

}  // namespace riskmap

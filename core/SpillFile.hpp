#pragma once
// Bytes a scan holds but does not need in memory until the end go to a file no one else can
// open (unlinked at once, mode 0600) and come back through read-only mappings. Pages read back
// can be given up again: they stay in the file. This is how held detections keep within
// --ram when a rule finds millions of objects (issue 14).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace riskmap {

// `bytes` rounded up to whole pages (mappings start on pages).
std::size_t roundUpToPage(std::size_t bytes);

class SpillFile {
public:
    // The file is made when the first bytes are spilled, in the first of `dirs` that takes it
    // (the output's folder, then the temporary one); nothing is created before.
    explicit SpillFile(std::vector<std::string> dirs) : dirs_(std::move(dirs)) {}
    ~SpillFile();
    SpillFile(const SpillFile&) = delete;
    SpillFile& operator=(const SpillFile&) = delete;

    // Appends `n` bytes and returns where they can be read from now on (valid for the life of
    // this object). Throws IoError naming the folders when the disk refuses them.
    const std::uint8_t* append(const std::uint8_t* bytes, std::size_t n);
    // Returns every page read back so far to the file: the process no longer holds them.
    void dropResident() const;
    std::size_t bytes() const { return size_; }

private:
    void open();

    std::vector<std::string> dirs_;
    std::string dir_;  // the one in use
    int fd_ = -1;
    std::size_t size_ = 0;  // the end of the file, page-aligned
    struct Mapping {
        void* at;
        std::size_t length;
    };
    std::vector<Mapping> mappings_;
};

}  // namespace riskmap

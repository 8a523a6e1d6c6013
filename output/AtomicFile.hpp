#pragma once
// Outputs appear whole or not at all: write to a hidden temporary beside the target, set the
// permissions, then rename over the target.
#include <string>

namespace riskmap {

class AtomicFile {
public:
    // Throws UsageError when `path` exists and !overwrite, IoError when its folder is unusable.
    AtomicFile(std::string path, bool overwrite, unsigned mode);
    ~AtomicFile();  // removes the temporary unless committed
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;

    const std::string& path() const { return path_; }
    // Where to write; keeps the target's extension so that drivers recognise it.
    const std::string& tempPath() const { return temp_; }
    void commit();

    // Convenience: write `content` atomically.
    static void write(const std::string& path, const std::string& content, bool overwrite,
                      unsigned mode);
    // Throws UsageError when the target exists and !overwrite, IoError when its folder is
    // missing or not writable. Lets a scan fail before spending hours.
    static void checkWritable(const std::string& path, bool overwrite);

private:
    std::string path_;
    std::string temp_;
    bool overwrite_;
    unsigned mode_;
    bool committed_ = false;
};

}  // namespace riskmap

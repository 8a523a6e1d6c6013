#pragma once
// A set of output files that appear together or not at all.
//
// Each file is written in a private staging folder (mkdtemp, 0700) beside its destination, so a
// temporary can never be a planted symbolic link. `commit` moves the files into place in the
// order they were added, those marked `last` at the end (the main layer: when it exists, its
// companions do too). A destination that already exists is hard-linked into the staging folder
// first; if any step fails, every file already moved is put back as it was. Destinations that
// are symbolic links are refused: riskmap never writes through a link.
#include <string>
#include <vector>

namespace riskmap {

class FileCommit {
public:
    FileCommit() = default;
    ~FileCommit();  // removes staging folders; earlier files stay as they were unless committed
    FileCommit(const FileCommit&) = delete;
    FileCommit& operator=(const FileCommit&) = delete;

    // Reserves `finalPath` and returns where to write it. Throws UsageError when it collides
    // with a file already in the set, is a symbolic link, or exists and !replace; IoError when
    // its folder is missing or not writable.
    std::string add(const std::string& finalPath, unsigned mode, bool replace, bool last = false);
    // On commit, also removes `path` if it exists (a stale companion of an earlier run).
    void removeOnCommit(const std::string& path);
    // True when `path` is already in the set (as a file to write).
    bool contains(const std::string& path) const;
    void commit();

    // The checks of `add` without reserving anything: lets a run fail before hours of work.
    static void checkDestination(const std::string& path, bool replace);
    // UsageError when the file name is longer than its folder's file system takes.
    static void checkNameFits(const std::string& path);
    // One identity for a destination: its folder resolved, its own name kept (never followed).
    static std::string identity(const std::string& path);
    // Convenience: write `content` to `path` on its own.
    static void writeFile(const std::string& path, const std::string& content, bool replace, unsigned mode);

private:
    struct Entry {
        std::string finalPath, staged, backup, id;
        unsigned mode = 0600;
        bool replace = false, last = false, moved = false, stale = false;
        bool aside = false;  // the earlier file was moved to `backup` before the others
    };
    const std::string& stagingFor(const std::string& finalPath);
    void moveIntoPlace(Entry& e, int& step);
    void moveLastAside(Entry& e, int& step);
    void rollBack();

    std::vector<Entry> entries_;
    std::vector<std::pair<std::string, std::string>> staging_;  // folder identity -> staging folder
    bool committed_ = false;
};

// Fault injection for tests of every commit (scan, merge, report, diff): RISKMAP_TEST_FAIL_COMMIT=K
// fails the K-th move into place; RISKMAP_TEST_STOP_BEFORE_COMMIT=1 stops the process (SIGSTOP)
// with everything written aside, so a test can look at the folder before the commit.
void injectedFailure(int step);
void stopBeforeCommitForTests();

// A regular file (not a link) whose bytes are exactly `content`.
bool holdsExactly(const std::string& path, const std::string& content);

// Writes `size` bytes to a new file (O_EXCL | O_NOFOLLOW), `what` naming it in errors.
void writeNewFile(const std::string& path, const void* data, std::size_t size, unsigned mode);

// A new file (O_EXCL | O_NOFOLLOW) written in pieces, so that a large text (a report's data.js)
// never has to be held whole in memory. close() reports a failed write; the destructor of an
// unclosed file only closes the descriptor (the caller's temp folder is removed anyway).
class NewFile {
public:
    NewFile(const std::string& path, unsigned mode);
    ~NewFile();
    NewFile(const NewFile&) = delete;
    NewFile& operator=(const NewFile&) = delete;
    void write(const void* data, std::size_t size);
    void write(const std::string& text) { write(text.data(), text.size()); }
    void close();

private:
    std::string path_;
    int fd_ = -1;
};

}  // namespace riskmap

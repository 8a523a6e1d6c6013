#include "output/FileCommit.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/Error.hpp"

namespace riskmap {

namespace fs = std::filesystem;

namespace {

std::string folderOf(const std::string& path) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

std::string nameOf(const std::string& path) {
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool lexists(const std::string& path, struct stat* st = nullptr) {
    struct stat s;
    return ::lstat(path.c_str(), st ? st : &s) == 0;
}

std::string sysError() { return std::strerror(errno); }


void syncPath(const std::string& path, int flags) {
    const int fd = ::open(path.c_str(), flags | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return;
    ::fsync(fd);
    ::close(fd);
}

}  // namespace

void injectedFailure(int step) {
    const char* k = std::getenv("RISKMAP_TEST_FAIL_COMMIT");
    if (k && std::atoi(k) == step) throw IoError("moving outputs into place failed (injected by RISKMAP_TEST_FAIL_COMMIT)");
    const char* kill = std::getenv("RISKMAP_TEST_KILL_COMMIT");  // a power cut at this step
    if (kill && std::atoi(kill) == step) std::raise(SIGKILL);
}

void stopBeforeCommitForTests() {
    if (std::getenv("RISKMAP_TEST_STOP_BEFORE_COMMIT")) std::raise(SIGSTOP);
}

NewFile::NewFile(const std::string& path, unsigned mode) : path_(path) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, static_cast<mode_t>(mode));
    if (fd_ < 0) throw IoError("cannot create '" + path + "': " + sysError());
}

NewFile::~NewFile() {
    if (fd_ >= 0) ::close(fd_);
}

void NewFile::write(const void* data, std::size_t size) {
    const char* p = static_cast<const char*>(data);
    std::size_t left = size;
    while (left > 0) {
        const ssize_t n = ::write(fd_, p, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw IoError("writing '" + path_ + "' failed: " + (n < 0 ? sysError() : std::string("no space left")));
        p += n;
        left -= static_cast<std::size_t>(n);
    }
}

void NewFile::close() {
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) throw IoError("writing '" + path_ + "' failed: " + sysError());
}

void writeNewFile(const std::string& path, const void* data, std::size_t size, unsigned mode) {
    NewFile f(path, mode);
    f.write(data, size);
    f.close();
}

// A regular file (not a link) whose bytes are exactly `content`.
bool holdsExactly(const std::string& path, const std::string& content) {
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || static_cast<std::size_t>(st.st_size) != content.size())
        return false;
    std::ifstream in(path, std::ios::binary);
    std::string have((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return in.good() || in.eof() ? have == content : false;
}

FileCommit::~FileCommit() {
    if (!committed_) rollBack();
    std::error_code ec;
    for (const auto& s : staging_) fs::remove_all(s.second, ec);
}

void FileCommit::checkDestination(const std::string& path, bool replace) {
    if (path.empty()) throw UsageError("no output path given: pass -o OUT.geojson");
    if (nameOf(path).empty() || nameOf(path) == "." || nameOf(path) == "..")
        throw UsageError("output '" + path + "' names a folder, not a file: add a file name");
    struct stat st;
    if (lexists(path, &st)) {
        if (S_ISLNK(st.st_mode))
            throw UsageError("output '" + path +
                             "' is a symbolic link: riskmap never writes through links; remove it or choose another path");
        if (S_ISDIR(st.st_mode)) throw UsageError("output '" + path + "' is a folder: choose a file name");
        if (!replace) throw UsageError("output '" + path + "' already exists: pass --overwrite to replace it");
    }
    // The output is named: -o, --explain, --publish and a report's folder all come here.
    const std::string dir = folderOf(path);
    if (::stat(dir.c_str(), &st) != 0)
        throw IoError("the folder of output '" + path + "' ('" + dir + "') does not exist: create it first");
    if (!S_ISDIR(st.st_mode))
        throw IoError("the folder of output '" + path + "' ('" + dir + "') is a file, not a folder: choose another path");
    if (::access(dir.c_str(), W_OK | X_OK) != 0)
        throw IoError("the folder of output '" + path + "' ('" + dir + "') is not writable: choose another path");
    checkNameFits(path);
}

// A name longer than the file system takes failed only when written, after the scan (an audit:
// OUT.geojson fit, OUT.geojson.manifest.json did not).
void FileCommit::checkNameFits(const std::string& path) {
    const long most = ::pathconf(folderOf(path).c_str(), _PC_NAME_MAX);
    const std::size_t length = nameOf(path).size();
    if (most > 0 && length > static_cast<std::size_t>(most))
        throw UsageError("output '" + path + "': its name is " + std::to_string(length) + " bytes, more than the " +
                         std::to_string(most) + " its folder's file system allows: choose a shorter -o name (riskmap adds "
                         "up to 23 bytes to it for its companion files)");
}

std::string FileCommit::identity(const std::string& path) {
    std::error_code ec;
    fs::path dir = fs::weakly_canonical(fs::absolute(folderOf(path), ec), ec);
    return (dir / nameOf(path)).string();
}

bool FileCommit::contains(const std::string& path) const {
    const std::string id = identity(path);
    return std::any_of(entries_.begin(), entries_.end(), [&](const Entry& e) { return !e.stale && e.id == id; });
}

// This machine's name, as staging folders carry it (shared folders see several machines).
static std::string hostName() {
    char host[256] = {0};
    ::gethostname(host, sizeof host - 1);
    std::string h(host);
    std::replace(h.begin(), h.end(), '-', '_');
    return h.empty() ? std::string("host") : h;
}

// Staging folders a killed run of this machine left behind (".riskmap-staging-HOST-PID-XXXXXX"
// whose process is gone) are removed: a crash must not leave files behind for good.
static void removeStaleStaging(const std::string& folder) {
    const std::string prefix = ".riskmap-staging-" + hostName() + "-";
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(folder, ec)) {
        const std::string name = e.path().filename().string();
        if (name.rfind(prefix, 0) != 0 || !e.is_directory(ec) || e.is_symlink(ec)) continue;
        const long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
        if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) fs::remove_all(e.path(), ec);
    }
}

const std::string& FileCommit::stagingFor(const std::string& finalPath) {
    const std::string dirId = identity(folderOf(finalPath) + "/.");
    for (const auto& s : staging_)
        if (s.first == dirId) return s.second;
    removeStaleStaging(folderOf(finalPath));
    std::string tmpl = folderOf(finalPath) + "/.riskmap-staging-" + hostName() + "-" + std::to_string(::getpid()) + "-XXXXXX";
    if (!::mkdtemp(tmpl.data()))
        throw IoError("cannot create a staging folder in '" + folderOf(finalPath) + "': " + sysError());
    staging_.emplace_back(dirId, tmpl);
    return staging_.back().second;
}

std::string FileCommit::add(const std::string& finalPath, unsigned mode, bool replace, bool last) {
    checkDestination(finalPath, replace);
    if (contains(finalPath))
        throw UsageError("two outputs of this run would both be written to '" + finalPath +
                         "': give -o, --explain, --publish and the other outputs different paths");
    Entry e;
    e.finalPath = finalPath;
    e.id = identity(finalPath);
    e.staged = stagingFor(finalPath) + "/" + nameOf(finalPath);
    e.mode = mode;
    e.replace = replace;
    e.last = last;
    entries_.push_back(e);
    return entries_.back().staged;
}

void FileCommit::removeOnCommit(const std::string& path) {
    if (contains(path)) return;
    Entry e;
    e.finalPath = path;
    e.id = identity(path);
    e.stale = true;
    entries_.push_back(e);
}

void FileCommit::moveIntoPlace(Entry& e, int& step) {
    struct stat st;
    const bool existed = lexists(e.finalPath, &st);
    if (e.stale) {
        if (!existed || S_ISDIR(st.st_mode)) return;
        injectedFailure(++step);
        const std::string aside = stagingFor(e.finalPath) + "/.stale-" + std::to_string(step);
        if (::rename(e.finalPath.c_str(), aside.c_str()) != 0)
            throw IoError("cannot remove the stale '" + e.finalPath + "': " + sysError());
        e.backup = aside;
        e.moved = true;
        return;
    }
    if (existed) {
        if (S_ISLNK(st.st_mode) || S_ISDIR(st.st_mode) || !e.replace)
            throw UsageError("output '" + e.finalPath + "' appeared while writing: nothing was changed");
        const std::string keep = stagingFor(e.finalPath) + "/.backup-" + std::to_string(step + 1);
        if (::link(e.finalPath.c_str(), keep.c_str()) != 0)
            throw IoError("cannot keep the earlier '" + e.finalPath + "' while replacing it: " + sysError());
        e.backup = keep;
    }
    injectedFailure(++step);
    if (::rename(e.staged.c_str(), e.finalPath.c_str()) != 0)
        throw IoError("cannot move '" + e.staged + "' to '" + e.finalPath + "': " + sysError());
    e.moved = true;
}

// An existing main layer goes aside before any companion is replaced: a kill between the renames
// then leaves no main layer (an unfinished set, which the next run replaces) instead of the old
// layer beside the new manifest and grid (an audit, strace-injected SIGKILL).
void FileCommit::moveLastAside(Entry& e, int& step) {
    struct stat st;
    if (e.stale || !e.last || !lexists(e.finalPath, &st)) return;
    if (S_ISLNK(st.st_mode) || S_ISDIR(st.st_mode) || !e.replace)
        throw UsageError("output '" + e.finalPath +
                         "' appeared while writing: nothing was changed");
    injectedFailure(++step);
    const std::string keep = stagingFor(e.finalPath) + "/.backup-" + std::to_string(step);
    if (::rename(e.finalPath.c_str(), keep.c_str()) != 0)
        throw IoError("cannot set the earlier '" + e.finalPath +
                      "' aside while replacing it: " + sysError());
    e.backup = keep;
    e.aside = true;
}

void FileCommit::commit() {
    if (committed_) return;
    for (const auto& e : entries_) {
        if (e.stale) continue;
        if (!lexists(e.staged)) throw IoError("nothing was written to '" + e.staged + "'");
        if (::chmod(e.staged.c_str(), static_cast<mode_t>(e.mode)) != 0)
            throw IoError("cannot set permissions on '" + e.staged + "': " + sysError());
        syncPath(e.staged, O_RDONLY);
    }
    stopBeforeCommitForTests();
    std::stable_partition(entries_.begin(), entries_.end(), [](const Entry& e) { return !e.last; });
    int step = 0;
    try {
        // One file alone is replaced by one atomic rename: nothing to set aside.
        const auto files = std::count_if(entries_.begin(), entries_.end(),
                                         [](const Entry& e) { return !e.stale; });
        if (files > 1)
            for (auto& e : entries_) moveLastAside(e, step);
        for (auto& e : entries_) moveIntoPlace(e, step);
    } catch (...) {
        rollBack();
        throw;
    }
    committed_ = true;
    for (const auto& s : staging_) syncPath(folderOf(s.second), O_RDONLY | O_DIRECTORY);
}

void FileCommit::rollBack() {
    for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
        if (it->aside && !it->moved) ::rename(it->backup.c_str(), it->finalPath.c_str());
        if (!it->moved) continue;
        if (!it->backup.empty())
            ::rename(it->backup.c_str(), it->finalPath.c_str());
        else
            ::unlink(it->finalPath.c_str());
        it->moved = false;
    }
}

void FileCommit::writeFile(const std::string& path, const std::string& content, bool replace, unsigned mode) {
    FileCommit c;
    const std::string staged = c.add(path, mode, replace, true);
    writeNewFile(staged, content.data(), content.size(), mode);
    c.commit();
}

}  // namespace riskmap

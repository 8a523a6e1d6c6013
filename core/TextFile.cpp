#include "core/TextFile.hpp"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "core/Error.hpp"

namespace riskmap {

std::string readTextFile(const std::string& path, const std::string& what, std::size_t maxBytes) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        throw DataError("cannot read " + what + " '" + path +
                        "': check that the file exists and is readable");
    if (!S_ISREG(st.st_mode))
        throw DataError(what + " '" + path +
                        "' is not a regular file (a folder, device or pipe): give a file");
    if (static_cast<std::size_t>(st.st_size) > maxBytes)
        throw DataError(what + " '" + path + "' holds " + std::to_string(st.st_size >> 20) +
                        " MB, more than the " + std::to_string(maxBytes >> 20) +
                        " MB such a file can sensibly be: is it the right file?");
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw DataError("cannot read " + what + " '" + path +
                        "': check that the file exists and is readable");
    std::ostringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    // A UTF-8 byte-order mark (Windows editors write one) is not text: it became part of the
    // first path of an --input-list (a sweep of hostile inputs).
    if (text.rfind("\xEF\xBB\xBF", 0) == 0) text.erase(0, 3);
    return text;
}

void refuseSpecialFile(const std::string& path, const std::string& what) {
    struct stat st {};
    if (path.rfind("/vsi", 0) == 0 || ::stat(path.c_str(), &st) != 0) return;
    if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
        throw DataError(what + " '" + path + "' is a pipe or a device, not a file: give a file");
}

}  // namespace riskmap

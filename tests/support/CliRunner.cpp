#include "support/CliRunner.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <signal.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace riskmap::test {

namespace {

// Forks, sends the child's stdout and stderr to temporary files, runs `exec` in the child (it
// must not return), and collects the exit code and both outputs.
template <typename Exec>
CliResult runChild(Exec exec) {
    char outName[] = "/tmp/riskmap-cli-out-XXXXXX";
    char errName[] = "/tmp/riskmap-cli-err-XXXXXX";
    int outFd = ::mkstemp(outName), errFd = ::mkstemp(errName);
    if (outFd < 0 || errFd < 0) throw std::runtime_error("mkstemp failed");
    pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(outFd, STDOUT_FILENO);
        ::dup2(errFd, STDERR_FILENO);
        exec();
        ::_exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    ::close(outFd);
    ::close(errFd);
    CliResult r;
    r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = readFile(outName);
    r.err = readFile(errName);
    ::unlink(outName);
    ::unlink(errName);
    return r;
}

}  // namespace

int ramNamedIn(const std::string& err) {
    const std::string key = "run with --ram ";
    const std::size_t at = err.find(key);
    if (at == std::string::npos || at + key.size() >= err.size() || !std::isdigit(static_cast<unsigned char>(err[at + key.size()])))
        return -1;
    return std::stoi(err.substr(at + key.size()));
}

CliResult runRiskmap(const std::vector<std::string>& args, const std::string& cwd) {
    char peakName[] = "/tmp/riskmap-cli-peak-XXXXXX";
    const int peakFd = ::mkstemp(peakName);
    if (peakFd < 0) throw std::runtime_error("mkstemp failed");
    ::close(peakFd);
    CliResult r = runChild([&] {
        if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(127);
        // Through peak_rss (tests/tools): riskmap's peak without this process's memory.
        std::vector<std::string> copy = {PEAK_RSS_BINARY, peakName, RISKMAP_BINARY};
        copy.insert(copy.end(), args.begin(), args.end());
        std::vector<char*> argv;
        for (auto& a : copy) argv.push_back(a.data());
        argv.push_back(nullptr);
        ::execv(argv.front(), argv.data());
    });
    const std::string kib = readFile(peakName);
    ::unlink(peakName);
    r.peakRssMB = kib.empty() ? 0.0 : std::stod(kib) / 1024.0;
    return r;
}

std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

bool fileExists(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
}

std::vector<std::string> filesContaining(const std::string& dir, const std::string& fragment) {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
        std::string name = e.path().filename().string();
        if (name.find(fragment) != std::string::npos) out.push_back(name);
    }
    return out;
}

int spawnAndKillWhen(const std::vector<std::string>& args, const std::function<bool()>& ready, int limitMillis) {
    pid_t pid = ::fork();
    if (pid == 0) {
        std::string bin = RISKMAP_BINARY;
        std::vector<std::string> all{bin};
        all.insert(all.end(), args.begin(), args.end());
        std::vector<char*> argv;
        for (auto& a : all) argv.push_back(a.data());
        argv.push_back(nullptr);
        ::execv(bin.c_str(), argv.data());
        ::_exit(127);
    }
    for (int i = 0; i < limitMillis && !ready(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

}  // namespace riskmap::test

#include <gdal_priv.h>
#include <ogrsf_frmts.h>

#include <cmath>

#include "geo/GdalRuntime.hpp"

namespace riskmap::test {

namespace {

void collectRings(const OGRGeometry* g, std::vector<std::vector<double>>& out) {
    auto type = wkbFlatten(g->getGeometryType());
    if (type == wkbPolygon) {
        const auto* p = g->toPolygon();
        for (int r = -1; r < p->getNumInteriorRings(); ++r) {
            const OGRLinearRing* ring = r < 0 ? p->getExteriorRing() : p->getInteriorRing(r);
            std::vector<double> c;
            for (int i = 0; i < ring->getNumPoints(); ++i) {
                c.push_back(ring->getX(i));
                c.push_back(ring->getY(i));
            }
            out.push_back(std::move(c));
        }
    } else if (type == wkbMultiPolygon) {
        const auto* m = g->toMultiPolygon();
        for (int i = 0; i < m->getNumGeometries(); ++i) collectRings(m->getGeometryRef(i), out);
    }
}

}  // namespace

LayerDump readLayer(const std::string& path) {
    ensureGdalRegistered();
    LayerDump d;
    GDALDataset* ds = static_cast<GDALDataset*>(GDALOpenEx(path.c_str(), GDAL_OF_VECTOR, nullptr, nullptr, nullptr));
    if (!ds) throw std::runtime_error("cannot open " + path);
    // The detections: in a GeoPackage of an empty scan the companions may come first.
    OGRLayer* layer = ds->GetLayer(0);
    for (int i = 0; i < ds->GetLayerCount(); ++i) {
        const std::string name = ds->GetLayer(i)->GetName();
        if (name != "grid" && name != "footprints" && name != "nodata_gaps" && name != "layer_styles") {
            layer = ds->GetLayer(i);
            break;
        }
    }
    if (const OGRSpatialReference* srs = layer->GetSpatialRef()) {
        const char* a = srs->GetAuthorityName(nullptr);
        const char* c = srs->GetAuthorityCode(nullptr);
        if (a && c) d.crsAuthority = std::string(a) + ":" + c;
    }
    for (auto& f : *layer) {
        FeatureDump fd;
        for (int i = 0; i < f->GetFieldCount(); ++i) {
            const char* name = f->GetFieldDefnRef(i)->GetNameRef();
            if (f->GetFieldDefnRef(i)->GetType() == OFTReal)
                fd.reals.emplace_back(name, f->GetFieldAsDouble(i));
            else
                fd.text.emplace_back(name, f->GetFieldAsString(i));
        }
        if (const OGRGeometry* g = f->GetGeometryRef()) {
            fd.geometryType = OGRGeometryTypeToName(g->getGeometryType());
            collectRings(g, fd.coords);
        }
        d.features.push_back(std::move(fd));
    }
    GDALClose(ds);
    return d;
}

std::string compareLayers(const LayerDump& a, const LayerDump& b, double coordTol, double realTol) {
    if (a.features.size() != b.features.size())
        return "feature count " + std::to_string(a.features.size()) + " vs " + std::to_string(b.features.size());
    for (std::size_t i = 0; i < a.features.size(); ++i) {
        const auto& x = a.features[i];
        const auto& y = b.features[i];
        std::string where = "feature " + std::to_string(i) + ": ";
        if (x.text != y.text) return where + "text/integer properties differ";
        if (x.reals.size() != y.reals.size()) return where + "real property count differs";
        for (std::size_t k = 0; k < x.reals.size(); ++k) {
            if (x.reals[k].first != y.reals[k].first) return where + "property names differ";
            if (std::fabs(x.reals[k].second - y.reals[k].second) > realTol)
                return where + x.reals[k].first + " " + std::to_string(x.reals[k].second) + " vs " +
                       std::to_string(y.reals[k].second);
        }
        if (x.coords.size() != y.coords.size()) return where + "ring count differs";
        for (std::size_t r = 0; r < x.coords.size(); ++r) {
            if (x.coords[r].size() != y.coords[r].size()) return where + "vertex count differs";
            for (std::size_t k = 0; k < x.coords[r].size(); ++k)
                if (std::fabs(x.coords[r][k] - y.coords[r][k]) > coordTol) return where + "coordinates differ";
        }
    }
    return "";
}

}  // namespace riskmap::test

namespace riskmap::test {

CliResult runShell(const std::string& command, const std::vector<std::string>& env) {
    return runChild([&] {
        for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
        ::execl("/bin/bash", "bash", "-c", command.c_str(), static_cast<char*>(nullptr));
    });
}

bool haveProgram(const std::string& name) { return runShell("command -v " + name).exitCode == 0; }

bool skipMissingTools() {
    const char* v = std::getenv("RISKMAP_SKIP_MISSING_TOOLS");
    return v && std::string(v) == "1";
}

}  // namespace riskmap::test

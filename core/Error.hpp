#pragma once
// Typed errors. Library code throws these; only main() turns them into exit codes.
#include <stdexcept>
#include <string>

namespace riskmap {

// Runtime or data problem (exit code 1).
class Error : public std::runtime_error {
public:
    explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// The user asked for something invalid: bad option, unknown detector, bad rule (exit code 2).
class UsageError : public Error {
public:
    explicit UsageError(const std::string& what) : Error(what) {}
};

// An input raster, vector or config file is unreadable or inconsistent (exit code 1).
class DataError : public Error {
public:
    explicit DataError(const std::string& what) : Error(what) {}
};

// Writing an output failed (exit code 1).
class IoError : public Error {
public:
    explicit IoError(const std::string& what) : Error(what) {}
};

// The run was interrupted by a signal or a caller (exit code 1).
class Cancelled : public Error {
public:
    explicit Cancelled(const std::string& what) : Error(what) {}
};

enum ExitCode : int { kExitOk = 0, kExitRuntime = 1, kExitUsage = 2 };

}  // namespace riskmap

#pragma once
// Turns a command-line parse error into one line a new user can act on: the nearest command or
// option to a typo, and which command's --help to read.
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace riskmap {

// "unknown command 'scna' (did you mean 'scan'?): run 'riskmap --help'" and the like.
std::string explainParseError(const CLI::App& app, const CLI::ParseError& error, const std::vector<std::string>& argv);

// Refuses "nan", "inf" and the like as the value of any option of `app` and its commands:
// CLI11 reads them as numbers and its range checks let NaN through (--grid nan wrote no grid,
// --scale nan found nothing, and a manifest records NaN as null). A file literally named "nan"
// can still be given as ./nan.
void refuseNonFiniteNumbers(CLI::App& app);

// A seed: a whole number that fits 64 bits. CLI11 clamped 18446744073709551616 and 1e23 to the
// largest, so different seeds wrote identical models (a hostile-input sweep).
const CLI::Validator& seedNumber();

// One message on stderr: "riskmap: TEXT" (an error or a note) or "riskmap: warning: TEXT"; with
// `json` (scan --json-progress) an NDJSON event {"event": KIND, "message": TEXT} instead, so that
// an orchestrator reading every line as JSON sees errors and warnings too. `kind` is "error",
// "warning" or "note"; an error carries the exit code it ends with.
void tell(const std::string& kind, const std::string& text, bool json, int exitCode = 0);
// Whether the command line asks for JSON progress (main knows before parsing).
bool wantsJsonMessages(const std::vector<std::string>& argv);

// Edit distance (insert, delete, substitute, swap adjacent), for suggestions.
int editDistance(const std::string& a, const std::string& b);

// A message safe to print on a terminal: control bytes (escape sequences from a file name or a
// config) become '?', and it is cut to `maxLength` characters.
std::string printable(const std::string& text, std::size_t maxLength = 2000);

}  // namespace riskmap

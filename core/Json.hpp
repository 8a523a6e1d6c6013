#pragma once
// JSON is nlohmann's ordered_json: object keys keep insertion order, so manifests,
// `detectors --json` and configs serialise deterministically. Around it, riskmap adds only what
// the library does not do: refusing duplicate keys and absurd nesting when parsing untrusted
// files, errors that name the file, and the number format riskmap has always written.
#include <nlohmann/json.hpp>

#include <string>

namespace riskmap {

using Json = nlohmann::ordered_json;

// Deeper nesting than this is refused (a hostile file must not exhaust the stack or memory).
constexpr int kMaxJsonDepth = 64;

// Parses JSON text, refusing duplicate keys and nesting beyond kMaxJsonDepth. Throws
// DataError "origin:line:column: invalid JSON: why".
Json parseJson(const std::string& text, const std::string& origin);
// Reads and parses a file (DataError naming it when it cannot be read).
Json parseJsonFile(const std::string& path);

// Text of a value: compact on one line (indent < 0) or indented. Numbers are written in their
// shortest round-trip form (std::to_chars) with a visible decimal point, strings with JSON
// escapes and any other bytes as they are. The bytes are riskmap's own format (manifests and
// journals from before nlohmann read and compare the same), which nlohmann's dump does not give.
std::string dumpJson(const Json& value, int indent = -1);

// Shortest text that reads back as the same double ("null" when not finite).
std::string formatDouble(double v);
// The same text appended to `out`, with no string of its own (a journal writes one per vertex).
void appendDouble(std::string& out, double v);
// JSON string literal with escapes.
std::string jsonQuote(const std::string& s);
// Appends the UTF-8 character that starts at s[i] (a byte >= 0x80), or U+FFFD when the bytes from
// i are no valid UTF-8 sequence (RFC 3629); returns the bytes of s taken. Both JSON writers use it,
// so that their output stays UTF-8 (half an 'n with tilde' in a message, a Latin-1 file name).
std::size_t appendUtf8(std::string& out, const std::string& s, std::size_t i);

// A short type name for error messages ("number", "string", ...).
const char* jsonTypeName(const Json& j);

}  // namespace riskmap

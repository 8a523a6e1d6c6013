#include "cli/ParseHelp.hpp"

#include <charconv>
#include <cstdint>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iostream>

#include "core/Json.hpp"

namespace riskmap {

namespace {

// The closest candidate within a distance that still reads as a typo, or "".
std::string nearest(const std::string& word, const std::vector<std::string>& candidates) {
    std::string best;
    int bestDistance = std::max(2, static_cast<int>(word.size()) / 3) + 1;
    for (const auto& c : candidates) {
        const int d = editDistance(word, c);
        if (d < bestDistance) {
            bestDistance = d;
            best = c;
        }
    }
    return best;
}

std::vector<std::string> commandNames(const CLI::App& app) {
    std::vector<std::string> out;
    for (const CLI::App* s : app.get_subcommands([](const CLI::App*) { return true; })) out.push_back(s->get_name());
    return out;
}

std::vector<std::string> optionNames(const CLI::App& cmd) {
    std::vector<std::string> out;
    for (const CLI::Option* o : cmd.get_options()) {
        for (const auto& l : o->get_lnames()) out.push_back("--" + l);
        for (const auto& s : o->get_snames()) out.push_back("-" + s);
    }
    return out;
}

// The words of a CLI11 "not expected" message ("The following arguments were not expected: a b").
std::vector<std::string> unexpectedWords(const std::string& message) {
    std::vector<std::string> words;
    const auto colon = message.find("expected: ");
    if (colon == std::string::npos) return words;
    std::string rest = message.substr(colon + 10);
    std::size_t start = 0;
    while (start < rest.size()) {
        const auto space = rest.find(' ', start);
        words.push_back(rest.substr(start, space == std::string::npos ? std::string::npos : space - start));
        if (space == std::string::npos) break;
        start = space + 1;
    }
    return words;
}

}  // namespace

int editDistance(const std::string& a, const std::string& b) {
    const std::size_t n = a.size(), m = b.size();
    std::vector<std::vector<int>> d(n + 1, std::vector<int>(m + 1));
    for (std::size_t i = 0; i <= n; ++i) d[i][0] = static_cast<int>(i);
    for (std::size_t j = 0; j <= m; ++j) d[0][j] = static_cast<int>(j);
    for (std::size_t i = 1; i <= n; ++i)
        for (std::size_t j = 1; j <= m; ++j) {
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1])});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    return d[n][m];
}

std::string printable(const std::string& text, std::size_t maxLength) {
    std::string out;
    for (unsigned char c : text) {
        if (out.size() >= maxLength) return out + "...";
        if (c == '\n' || c == '\r' || c == '\t')
            out += ' ';
        else
            out += c < 0x20 || c == 0x7f ? '?' : static_cast<char>(c);
    }
    return out;
}

namespace {

// CLI11 says "after is required" for a missing positional: name it as --help shows it, and say
// what it is.
std::string missingPositional(const CLI::App& active, const std::string& msg) {
    const std::string tail = " is required";
    if (msg.size() <= tail.size() || msg.compare(msg.size() - tail.size(), tail.size(), tail) != 0) return msg;
    const CLI::Option* o = active.get_option_no_throw(msg.substr(0, msg.size() - tail.size()));
    if (!o || !o->get_positional()) return msg;
    const std::string type = o->get_type_name();
    const std::string shown = type.empty() || type == "TEXT" ? o->get_name() : type;
    return "missing " + shown + ", " + o->get_description();
}

// "unknown option '--truht' (did you mean --truth?)" for the first --word of `argv` that is
// none of `options`, or "".
std::string firstUnknownOption(const std::vector<std::string>& argv,
                               const std::vector<std::string>& options) {
    for (std::size_t i = 1; i < argv.size(); ++i) {
        const std::string& a = argv[i];
        if (a.size() < 3 || a.rfind("--", 0) != 0) continue;
        const std::string name = a.substr(0, a.find('='));
        if (std::find(options.begin(), options.end(), name) != options.end()) continue;
        const std::string guess = nearest(name, options);
        return "unknown option '" + name + "'" +
               (guess.empty() ? "" : " (did you mean " + guess + "?)");
    }
    return "";
}

}  // namespace

std::string explainParseError(const CLI::App& app, const CLI::ParseError& error, const std::vector<std::string>& argv) {
    const std::vector<std::string> commands = commandNames(app);
    const CLI::App* active = nullptr;
    std::string firstWord;
    for (std::size_t i = 1; i < argv.size() && !active; ++i) {
        if (argv[i].rfind("-", 0) == 0) continue;
        if (std::find(commands.begin(), commands.end(), argv[i]) != commands.end())
            active = app.get_subcommand(argv[i]);
        else if (firstWord.empty())
            firstWord = argv[i];
    }
    if (!active) {
        const std::string unknown = firstUnknownOption(argv, optionNames(app));
        if (firstWord.empty() && !unknown.empty()) return unknown + ": run 'riskmap --help'";
        if (firstWord.empty()) return std::string(error.what()) + ": run 'riskmap --help'";
        const std::string guess = nearest(firstWord, commands);
        return "unknown command '" + firstWord + "'" + (guess.empty() ? "" : " (did you mean '" + guess + "'?)") +
               ": run 'riskmap --help' for the commands";
    }
    std::string msg = missingPositional(*active, error.what());
    const std::vector<std::string> options = optionNames(*active);
    // "--truth is required" after "--truht": the typo is the news, not the missing option.
    if (dynamic_cast<const CLI::RequiredError*>(&error)) {
        const std::string unknown = firstUnknownOption(argv, options);
        if (!unknown.empty()) return unknown + ": run 'riskmap " + active->get_name() + " --help'";
    }
    // A typo of riskmap's own options (riskmap --versoin detectors) is guessed too.
    std::vector<std::string> known = options;
    for (const auto& o : optionNames(app)) known.push_back(o);
    for (const auto& w : unexpectedWords(msg)) {
        if (w.rfind("-", 0) != 0) continue;
        const std::string guess = nearest(w.substr(0, w.find('=')), known);
        if (!guess.empty()) msg += " (did you mean " + guess + "?)";
    }
    return msg + ": run 'riskmap " + active->get_name() + " --help'";
}

void refuseNonFiniteNumbers(CLI::App& app) {
    const CLI::Validator finite(
        [](std::string& value) -> std::string {
            char* end = nullptr;
            const double v = std::strtod(value.c_str(), &end);
            if (value.empty() || end != value.c_str() + value.size() || std::isfinite(v)) return "";
            return "'" + value + "' is not a finite number";
        },
        "", "finite");
    for (CLI::Option* o : app.get_options())
        if (!o->get_lnames().empty()) o->check(finite);
    for (CLI::App* sub : app.get_subcommands({})) refuseNonFiniteNumbers(*sub);
}

void tell(const std::string& kind, const std::string& text, bool json, int exitCode) {
    if (json) {
        Json e = Json::object();
        e["event"] = kind;
        e["message"] = printable(text);
        if (kind == "error") e["exit_code"] = exitCode;
        std::cerr << dumpJson(e) << std::endl;
        return;
    }
    std::cerr << "riskmap: " << (kind == "warning" ? "warning: " : "") << printable(text) << "\n";
}

bool wantsJsonMessages(const std::vector<std::string>& argv) {
    return std::find(argv.begin(), argv.end(), "--json-progress") != argv.end();
}

const CLI::Validator& seedNumber() {
    static const CLI::Validator v(
        [](std::string& text) -> std::string {
            std::uint64_t value = 0;
            const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
            if (ec != std::errc() || end != text.data() + text.size())
                return "a seed is a whole number from 0 to 18446744073709551615, not '" + text + "'";
            return "";
        },
        "SEED");
    return v;
}

}  // namespace riskmap

#include "detection/imgproc/SpectralExpression.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <set>

#include "core/Error.hpp"
#include "core/VectorClones.hpp"

namespace riskmap {

enum class Op {
    Number, Band, Neg, Add, Sub, Mul, Div, Nd, Lt, Le, Gt, Ge, Eq, Ne, And, Or, Not
};

struct SpectralExpression::Node {
    Op op = Op::Number;
    double value = 0;
    std::string band;
    std::shared_ptr<const Node> a, b;
    bool boolean() const { return op >= Op::Lt; }
};

namespace {

using NodePtr = std::shared_ptr<const SpectralExpression::Node>;

NodePtr leaf(double v) {
    auto n = std::make_shared<SpectralExpression::Node>();
    n->op = Op::Number;
    n->value = v;
    return n;
}

NodePtr bandNode(const std::string& name) {
    auto n = std::make_shared<SpectralExpression::Node>();
    n->op = Op::Band;
    n->band = name;
    return n;
}

NodePtr binary(Op op, NodePtr a, NodePtr b) {
    auto n = std::make_shared<SpectralExpression::Node>();
    n->op = op;
    n->a = std::move(a);
    n->b = std::move(b);
    return n;
}

NodePtr nd(const NodePtr& a, const NodePtr& b) { return binary(Op::Nd, a, b); }

// Built-in normalised-difference indices, expanded at parse time.
NodePtr builtinIndex(const std::string& name) {
    auto B = bandNode;
    if (name == "ndvi") return nd(B("nir"), B("red"));       // Rouse et al. 1974
    if (name == "ndwi") return nd(B("green"), B("nir"));     // McFeeters 1996
    if (name == "mndwi") return nd(B("green"), B("swir1"));  // Xu 2006
    if (name == "ndbi") return nd(B("swir1"), B("nir"));     // Zha, Gao & Ni 2003
    if (name == "bsi")                                         // Rikimaru et al. 2002
        return nd(binary(Op::Add, B("swir1"), B("red")), binary(Op::Add, B("nir"), B("blue")));
    return nullptr;
}

// Limits on what a rule may ask of the parser and of every pixel's evaluation: a hostile rule of
// thousands of nested parentheses, `not`s or minus signs must fail cleanly, not overflow a stack.
constexpr std::size_t kMaxRuleLength = 4096;
constexpr int kMaxRuleDepth = 64;

class Parser {
public:
    explicit Parser(const std::string& s) : s_(s) {}

    NodePtr parseAll() {
        NodePtr n = parseOr();
        skip();
        if (pos_ < s_.size()) fail("unexpected '" + s_.substr(pos_, charLength(pos_)) + "'");
        return n;
    }

private:
    [[noreturn]] void fail(const std::string& why) const {
        const std::string shown = s_.size() > 120 ? s_.substr(0, 120) + "..." : s_;
        throw UsageError("rule '" + shown + "': " + why + " at position " + std::to_string(pos_ + 1) +
                         " (example: \"ndvi < 0.2 and mndwi < 0\")");
    }
    // One level deeper for the life of this guard.
    struct Deeper {
        explicit Deeper(Parser& p) : parser(p) {
            if (++parser.depth_ > kMaxRuleDepth) parser.fail("nested deeper than " + std::to_string(kMaxRuleDepth) + " levels");
        }
        ~Deeper() { --parser.depth_; }
        Parser& parser;
    };
    void skip() {
        while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    }
    bool peekWord(const char* w) {
        skip();
        std::size_t n = std::char_traits<char>::length(w);
        if (s_.compare(pos_, n, w) != 0) return false;
        std::size_t end = pos_ + n;
        return end >= s_.size() ||
               !(std::isalnum(static_cast<unsigned char>(s_[end])) || s_[end] == '_');
    }
    bool word(const char* w) {
        if (!peekWord(w)) return false;
        pos_ += std::char_traits<char>::length(w);
        return true;
    }
    bool sym(const char* t) {
        skip();
        std::size_t n = std::char_traits<char>::length(t);
        if (s_.compare(pos_, n, t) != 0) return false;
        pos_ += n;
        return true;
    }
    void requireBool(const NodePtr& n, const char* where) {
        if (!n->boolean()) fail(std::string("'") + where + "' needs comparisons on both sides");
    }
    void requireNumber(const NodePtr& n) {
        if (n->boolean()) fail("a comparison cannot be used as a number");
    }

    NodePtr parseOr() {
        Deeper guard(*this);
        NodePtr l = parseAnd();
        while (word("or") || sym("||")) {
            NodePtr r = parseAnd();
            requireBool(l, "or");
            requireBool(r, "or");
            l = binary(Op::Or, l, r);
        }
        return l;
    }
    NodePtr parseAnd() {
        NodePtr l = parseNot();
        while (word("and") || sym("&&")) {
            NodePtr r = parseNot();
            requireBool(l, "and");
            requireBool(r, "and");
            l = binary(Op::And, l, r);
        }
        return l;
    }
    NodePtr parseNot() {
        Deeper guard(*this);
        if (word("not") || (peekSym("!") && !peekSym("!=") && sym("!"))) {
            NodePtr x = parseNot();
            requireBool(x, "not");
            return binary(Op::Not, x, nullptr);
        }
        return parseCompare();
    }
    bool peekSym(const char* t) {
        skip();
        return s_.compare(pos_, std::char_traits<char>::length(t), t) == 0;
    }
    NodePtr parseCompare() {
        NodePtr l = parseSum();
        Op op;
        if (sym("<="))
            op = Op::Le;
        else if (sym(">="))
            op = Op::Ge;
        else if (sym("=="))
            op = Op::Eq;
        else if (sym("!="))
            op = Op::Ne;
        else if (sym("<"))
            op = Op::Lt;
        else if (sym(">"))
            op = Op::Gt;
        else
            return l;
        NodePtr r = parseSum();
        requireNumber(l);
        requireNumber(r);
        if (peekSym("<") || peekSym(">")) fail("chained comparisons need 'and'");
        return binary(op, l, r);
    }
    NodePtr parseSum() {
        NodePtr l = parseProduct();
        while (true) {
            if (sym("+")) {
                NodePtr r = parseProduct();
                requireNumber(l);
                requireNumber(r);
                l = binary(Op::Add, l, r);
            } else if (sym("-")) {
                NodePtr r = parseProduct();
                requireNumber(l);
                requireNumber(r);
                l = binary(Op::Sub, l, r);
            } else {
                return l;
            }
        }
    }
    NodePtr parseProduct() {
        NodePtr l = parseUnary();
        while (true) {
            if (sym("*")) {
                NodePtr r = parseUnary();
                requireNumber(l);
                requireNumber(r);
                l = binary(Op::Mul, l, r);
            } else if (sym("/")) {
                NodePtr r = parseUnary();
                requireNumber(l);
                requireNumber(r);
                l = binary(Op::Div, l, r);
            } else {
                return l;
            }
        }
    }
    NodePtr parseUnary() {
        Deeper guard(*this);
        if (sym("-")) {
            NodePtr x = parseUnary();
            requireNumber(x);
            return binary(Op::Neg, x, nullptr);
        }
        return parseAtom();
    }
    NodePtr parseAtom() {
        skip();
        if (pos_ >= s_.size()) fail("unexpected end of rule");
        char c = s_[pos_];
        if (c == '(') {
            ++pos_;
            NodePtr n = parseOr();
            if (!sym(")")) fail("missing ')'");
            return n;
        }
        if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {
            std::size_t start = pos_;
            while (pos_ < s_.size() &&
                   (std::isdigit(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '.' ||
                    s_[pos_] == 'e' || s_[pos_] == 'E' ||
                    ((s_[pos_] == '-' || s_[pos_] == '+') && pos_ > start &&
                     (s_[pos_ - 1] == 'e' || s_[pos_ - 1] == 'E'))))
                ++pos_;
            double v = 0;
            auto r = std::from_chars(s_.data() + start, s_.data() + pos_, v);
            if (r.ec != std::errc() || r.ptr != s_.data() + pos_) {
                pos_ = start;
                fail("malformed number");
            }
            return leaf(v);
        }
        if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
            std::size_t start = pos_;
            while (pos_ < s_.size() &&
                   (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_'))
                ++pos_;
            std::string name = s_.substr(start, pos_ - start);
            std::transform(name.begin(), name.end(), name.begin(),
                           [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
            if (name == "and" || name == "or" || name == "not") {
                pos_ = start;
                fail("missing operand");
            }
            if (name == "nd" || name == "ratio") {
                if (!sym("(")) fail(name + " needs arguments, e.g. " + name + "(nir, red)");
                NodePtr a = parseSum();
                if (!sym(",")) fail(name + " takes two arguments");
                NodePtr b = parseSum();
                if (!sym(")")) fail("missing ')'");
                requireNumber(a);
                requireNumber(b);
                return binary(name == "nd" ? Op::Nd : Op::Div, a, b);
            }
            if (NodePtr idx = builtinIndex(name)) return idx;
            return bandNode(name);
        }
        fail("unexpected '" + s_.substr(pos_, charLength(pos_)) + "'");  // a whole UTF-8 character
    }

    // Bytes of the (UTF-8) character at i: 'ñ' was cut in half in messages (a sweep).
    std::size_t charLength(std::size_t i) const {
        std::size_t n = 1;
        while (i + n < s_.size() && (static_cast<unsigned char>(s_[i + n]) & 0xC0) == 0x80 && n < 4) ++n;
        return n;
    }

    const std::string& s_;
    std::size_t pos_ = 0;
    int depth_ = 0;
};

void collectBands(const SpectralExpression::Node& n, std::set<std::string>& out) {
    if (n.op == Op::Band) out.insert(n.band);
    if (n.a) collectBands(*n.a, out);
    if (n.b) collectBands(*n.b, out);
}

}  // namespace

// Row-wise evaluation keeps every temporary in cache: one row segment of each intermediate at a
// time. Band rows come straight from the tile (converted from stored values when the tile has
// no float plane yet, once per band per segment) and constants are filled once, so a rule such
// as "ndvi < 0.2" costs one pass over two bands and writes nothing the size of the tile.
class ExpressionRows::Impl {
public:
    Impl(const TileImage& tile, int width) : tile_(tile), width_(width) {}

    void select(int y, int x0, int n) {
        if (y < 0 || y >= tile_.window.h || x0 < 0 || n < 0 || x0 + n > width_)
            throw Error("row segment outside the tile (a detector bug)");
        y_ = y;
        x0_ = x0;
        w_ = n;
        used_ = 0;
        ++generation_;
    }

    // Numeric node -> pointer to its values for the selected segment.
    RISKMAP_VECTOR_CLONES const float* value(const SpectralExpression::Node& n) {
        const int w = w_;
        switch (n.op) {
            case Op::Number: return constant(n);
            case Op::Band: return band(n);
            default: break;
        }
        float* out = scratch();
        const float* a = value(*n.a);
        if (n.op == Op::Neg) {
            for (int i = 0; i < w; ++i) out[i] = -a[i];
            return out;
        }
        const float* b = value(*n.b);
        switch (n.op) {
            case Op::Add:
                for (int i = 0; i < w; ++i) out[i] = a[i] + b[i];
                break;
            case Op::Sub:
                for (int i = 0; i < w; ++i) out[i] = a[i] - b[i];
                break;
            case Op::Mul:
                for (int i = 0; i < w; ++i) out[i] = a[i] * b[i];
                break;
            case Op::Div:
                // x / 0 is defined as 0 so that empty pixels never pass a ratio rule by accident.
                // Dividing by a safe 1 and then selecting keeps the loop branch-free, so the
                // compiler vectorises it; the results are the same bits.
                for (int i = 0; i < w; ++i) {
                    const bool ok = b[i] != 0.0f;
                    const float q = a[i] / (ok ? b[i] : 1.0f);
                    out[i] = ok ? q : 0.0f;
                }
                break;
            case Op::Nd:
                for (int i = 0; i < w; ++i) {
                    const float sum = a[i] + b[i];
                    const bool ok = sum != 0.0f;
                    const float q = (a[i] - b[i]) / (ok ? sum : 1.0f);
                    out[i] = ok ? q : 0.0f;
                }
                break;
            default: throw Error("numeric evaluation of a rule node (an expression bug)");
        }
        return out;
    }

    // Boolean node -> pass flags and margins for the selected segment.
    RISKMAP_VECTOR_CLONES void rule(const SpectralExpression::Node& n, std::uint8_t* pass, float* margin) {
        const int w = w_;
        const std::size_t mark = used_;
        switch (n.op) {
            case Op::Lt:
            case Op::Le:
            case Op::Gt:
            case Op::Ge: {
                const float* l = value(*n.a);
                const float* r = value(*n.b);
                // Margin is how far the pixel clears the threshold, in the rule's units.
                const bool less = n.op == Op::Lt || n.op == Op::Le;
                if (less) {
                    for (int i = 0; i < w; ++i) margin[i] = r[i] - l[i];
                } else {
                    for (int i = 0; i < w; ++i) margin[i] = l[i] - r[i];
                }
                if (n.op == Op::Lt || n.op == Op::Gt) {
                    for (int i = 0; i < w; ++i) pass[i] = margin[i] > 0.0f ? 255 : 0;
                } else {
                    for (int i = 0; i < w; ++i) pass[i] = margin[i] >= 0.0f ? 255 : 0;
                }
                break;
            }
            case Op::Eq:
            case Op::Ne: {
                const float* l = value(*n.a);
                const float* r = value(*n.b);
                const bool eq = n.op == Op::Eq;
                for (int i = 0; i < w; ++i) {
                    float d = std::fabs(l[i] - r[i]);
                    margin[i] = eq ? -d : d;
                    pass[i] = (l[i] == r[i]) == eq ? 255 : 0;
                }
                break;
            }
            case Op::Not:
                rule(*n.a, pass, margin);
                for (int i = 0; i < w; ++i) {
                    pass[i] = pass[i] ? 0 : 255;
                    margin[i] = -margin[i];
                }
                break;
            case Op::And:
            case Op::Or: {
                rule(*n.a, pass, margin);
                // Pointers, not references: nested calls may grow the scratch lists.
                float* m2 = scratch();
                std::uint8_t* p2 = passScratch();
                rule(*n.b, p2, m2);
                if (n.op == Op::And) {
                    for (int i = 0; i < w; ++i) {
                        pass[i] = pass[i] & p2[i];
                        margin[i] = std::min(margin[i], m2[i]);
                    }
                } else {
                    for (int i = 0; i < w; ++i) {
                        pass[i] = pass[i] | p2[i];
                        margin[i] = std::max(margin[i], m2[i]);
                    }
                }
                releasePass();
                break;
            }
            default: throw Error("rule evaluation of a numeric node (an expression bug)");
        }
        used_ = mark;
    }

private:
    struct BandRow {
        std::size_t plane = 0;
        std::vector<float> buffer;
        const float* row = nullptr;
        std::uint64_t generation = 0;
    };

    // Each band is fetched once per segment, however often the expression names it.
    const float* band(const SpectralExpression::Node& n) {
        BandRow* slot = nullptr;
        for (auto& c : bandOf_)
            if (c.first == &n) slot = &bands_[c.second];
        if (!slot) {
            const std::size_t plane = tile_.bandIndex(n.band);
            std::size_t k = 0;
            while (k < bands_.size() && bands_[k].plane != plane) ++k;
            if (k == bands_.size()) {
                bands_.push_back({plane, std::vector<float>(static_cast<std::size_t>(width_)), nullptr, 0});
            }
            bandOf_.emplace_back(&n, k);
            slot = &bands_[k];
        }
        if (slot->generation != generation_) {
            slot->row = tile_.row(slot->plane, y_, x0_, w_, slot->buffer.data());
            slot->generation = generation_;
        }
        return slot->row;
    }
    const float* constant(const SpectralExpression::Node& n) {
        for (const auto& c : constants_)
            if (c.first == &n) return c.second.data();
        constants_.emplace_back(&n, std::vector<float>(static_cast<std::size_t>(width_), static_cast<float>(n.value)));
        return constants_.back().second.data();
    }
    float* scratch() {
        if (used_ == floats_.size()) floats_.emplace_back(static_cast<std::size_t>(width_));
        return floats_[used_++].data();
    }
    std::uint8_t* passScratch() {
        if (passUsed_ == flags_.size()) flags_.emplace_back(static_cast<std::size_t>(width_));
        return flags_[passUsed_++].data();
    }
    void releasePass() { --passUsed_; }

    const TileImage& tile_;
    int width_;
    int y_ = 0, x0_ = 0, w_ = 0;
    std::uint64_t generation_ = 0;
    std::vector<BandRow> bands_;
    std::vector<std::pair<const SpectralExpression::Node*, std::size_t>> bandOf_;
    std::vector<std::pair<const SpectralExpression::Node*, std::vector<float>>> constants_;
    std::vector<std::vector<float>> floats_;
    std::size_t used_ = 0;
    std::vector<std::vector<std::uint8_t>> flags_;
    std::size_t passUsed_ = 0;
};

ExpressionRows::ExpressionRows(const SpectralExpression& expression, const TileImage& tile)
    : root_(expression.root_), impl_(std::make_unique<Impl>(tile, tile.window.w)) {}

ExpressionRows::~ExpressionRows() = default;

void ExpressionRows::rule(int y, int x0, int n, std::uint8_t* pass, float* margin) {
    if (!root_->boolean()) throw Error("rule evaluation of a value expression (a detector bug)");
    impl_->select(y, x0, n);
    impl_->rule(*root_, pass, margin);
}

const float* ExpressionRows::value(int y, int x0, int n) {
    if (root_->boolean()) throw Error("value evaluation of a rule (a detector bug)");
    impl_->select(y, x0, n);
    return impl_->value(*root_);
}

SpectralExpression SpectralExpression::parse(const std::string& text) {
    if (text.find_first_not_of(" \t") == std::string::npos)
        throw UsageError("empty rule: give one such as \"ndvi < 0.2 and mndwi < 0\"");
    if (text.size() > kMaxRuleLength)
        throw UsageError("rule of " + std::to_string(text.size()) + " characters: rules are limited to " +
                         std::to_string(kMaxRuleLength));
    SpectralExpression e;
    e.text_ = text;
    e.root_ = Parser(text).parseAll();
    return e;
}

bool SpectralExpression::isRule() const { return root_->boolean(); }

std::vector<std::string> SpectralExpression::bands() const {
    std::set<std::string> s;
    collectBands(*root_, s);
    return {s.begin(), s.end()};
}

void SpectralExpression::evaluateRule(const TileImage& tile, cv::Mat& pass, cv::Mat& margin) const {
    if (!isRule()) throw UsageError("'" + text_ + "' is a value, not a rule: add a comparison");
    const int w = tile.window.w, h = tile.window.h;
    pass.create(h, w, CV_8U);
    margin.create(h, w, CV_32F);
    ExpressionRows rows(*this, tile);
    for (int y = 0; y < h; ++y) rows.rule(y, 0, w, pass.ptr<std::uint8_t>(y), margin.ptr<float>(y));
}

cv::Mat SpectralExpression::evaluateValue(const TileImage& tile) const {
    if (isRule()) throw UsageError("'" + text_ + "' is a rule, not a value");
    const int w = tile.window.w, h = tile.window.h;
    cv::Mat out(h, w, CV_32F);
    ExpressionRows rows(*this, tile);
    for (int y = 0; y < h; ++y) {
        const float* row = rows.value(y, 0, w);
        std::copy(row, row + w, out.ptr<float>(y));
    }
    return out;
}

const std::vector<SpectralIndexInfo>& SpectralExpression::indices() {
    static const std::vector<SpectralIndexInfo> list = {
        {"ndvi", "(nir - red) / (nir + red)", "Rouse et al. 1974, NASA SP-351"},
        {"ndwi", "(green - nir) / (green + nir)", "McFeeters 1996, IJRS 17(7)"},
        {"mndwi", "(green - swir1) / (green + swir1)", "Xu 2006, IJRS 27(14)"},
        {"ndbi", "(swir1 - nir) / (swir1 + nir)", "Zha, Gao & Ni 2003, IJRS 24(3)"},
        {"bsi", "((swir1 + red) - (nir + blue)) / ((swir1 + red) + (nir + blue))",
         "Rikimaru, Roy & Miyatake 2002, Tropical Ecology 43(1)"},
        {"nd(a, b)", "(a - b) / (a + b)", "any normalised difference"},
        {"ratio(a, b)", "a / b (also written a / b)", "plain band ratio"},
    };
    return list;
}

}  // namespace riskmap

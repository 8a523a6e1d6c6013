#include "output/QgisStyle.hpp"

#include <cstdio>
#include <string>
#include <vector>

namespace riskmap {

namespace {

struct Range {
    double lower, upper;
    std::string label, fill, outline;
};

std::string num(double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.6f", v);
    return b;
}

std::string fillSymbol(const std::string& name, const std::string& fill, const std::string& outline,
                       const std::string& style = "solid", const std::string& outlineWidth = "0.5") {
    return "      <symbol type=\"fill\" name=\"" + name +
           "\" alpha=\"1\" clip_to_extent=\"1\" force_rhr=\"0\">\n"
           "        <layer class=\"SimpleFill\" enabled=\"1\" locked=\"0\" pass=\"0\">\n"
           "          <Option type=\"Map\">\n"
           "            <Option name=\"color\" type=\"QString\" value=\"" + fill + "\"/>\n"
           "            <Option name=\"outline_color\" type=\"QString\" value=\"" + outline + "\"/>\n"
           "            <Option name=\"outline_style\" type=\"QString\" value=\"solid\"/>\n"
           "            <Option name=\"outline_width\" type=\"QString\" value=\"" + outlineWidth + "\"/>\n"
           "            <Option name=\"outline_width_unit\" type=\"QString\" value=\"MM\"/>\n"
           "            <Option name=\"style\" type=\"QString\" value=\"" + style + "\"/>\n"
           "          </Option>\n"
           "        </layer>\n"
           "      </symbol>\n";
}

std::string labeling(const std::string& expression) {
    return "  <labeling type=\"simple\">\n"
           "    <settings calloutType=\"simple\">\n"
           "      <text-style fieldName=\"" + expression +
           "\" isExpression=\"1\" fontSize=\"8\" fontSizeUnit=\"Point\" textColor=\"30,30,30,255\" "
           "fontFamily=\"Sans Serif\" namedStyle=\"Regular\">\n"
           "        <text-buffer bufferDraw=\"1\" bufferSize=\"0.8\" bufferSizeUnits=\"MM\" bufferColor=\"255,255,255,220\"/>\n"
           "      </text-style>\n"
           "      <placement placement=\"0\" dist=\"0\"/>\n"
           "      <rendering scaleVisibility=\"0\" obstacle=\"1\" limitNumLabels=\"0\"/>\n"
           "    </settings>\n"
           "  </labeling>\n";
}

// The document's opening: QGIS 3.22's doctype and root, with labelling or symbology only.
std::string qgisOpen(bool labelled) {
    return std::string("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n") +
           (labelled ? "<qgis version=\"3.22.16-Białowieża\" styleCategories=\"Symbology|Labeling\" labelsEnabled=\"1\">\n"
                     : "<qgis version=\"3.22.16-Białowieża\" styleCategories=\"Symbology\">\n");
}

// The grey symbol QGIS shows for values outside every class.
std::string sourceSymbol() {
    return "    <source-symbol>\n" + fillSymbol("0", "200,200,200,160", "60,60,60,255") + "    </source-symbol>\n";
}

std::string graduated(const std::string& attr, const std::vector<Range>& ranges, const std::string& labelExpression) {
    std::string s = qgisOpen(true) +
                    "  <renderer-v2 type=\"graduatedSymbol\" attr=\"" + attr +
                    "\" graduatedMethod=\"GraduatedColor\" symbollevels=\"0\" enableorderby=\"0\" forceraster=\"0\">\n"
                    "    <ranges>\n";
    for (std::size_t i = 0; i < ranges.size(); ++i)
        s += "      <range lower=\"" + num(ranges[i].lower) + "\" upper=\"" + num(ranges[i].upper) + "\" symbol=\"" +
             std::to_string(i) + "\" label=\"" + ranges[i].label + "\" render=\"true\"/>\n";
    s += "    </ranges>\n    <symbols>\n";
    for (std::size_t i = 0; i < ranges.size(); ++i) s += fillSymbol(std::to_string(i), ranges[i].fill, ranges[i].outline);
    s += "    </symbols>\n" + sourceSymbol() +
         "    <mode name=\"manual\"/>\n    <rotation/>\n    <sizescale/>\n"
         "    <classificationMethod id=\"Manual\"/>\n  </renderer-v2>\n";
    s += labeling(labelExpression);
    s += "</qgis>\n";
    return s;
}

std::string single(const std::string& fill, const std::string& outline, const std::string& style, const std::string& width) {
    return qgisOpen(false) +
           "  <renderer-v2 type=\"singleSymbol\" symbollevels=\"0\" enableorderby=\"0\" forceraster=\"0\">\n"
           "    <symbols>\n" +
           fillSymbol("0", fill, outline, style, width) + "    </symbols>\n  </renderer-v2>\n</qgis>\n";
}

std::string categorized(const std::string& attr, const std::vector<Range>& categories, const std::string& labelExpression) {
    std::string s = qgisOpen(true) +
                    "  <renderer-v2 type=\"categorizedSymbol\" attr=\"" + attr +
                    "\" symbollevels=\"0\" enableorderby=\"0\" forceraster=\"0\">\n"
                    "    <categories>\n";
    for (std::size_t i = 0; i < categories.size(); ++i)
        s += "      <category value=\"" + categories[i].label + "\" symbol=\"" + std::to_string(i) + "\" label=\"" +
             categories[i].label + "\" render=\"true\"/>\n";
    s += "    </categories>\n    <symbols>\n";
    for (std::size_t i = 0; i < categories.size(); ++i)
        s += fillSymbol(std::to_string(i), categories[i].fill, categories[i].outline,
                        categories[i].label == "unknown" ? "b_diagonal" : "solid");
    s += "    </symbols>\n" + sourceSymbol() +
         "    <rotation/>\n    <sizescale/>\n  </renderer-v2>\n";
    s += labeling(labelExpression);
    s += "</qgis>\n";
    return s;
}

}  // namespace

std::string QgisStyle::changes() {
    // Categories hold the value in `label` (lower and upper bounds are unused here).
    return categorized("change",
                       {{0, 0, "new", "215,48,39,210", "110,15,10,255"},
                        {0, 0, "gone", "49,130,189,190", "20,60,110,255"},
                        {0, 0, "unknown", "240,190,40,200", "130,95,0,255"},
                        {0, 0, "persists", "150,150,150,140", "70,70,70,255"}},
                       "concat(&quot;change&quot;, ' ', format_number(&quot;risk&quot;, 2))");
}

std::string QgisStyle::detections(double medium, double high) {
    return graduated("risk",
                     {{0.0, medium, "low (risk &lt; " + num(medium).substr(0, 4) + ")", "116,146,184,170", "45,65,95,255"},
                      {medium, high, "medium", "244,170,66,190", "140,85,10,255"},
                      {high, 1.0, "high (risk &gt;= " + num(high).substr(0, 4) + ")", "215,48,39,210", "110,15,10,255"}},
                     "concat(&quot;class&quot;, ' ', format_number(&quot;risk&quot;, 2))");
}

std::string QgisStyle::grid(double medium, double high) {
    return graduated("mean_risk",
                     {{0.0, medium, "mean risk low", "116,146,184,90", "90,90,90,120"},
                      {medium, high, "mean risk medium", "244,170,66,110", "90,90,90,120"},
                      {high, 1.0, "mean risk high", "215,48,39,130", "90,90,90,120"}},
                     "&quot;count&quot;");
}

std::string QgisStyle::published() {
    return graduated("count",
                     {{0, 10, "fewer than 10", "254,224,210,150", "120,120,120,150"},
                      {10, 50, "10 to 50", "252,146,114,170", "120,120,120,150"},
                      {50, 1e9, "50 or more", "203,24,29,190", "120,120,120,150"}},
                     "&quot;count&quot;");
}

std::string QgisStyle::footprints() { return single("0,0,0,0", "40,40,40,255", "no", "0.6"); }

std::string QgisStyle::gaps() { return single("120,120,120,120", "90,90,90,200", "b_diagonal", "0.3"); }

}  // namespace riskmap

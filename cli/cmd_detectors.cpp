// riskmap detectors: list detectors, their options (type, default, unit) and output attributes.
#include <iostream>
#include <memory>

#include "cli/Commands.hpp"
#include "core/Json.hpp"
#include "detection/DetectorRegistry.hpp"

namespace riskmap {

void addDetectorsCommand(CLI::App& app, const CliContext&) {
    auto json = std::make_shared<bool>(false);
    CLI::App* cmd = app.add_subcommand("detectors", "List the detectors with their options and units");
    cmd->add_flag("--json", *json, "print machine-readable JSON");
    cmd->callback([json] {
        DetectorRegistry reg = DetectorRegistry::builtin();
        if (*json) {
            Json arr = Json::array();
            for (const auto& e : reg.entries()) arr.push_back(e.info.toJson());
            Json root = Json::object();
            root["detectors"] = arr;
            std::cout << dumpJson(root, 2) << "\n";
            return;
        }
        for (const auto& e : reg.entries()) {
            std::cout << e.info.name << "\n  " << e.info.description << "\n  options (--set KEY=VALUE):\n";
            for (const auto& o : e.info.options) {
                std::cout << "    " << o.name << " (" << optionTypeName(o.type)
                          << (o.unit.empty() ? "" : ", " + o.unit) << ", default "
                          << optionValueText(o.defaultValue) << ")\n        " << o.description << "\n";
            }
            std::cout << "  attributes:";
            for (const auto& a : e.info.attributes) std::cout << " " << a.name;
            std::cout << "\n\n";
        }
    });
}

}  // namespace riskmap

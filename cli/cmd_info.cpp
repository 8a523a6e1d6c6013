// riskmap info: what riskmap sees in a raster: bands by name, CRS, GSD, masks, blocks, footprint.
#include <cstdio>
#include <iostream>
#include <memory>

#include "cli/Commands.hpp"
#include "core/Json.hpp"
#include "raster/InputCatalog.hpp"

namespace riskmap {

void addInfoCommand(CLI::App& app, const CliContext&) {
    struct Args {
        bool json = false;
        InputArgs in;
    };
    auto a = std::make_shared<Args>();
    CLI::App* cmd = app.add_subcommand(
        "info", "Describe rasters as riskmap reads them: size, named bands, types, CRS, GSD in "
                "metres, nodata and masks, blocks, footprint");
    cmd->add_flag("--json", a->json, "print machine-readable JSON");
    addInputOptions(*cmd, a->in);
    cmd->callback([a] {
        InputCatalog cat = InputCatalog::open(inputRequest(a->in));
        if (a->json) {
            std::cout << dumpJson(cat.toJson(), 2) << "\n";
        } else {
            std::cout << cat.toText();
        }
    });
}

}  // namespace riskmap

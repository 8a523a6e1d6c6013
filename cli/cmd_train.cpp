// riskmap train: learn a verifier for a detector's candidates from the user's point labels.
#include <iostream>
#include <memory>

#include "cli/ParseHelp.hpp"
#include "cli/Commands.hpp"
#include "core/Error.hpp"
#include "output/FileCommit.hpp"
#include "raster/InputCatalog.hpp"
#include "training/Training.hpp"

namespace riskmap {

namespace {

// Before any training: the model file may be written (no link, not there unless --overwrite) and
// is none of the inputs (-o labels.geojson --overwrite replaced the labels with YAML, -o a chip
// replaced the chip).
void checkModelDestination(const TrainRequest& req, bool overwrite) {
    FileCommit::checkDestination(req.outputPath, overwrite);
    const std::string out = FileCommit::identity(req.outputPath);
    std::vector<std::string> inputs = InputCatalog::expandPaths(req.images.paths, req.images.inputList);
    inputs.push_back(req.labelsPath);
    for (const auto& in : inputs)
        if (FileCommit::identity(in) == out)
            throw UsageError("-o '" + req.outputPath + "' is one of the inputs ('" + in + "'): choose another model file");
}

}  // namespace

void addTrainCommand(CLI::App& app, const CliContext& ctx) {
    struct Args {
        TrainRequest req;
        std::string sensor;
        bool overwrite = false;
    };
    auto a = std::make_shared<Args>();
    CLI::App* cmd = app.add_subcommand(
        "train", "Learn a verifier from your point labels: a random forest that re-scores the detector's candidates");
    cmd->add_option("--detector", a->req.detector, "detector whose candidates to verify (kiln)")->capture_default_str();
    cmd->add_option("--images", a->req.images.paths, "rasters, globs or folders the labels belong to")->required()->type_name("RASTER...");
    cmd->add_option("--labels", a->req.labelsPath, "one point per object (any OGR format and CRS; polygons by centroid)")
        ->required()
        ->type_name("POINTS");
    cmd->add_option("-o,--output", a->req.outputPath, "model file to write (YAML)")->required()->type_name("MODEL.yml");
    cmd->add_option("--radius-m", a->req.radiusMetres, "a candidate within this many metres (geodesic) of a label is one")
        ->capture_default_str();
    cmd->add_option("--folds", a->req.folds, "cross-validation folds (at most one per group)")->capture_default_str();
    cmd->add_option("--group-field", a->req.groupField,
                    "label field whose values are held out together in cross-validation (e.g. district); default: each image")
        ->type_name("FIELD");
    cmd->add_option("--image-field", a->req.imageField,
                    "label field naming the image each label was drawn in (e.g. chip): cross-validation recall then counts "
                    "each image's own labels, as eval --truth-source-field does")
        ->type_name("FIELD");
    cmd->add_option("--difficult-field", a->req.difficultField, "label field marking don't-care objects (left out)")
        ->capture_default_str();
    cmd->add_option("--seed", a->req.seed, "seed of the folds and the forest: the same seed writes the same file")
        ->check(seedNumber())
        ->capture_default_str();
    cmd->add_option("--trees", a->req.trees, "trees in the forest")->capture_default_str();
    cmd->add_option("--set", a->req.sets, "detector option the candidates are measured with, KEY=VALUE")->type_name("KEY=VALUE");
    cmd->add_option("--sensor", a->sensor, "sensor profile naming the bands (see riskmap scan --help)")->type_name("PROFILE");
    cmd->add_flag("--overwrite", a->overwrite, "replace an existing model file");
    cmd->footer(
        "Candidates near a difficult label are left out. Cross-validation holds out whole groups (never single\n"
        "candidates) and chooses the operating points the model carries (high_precision, balanced, high_recall).\n"
        "Use the model with: riskmap scan --detector kiln --set model=MODEL.yml ...\n"
        "Example: riskmap train --detector kiln --images data/kilns-s2-bd-dev/chips --labels "
        "data/kilns-s2-bd-dev/labels.geojson --group-field district --image-field chip -o kiln-verifier.yml");
    const std::atomic<bool>* cancel = ctx.cancel;
    CLI::Option* difficult = cmd->get_option("--difficult-field");
    cmd->callback([a, cancel, difficult] {
        a->req.images.options.sensor = a->sensor;
        a->req.difficultFieldGiven = difficult->count() > 0;
        checkModelDestination(a->req, a->overwrite);
        const TrainResult r = trainVerifier(a->req, cancel);
        std::cout << r.summary() << r.cv.toText();
        // Owner-only like every output: the model records where the labels are.
        FileCommit::writeFile(a->req.outputPath, r.model.toText(), a->overwrite, 0600);
        std::cout << "wrote " << a->req.outputPath << " (" << r.model.features.size() << " features, "
                  << r.model.forest->getRoots().size() << " trees)\n";
    });
}

}  // namespace riskmap

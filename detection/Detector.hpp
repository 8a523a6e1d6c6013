#pragma once
// The detector interface. A detector is configured once (immutable options), then `detect` is
// called concurrently on many tiles, so it must be const and keep no mutable state.
#include <memory>
#include <string>
#include <vector>

#include "detection/Detection.hpp"
#include "detection/OptionValues.hpp"
#include "raster/TileImage.hpp"

namespace riskmap {

enum class AttributeType { Int, Double, String, Bool };

struct AttributeSpec {
    std::string name;
    AttributeType type = AttributeType::Double;
    std::string unit;
    std::string description;
};

struct DetectorInfo {
    std::string name;
    std::string description;
    std::vector<OptionSpec> options;
    std::vector<AttributeSpec> attributes;  // extra feature properties, in output order

    Json toJson() const;
};

class Detector {
public:
    virtual ~Detector() = default;
    virtual const DetectorInfo& info() const = 0;
    // Band names to read from an input offering `available`; throws UsageError naming what is
    // missing and how to provide it (--sensor or --band).
    virtual std::vector<std::string> bandsFor(const std::vector<std::string>& available) const = 0;
    // Context the detector needs around a tile core, in metres: the largest object it reports
    // plus every neighbourhood it looks at. The pipeline converts it to pixels from the GSD.
    virtual double haloMetres() const = 0;
    // The halo under scan --explain: wider where the detector lists objects longer than it
    // reports (too long up to a bound), so that each is seen whole in the tile owning it.
    virtual double explainHaloMetres() const { return haloMetres(); }
    // Detections in the tile, in global pixel coordinates. Detections whose anchor lies outside
    // tile.core may be returned; the seam merge drops them. With `rejected` (scan --explain),
    // also every candidate the detector turned down, with the gate and its measured value.
    virtual std::vector<Detection> detect(const TileImage& tile, std::vector<Rejection>* rejected = nullptr) const = 0;
    // Rough working memory per pixel of the tile window, beyond the stored band values and the
    // validity mask, for `bands` bands read, with or without --explain's extra planes: including
    // the float planes the detector converts (4 bytes per band; TileImage::plane). Lets the
    // pipeline keep tiles in flight within --ram.
    virtual std::size_t workingBytesPerPixel(std::size_t bands, bool explain) const {
        (void)explain;
        return 24 + 4 * bands;
    }
    // Share (0-1) of one tile's work that runs on every thread (parallel loops inside detect):
    // one tile on n threads takes 1 - p + p / n of its time on one. When --ram leaves room for
    // fewer tiles in flight than threads, the pipeline weighs larger tiles, fewer at a time,
    // against smaller ones with more halo by it.
    virtual double tileParallelism() const { return 0.0; }
    // Memory the detector holds beside its tiles, whatever their size: `fixed` once and
    // `perWorker` for each thread detecting at once (a model's network: weights and activations).
    // The scan sets it aside out of --ram, then calls limitWorkers before any pixel is read.
    struct Reserve {
        std::size_t fixed = 0, perWorker = 0;
    };
    virtual Reserve reserve() const { return {}; }
    // At most `workers` threads hold their per-worker memory at once; a detector may do checks
    // that take that memory here (the ONNX dry run), so they run once the budget is known.
    virtual void limitWorkers(std::size_t workers) { (void)workers; }
    // What the detector noticed while scanning that the user should know (e.g. a model's
    // outputs that were not numbers), for the scan's warnings; called after the last tile.
    virtual std::vector<std::string> scanNotes() const { return {}; }
    // Files the detector read beyond its inputs (e.g. a verifier model) with their SHA-256, for
    // the manifest; null when none.
    virtual Json resources() const { return Json(); }
    // Refuses (UsageError) an input this detector cannot run on at all (e.g. a model whose GSD
    // is beyond resampling); called for every input before any pixel is read.
    virtual void checkInput(double gsdX, double gsdY) const {
        (void)gsdX;
        (void)gsdY;
    }
    // A warning for an input this detector cannot serve well (e.g. pixels too coarse to resolve
    // its objects); empty when fine. Shown to the user and kept in the manifest.
    virtual std::string inputWarning(double gsdX, double gsdY) const {
        (void)gsdX;
        (void)gsdY;
        return {};
    }
    // Ground the detector compares an object with, across, in metres (its background statistics):
    // a scene narrower than this leaves objects without it, and the scan warns. 0: none.
    virtual double contextMetres() const { return 0.0; }
    // The same for the bands an input offers (names as bandsFor sees them).
    virtual std::string bandWarning(const std::vector<std::string>& available) const {
        (void)available;
        return {};
    }
};

}  // namespace riskmap

// Truth files for `riskmap eval`: any GeoJSON, matched against two fixed detections.
#include "eval/Evaluation.hpp"
#include "FuzzSupport.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::string detections = riskmap::fuzz::memFile(
        "det.geojson",
        R"({"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"score":0.9,"source":"a"},"geometry":{"type":"Point","coordinates":[89.25,23.13]}},
{"type":"Feature","properties":{"score":0.4,"source":"a"},"geometry":{"type":"Point","coordinates":[89.26,23.14]}}]})");
    static const std::string aoi = riskmap::fuzz::memFile(
        "aoi.geojson", R"({"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[89,23],[90,23],[90,24],[89,24],[89,23]]]}}]})");
    RISKMAP_FUZZ_BODY({
        riskmap::EvalRequest req;
        req.truthPath = riskmap::fuzz::memFile("truth.geojson", riskmap::fuzz::text(data, size));
        req.detectionsPath = detections;
        req.aoiPath = aoi;
        const riskmap::EvalReport r = riskmap::Evaluation::run(req);
        (void)riskmap::dumpJson(r.toJson());
    });
}

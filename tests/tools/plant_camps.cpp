// plant_camps SCENE_DIR OUT_DIR SEED [CAMPS]: planted copies of the Sundarbans band files and
// OUT_DIR/truth.geojson (camps under 0.2 ha marked difficult).
#include <cstdio>
#include <cstdlib>
#include <string>

#include "support/CampPlanter.hpp"

int main(int argc, char** argv) {
    if (argc < 4) {
        std::fprintf(stderr, "usage: plant_camps SCENE_DIR OUT_DIR SEED [CAMPS]\n");
        return 2;
    }
    riskmap::test::PlantOptions o;
    o.seed = std::strtoull(argv[3], nullptr, 10);
    if (argc > 4) o.camps = std::atoi(argv[4]);
    auto camps = riskmap::test::plantCamps(argv[1], argv[2], o);
    riskmap::test::writeCampTruth(std::string(argv[2]) + "/truth.geojson", camps, 2000.0);
    std::printf("planted %zu camps into %s\n", camps.size(), argv[2]);
    return 0;
}

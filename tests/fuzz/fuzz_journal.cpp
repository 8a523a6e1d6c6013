// Scan journals (--resume, merge): records with valid CRCs but any content.
#include <unistd.h>

#include <fstream>

#include "core/Crc32.hpp"
#include "detection/detectors/KilnDetector.hpp"
#include "FuzzSupport.hpp"
#include "scan/ScanJournal.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::string path = "/tmp/riskmap-fuzz-journal-" + std::to_string(::getpid());
    static const riskmap::DetectorInfo info = riskmap::KilnDetector::describe();
    // Each input line becomes a record with a valid CRC, so the fuzzer reaches the JSON reader.
    const std::string in = riskmap::fuzz::text(data, size);
    {
        std::ofstream out(path, std::ios::trunc | std::ios::binary);
        std::size_t start = 0;
        while (start <= in.size()) {
            const std::size_t nl = in.find('\n', start);
            const std::string body = in.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
            char crc[16];
            std::snprintf(crc, sizeof crc, "%08x", riskmap::crc32(body));
            out << crc << " " << body << "\n";
            if (nl == std::string::npos) break;
            start = nl + 1;
        }
    }
    RISKMAP_FUZZ_BODY({
        std::vector<riskmap::JournalTile> tiles;
        (void)riskmap::ScanJournal::read(path, &info, &tiles);
    });
}

// Baseline for bench/run_bench.sh: read every block of a raster, all bands, native type, with
// N threads that each own a GDAL handle. Prints seconds and peak RSS as JSON.
#include <gdal_priv.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: gdal_block_read RASTER THREADS [CACHE_MB]\n");
        return 2;
    }
    GDALAllRegister();
    const char* path = argv[1];
    int threads = std::atoi(argv[2]);
    if (argc > 3) GDALSetCacheMax64(static_cast<GIntBig>(std::atoll(argv[3])) * 1024 * 1024);
    GDALDataset* probe = static_cast<GDALDataset*>(GDALOpen(path, GA_ReadOnly));
    if (!probe) return 1;
    const int w = probe->GetRasterXSize(), h = probe->GetRasterYSize(), nb = probe->GetRasterCount();
    int bx = 0, by = 0;
    probe->GetRasterBand(1)->GetBlockSize(&bx, &by);
    const GDALDataType type = probe->GetRasterBand(1)->GetRasterDataType();
    GDALClose(probe);
    const int cols = (w + bx - 1) / bx, rows = (h + by - 1) / by;
    const long total = static_cast<long>(cols) * rows;
    std::atomic<long> next{0};
    std::atomic<unsigned long long> checksum{0};
    auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&] {
            GDALDataset* ds = static_cast<GDALDataset*>(GDALOpen(path, GA_ReadOnly));
            std::vector<unsigned char> buf(static_cast<size_t>(bx) * by * nb * GDALGetDataTypeSizeBytes(type));
            unsigned long long sum = 0;
            for (long i; (i = next.fetch_add(1)) < total;) {
                int x = static_cast<int>(i % cols) * bx, y = static_cast<int>(i / cols) * by;
                int ww = std::min(bx, w - x), hh = std::min(by, h - y);
                if (ds->RasterIO(GF_Read, x, y, ww, hh, buf.data(), ww, hh, type, nb, nullptr, 0, 0, 0,
                                 nullptr) != CE_None)
                    std::abort();
                sum += buf[0];  // keep the read observable
            }
            checksum += sum;
            GDALClose(ds);
        });
    }
    for (auto& th : pool) th.join();
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    std::printf("{\"seconds\": %.4f, \"blocks\": %ld, \"peak_rss_mb\": %.1f, \"checksum\": %llu}\n", secs,
                total, ru.ru_maxrss / 1024.0, static_cast<unsigned long long>(checksum.load()));
    return 0;
}

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include "raster/BlockCache.hpp"

using namespace riskmap;

TEST(BlockCache, DecodesEachBlockOnceAcrossThreads) {
    BlockCache cache(1 << 20);
    std::atomic<int> decodes{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < 4; ++t) {
        pool.emplace_back([&] {
            for (int i = 0; i < 200; ++i) {
                BlockCache::Block b = cache.get({7, i % 10, 0}, [&] {
                    decodes++;
                    std::this_thread::sleep_for(std::chrono::microseconds(200));
                    return cv::Mat(8, 8, CV_8U, cv::Scalar(i % 10));
                });
                ASSERT_EQ(b->at<uchar>(0, 0), i % 10);
            }
        });
    }
    for (auto& t : pool) t.join();
    EXPECT_EQ(decodes.load(), 10);
    EXPECT_EQ(cache.misses(), 10u);
}

TEST(BlockCache, EvictsLeastRecentlyUsedWithinCapacity) {
    BlockCache cache(3 * 100);  // three 100-byte blocks
    int decodes = 0;
    auto get = [&](int bx) {
        return cache.get({1, bx, 0}, [&] {
            decodes++;
            return cv::Mat(10, 10, CV_8U, cv::Scalar(bx));
        });
    };
    get(0);
    get(1);
    get(2);
    get(0);  // hit; 1 is now the oldest
    get(3);  // evicts 1
    EXPECT_EQ(decodes, 4);
    get(0);
    get(2);
    EXPECT_EQ(decodes, 4);
    get(1);
    EXPECT_EQ(decodes, 5);
}

// A scan's results take their room from the cache (issue 14): a smaller capacity evicts now.
TEST(BlockCache, ShrinkingEvictsTheOldestAtOnce) {
    BlockCache cache(3 * 100);
    int decodes = 0;
    auto get = [&](int bx) {
        return cache.get({1, bx, 0}, [&] {
            decodes++;
            return cv::Mat(10, 10, CV_8U, cv::Scalar(bx));
        });
    };
    get(0);
    get(1);
    get(2);
    cache.setCapacity(100);  // keeps 2, the most recent
    EXPECT_EQ(cache.capacity(), 100u);
    get(2);
    EXPECT_EQ(decodes, 3);
    get(1);
    get(0);
    EXPECT_EQ(decodes, 5);
}

TEST(BlockCache, FailedDecodesAreNotCached) {
    BlockCache cache(1 << 20);
    EXPECT_THROW(cache.get({1, 0, 0}, []() -> cv::Mat { throw std::runtime_error("io"); }), std::runtime_error);
    auto b = cache.get({1, 0, 0}, [] { return cv::Mat(2, 2, CV_8U, cv::Scalar(5)); });
    EXPECT_EQ(b->at<uchar>(1, 1), 5);
}

// A block whose reads are counted leaves at its last read (issue 14: the cache held every block
// of a 6000 px scene, 290 MB, though each was read by at most four tiles).
TEST(BlockCache, ABlockLeavesAtItsLastCountedRead) {
    BlockCache cache(1 << 20);
    int decodes = 0;
    auto get = [&](int bx, int uses) {
        return cache.get({1, bx, 0}, [&] {
            decodes++;
            return cv::Mat(10, 10, CV_8U, cv::Scalar(bx));
        }, uses);
    };
    get(0, 3);
    get(1, 1);  // read once: never kept
    EXPECT_EQ(cache.bytes(), 100u);
    get(0, 3);
    EXPECT_EQ(decodes, 2);
    EXPECT_EQ(get(0, 3)->at<uchar>(0, 0), 0);  // the third read drops it
    EXPECT_EQ(cache.bytes(), 0u);
    get(2, 0);  // uses unknown: kept as before
    EXPECT_EQ(cache.bytes(), 100u);
    EXPECT_EQ(decodes, 3);
}

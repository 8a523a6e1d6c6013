#include <gtest/gtest.h>
TEST(OnnxPlaceholder, Builds) {}

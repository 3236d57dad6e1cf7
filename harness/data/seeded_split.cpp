// Seeded permutations and the per-class test mask.
#include "harness/data/seeded_split.h"

#include <cmath>
#include <numeric>
#include <utility>

namespace harness {

std::vector<int64_t> seeded_permutation(int64_t n, uint64_t seed) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  SplitMix64 rng(seed);
  for (int64_t i = n - 1; i > 0; --i) {  // Fisher-Yates
    std::swap(order[static_cast<size_t>(i)], order[rng.below(static_cast<uint64_t>(i) + 1)]);
  }
  return order;
}

std::vector<bool> seeded_test_mask(int64_t n, double test_fraction, uint64_t split_seed, int64_t class_index) {
  const int64_t k = std::llround(static_cast<double>(n) * test_fraction);
  const std::vector<int64_t> order =
      seeded_permutation(n, split_seed * 0x100000001B3ull + static_cast<uint64_t>(class_index));
  std::vector<bool> test(static_cast<size_t>(n), false);
  for (int64_t i = 0; i < k; ++i) test[static_cast<size_t>(order[static_cast<size_t>(i)])] = true;
  return test;
}

}  // namespace harness

// Seeded permutations and the per-class test mask.
#include "harness/data/seeded_split.h"

#include <cmath>
#include <map>
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

std::vector<bool> seeded_validation_mask(const std::vector<int64_t>& labels, double fraction, uint64_t split_seed) {
  // A stream of its own: "valid" in ASCII mixed into the split seed.
  const uint64_t seed = SplitMix64(split_seed ^ 0x76616C6964ull).next();
  std::map<int64_t, std::vector<std::size_t>> by_class;
  for (std::size_t i = 0; i < labels.size(); ++i) by_class[labels[i]].push_back(i);
  std::vector<bool> validation(labels.size(), false);
  for (const auto& [label, items] : by_class) {
    const std::vector<bool> mask = seeded_test_mask(static_cast<int64_t>(items.size()), fraction, seed, label);
    for (std::size_t k = 0; k < items.size(); ++k) validation[items[k]] = mask[k];
  }
  return validation;
}

}  // namespace harness

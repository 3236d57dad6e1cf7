// A portable seeded generator and the per-class train/test split built on it, shared by
// the MNIST digits and image folders so a split seed means the same thing for both.
#pragma once

#include <cstdint>
#include <vector>

namespace harness {

// SplitMix64 (Steele, Lea, Flood 2014): a fixed, portable generator, so a seed selects the
// same images and crops with every compiler and LibTorch version.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, bound) by the multiply-shift map; its bias is below 2^-40 here.
  uint64_t below(uint64_t bound) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * bound) >> 64);
  }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  // The whole state: SplitMix64(state()) continues the stream where this one is (checkpoints).
  uint64_t state() const { return state_; }

 private:
  uint64_t state_;
};

// A Fisher-Yates permutation of 0..n-1 drawn from SplitMix64(seed).
std::vector<int64_t> seeded_permutation(int64_t n, uint64_t seed);

// Which of the n items of class `class_index` go to test: the first round(n * test_fraction)
// of a permutation seeded by (split_seed, class_index). Each class has its own stream, so one
// class's size does not move another's split.
std::vector<bool> seeded_test_mask(int64_t n, double test_fraction, uint64_t split_seed, int64_t class_index);

// Which items of a labelled training split go to validation: for each class, seeded_test_mask over
// that class's items (in index order) with a seed derived from split_seed, so the share is
// stratified, fixed by split_seed alone (not by a trial's seed) and drawn independently of the
// train/test split that split_seed also seeds.
std::vector<bool> seeded_validation_mask(const std::vector<int64_t>& labels, double fraction, uint64_t split_seed);

}  // namespace harness

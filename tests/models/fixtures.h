// Small generated data sets for the model tests.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>

#include "harness/data/dataset.h"

namespace harness::test {

// `classes` classes of distinct mean patterns (class c lights up its own horizontal band of the
// image), plus Gaussian noise of std `noise`; labels cycle 0..classes-1. Seeded.
inline Dataset pattern_dataset(int64_t n, int64_t classes, int64_t channels, int64_t size, uint64_t seed,
                               double noise = 0.5) {
  auto gen = at::detail::createCPUGenerator(seed);
  Dataset d;
  d.labels = torch::arange(n, torch::kLong).remainder(classes);
  auto means = torch::zeros({classes, channels, size, size});
  const int64_t band = size / classes;
  for (int64_t c = 0; c < classes; ++c) means[c].slice(1, c * band, (c + 1) * band).fill_(1.0);
  d.images = means.index_select(0, d.labels) + noise * torch::randn({n, channels, size, size}, gen);
  d.num_classes = classes;
  d.origin = "generated patterns";
  return d;
}

inline Split pattern_split(int64_t classes, int64_t channels, int64_t size, uint64_t seed) {
  return {pattern_dataset(256, classes, channels, size, seed), pattern_dataset(128, classes, channels, size, seed + 1)};
}

}  // namespace harness::test

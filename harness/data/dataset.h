// In-memory labelled image data sets and the train/test pair a task uses.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>

namespace harness {

// A labelled image set held in memory.
struct Dataset {
  torch::Tensor images;     // float32 [N, C, H, W]
  torch::Tensor labels;     // int64 [N], values in [0, num_classes)
  int64_t num_classes = 0;  // classes after any relabeling
  std::string origin;       // where it came from (file or folder), for messages

  int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
};

// The two splits of one task.
struct Split {
  Dataset train;
  Dataset test;
};

}  // namespace harness

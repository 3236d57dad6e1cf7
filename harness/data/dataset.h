// In-memory labelled image data sets and the train/test pair a task uses.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace harness {

// A labelled image set held in memory.
struct Dataset {
  torch::Tensor images;     // float32 [N, C, H, W]
  torch::Tensor labels;     // int64 [N], values in [0, num_classes)
  int64_t num_classes = 0;  // classes after any relabeling
  std::string origin;       // where it came from (file or folder), for messages
  std::vector<std::string> class_names;  // name of each label where the files name them (image folders)

  int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
};

// The splits of one task.
struct Split {
  Dataset train;
  Dataset test;
  std::vector<std::string> notes = {};  // what the loader wants the user told (files it skipped)
  // Carved out of the training split by [data] validation_fraction; empty (size 0) without one.
  Dataset validation{};
};

}  // namespace harness

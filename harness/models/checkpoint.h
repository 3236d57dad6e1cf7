// Backbone checkpoints: one file holding a built-in backbone's parameters, buffers and the
// metadata `harness run` needs to rebuild it (and a reader needs to judge where it came from).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "harness/models/backbone.h"

namespace harness {

// What a checkpoint records besides the tensors. The architecture and input shape rebuild the
// backbone; the rest documents the pretraining run.
struct CheckpointMeta {
  std::string arch;         // built-in architecture name (arch_names())
  int64_t features = 0;     // K
  int64_t in_channels = 1;  // input shape the backbone was trained on
  int64_t image_size = 28;
  std::string source_dataset;           // e.g. "fashion-mnist"
  std::vector<int64_t> source_classes;  // subset of the source data set; empty = all
  int64_t source_num_classes = 0;       // classes of the source head
  int64_t epochs = 0;
  double lr = 0.0;
  int64_t batch_size = 0;
  uint64_t seed = 0;
  double aux_binary_weight = 0.0;
  double source_test_accuracy = 0.0;
  std::vector<double> norm_mean;  // per-channel normalization of the source (informative)
  std::vector<double> norm_std;
  std::string harness_version;
  std::string device;              // where it was trained (informative)
  double images_per_second = 0.0;  // training throughput (informative)
  double train_seconds = 0.0;      // wall time of pretraining (informative)
};

// Writes `backbone` (a BuiltinBackbone: its parameters and buffers, e.g. BN running
// statistics) and `meta` to `path` (overwritten). meta.arch/features/in_channels/image_size
// are taken from the backbone. The file is written beside `path` and renamed onto it, so `path`
// holds the old checkpoint or the new one, never part of one. Throws ConfigError for a backbone
// that is not built-in, DataError when the file cannot be written.
void save_checkpoint(const std::string& path, Backbone& backbone, const CheckpointMeta& meta);

// Rebuilds the backbone (on the CPU, in training mode) with the saved tensors. Throws DataError
// naming the file when it is missing, corrupt, lacks metadata, or its tensors do not fit the
// architecture it names.
std::unique_ptr<Backbone> load_checkpoint(const std::string& path, CheckpointMeta* meta_out = nullptr);

// Only the metadata (still reads the file). Same errors as load_checkpoint.
CheckpointMeta read_checkpoint_meta(const std::string& path);

}  // namespace harness

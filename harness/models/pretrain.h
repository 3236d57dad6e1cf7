// Pretraining a built-in backbone on a source task (Adam, linear head, seeded batch order),
// optionally with the auxiliary balanced-binary head of seed paper 002.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "harness/data/dataset.h"
#include "harness/models/backbone.h"
#include "harness/models/builtin_backbone.h"
#include "harness/models/checkpoint.h"

namespace harness {

struct PretrainOptions {
  ArchSpec arch;
  int64_t epochs = 2;
  int64_t batch_size = 256;
  double lr = 1e-3;
  uint64_t seed = 0;  // initialization, batch order and the auxiliary partition
  // B in (1 - B) CE(y) + B CE(y_b): weight of a second head classifying a random balanced
  // two-way partition of the source classes; 0 disables it. Must be in [0, 1).
  double aux_binary_weight = 0.0;
  int threads = 0;             // CPU intra-op threads; 0 = all cores
  std::string device = "cpu";  // "cpu", "cuda", "cuda:K"
};

// Reported after every training step, and once more at the end of each epoch with its test accuracy.
struct PretrainProgress {
  int64_t epoch = 0;  // 1-based
  int64_t epochs = 0;
  int64_t step = 0;  // 1-based within the epoch
  int64_t steps_per_epoch = 0;
  double images_per_second = 0.0;  // training images / training time so far (evaluation excluded)
  double loss = 0.0;               // of the latest step
  double elapsed_seconds = 0.0;
  bool epoch_end = false;       // true on the extra end-of-epoch report
  double test_accuracy = -1.0;  // source test accuracy, set when epoch_end
};

struct PretrainResult {
  std::unique_ptr<Backbone> backbone;  // a BuiltinBackbone, in eval mode, on the training device
  CheckpointMeta meta;         // filled from the options and results; source_dataset = train origin, no normalization
  double test_accuracy = 0.0;  // after the last epoch
  std::vector<double> epoch_test_accuracy;  // one per epoch
  double images_per_second = 0.0;           // training throughput (evaluation excluded)
  double seconds = 0.0;                     // total wall time including evaluation
  std::vector<int64_t> aux_partition;       // class -> 0/1 when aux_binary_weight > 0, else empty
};

// Throws ConfigError naming the option for an unknown architecture, epochs or batch size below 1,
// a learning rate outside (0, kMaxLearningRate] (NaN and inf included), B outside [0, 1) or a
// thread count outside [0, kMaxThreads]. pretrain() calls it first; `harness pretrain` before anything else.
void check_pretrain_options(const PretrainOptions& options);

// Trains a fresh `options.arch` backbone with a linear head for the source classes on
// source.train, evaluating on source.test after every epoch (eval mode, no gradients, in
// batches). Everything random comes from options.seed: on the CPU with a fixed thread count two
// runs give bit-identical weights. The head(s) are discarded. Throws ConfigError for bad options
// (check_pretrain_options, unknown device) and DataError
// when the data do not fit (empty split, shape other than [N, in_channels, image_size, image_size],
// labels outside [0, num_classes)).
PretrainResult pretrain(const PretrainOptions& options, const Split& source,
                        const std::function<void(const PretrainProgress&)>& on_progress = {});

// The auxiliary task's partition: for each of `num_classes` classes its side, 0 or 1, with
// num_classes / 2 classes on side 1 (balanced up to one class), drawn from `seed`.
std::vector<int64_t> aux_binary_partition(int64_t num_classes, uint64_t seed);

}  // namespace harness

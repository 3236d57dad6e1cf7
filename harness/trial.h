// One fine-tuning trial: a fresh pretrained backbone, a strategy's head, the
// seeded step loop and every per-step measurement of PROTOCOL.md.
#pragma once

#include "db/store.h"
#include "harness/config.h"
#include "harness/data/dataset.h"
#include "harness/loader/loaded_strategy.h"
#include "harness/models/backbone.h"
#include "harness/trial_checkpoint.h"

#include <harness/strategy.h>

#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace harness {

// Seeds derived from a trial seed. The same trial seed gives every strategy
// the same batch order, evaluation subsets (test and validation), flips, crops and
// training-feature subset (the paired design); the head's initial draw also comes from it.
struct TrialSeeds {
  uint64_t batches, head, eval_subset, flips, feature_subset, crops, validation_subset;
  static TrialSeeds from(int64_t seed);
};

struct TrialInput {
  const TrainConfig* train = nullptr;
  const Split* data = nullptr;  // already normalized and on `device`; data->validation may be empty
  // Outlives the trial (the registry owns its library). Every call into plugin code goes through
  // it, so whatever a plugin throws arrives as a PluginError naming the plugin.
  const LoadedStrategy* strategy = nullptr;
  sdk::Params params;
  int64_t seed = 0;
  torch::Device device = torch::kCPU;
  std::function<std::unique_ptr<Backbone>()> make_backbone;  // a fresh pretrained copy
  // Mid-trial checkpoints. `resume`: go on after resume->step(), its state restored into the
  // freshly built objects (throws CheckpointRefused when it does not fit them). `save_checkpoint`:
  // called after a step (never the last) once train->checkpoint_every steps or
  // train->checkpoint_seconds of the trial have passed since the start or the previous call.
  const TrialCheckpoint* resume = nullptr;
  std::function<void(int64_t step, const TrialState& state)> save_checkpoint;
};

// Receives each step's record; the runner sends them to the store, a bench may drop them.
using StepSink = std::function<void(const db::StepRow&, const std::vector<db::MetricRow>&)>;

// Thrown when a trial cannot go on (non-finite loss, a plugin's exception):
// the runner marks the trial failed with this message and goes on.
class TrialFailure : public Error {
 public:
  using Error::Error;
};

// Runs all steps of one trial (those after input.resume's step when resuming). Throws
// TrialFailure, or CheckpointRefused from input.resume.
void run_trial(const TrialInput& input, const StepSink& sink,
               const std::function<void(int64_t step)>& on_step = nullptr);

// Steps at which the test split (and the validation split, when the task has one) is
// evaluated: every step up to dense_eval_steps, then every eval_every steps, and the last step.
bool is_eval_step(const TrainConfig& train, int64_t step);

}  // namespace harness

// Mid-trial checkpoints: a trial's whole state after a step, written atomically beside the
// database and read back when a killed trial is claimed again, so it goes on from that step.
#pragma once

#include "harness/errors.h"

#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>

namespace torch::serialize {
class InputArchive;
}  // namespace torch::serialize

namespace harness {

class Backbone;
class GroupOptimizer;
class SplitMix64;
namespace sdk {
class Head;
}  // namespace sdk

// A checkpoint file that cannot be used for its trial: damaged, not a trial checkpoint, or
// another trial's. The message names the file and the reason; the trial then starts from step 1.
class CheckpointRefused : public Error {
 public:
  using Error::Error;
};

// Which trial a checkpoint belongs to; a checkpoint that differs in any field is refused.
struct CheckpointIdentity {
  std::string config_hash;  // the experiment's (experiments.config_hash, backbone file included)
  int64_t trial_id = 0;
  std::string strategy;  // the trial's label
  int64_t seed = 0;
  std::string params_json;
  int64_t planned_steps = 0;
  std::string plugin_hash;  // SHA-1 of the plugin file: other plugin code must not continue the trial
  std::string device_type;  // "cpu", "cuda": a trial's numbers repeat on one kind of device only
};

// Everything of a trial's step loop that carries over from one step to the next, by reference:
// a write reads it, a restore overwrites it in place. Beside these, torch's default generator
// (CPU, and the trial device's when that is a GPU) is saved and restored: dropout draws from it.
// Rows need not be saved: the runner writes them to the database before each checkpoint.
struct TrialState {
  Backbone& backbone;         // parameters() and buffers()
  sdk::Head& head;            // named parameters and buffers: a head keeps its state there (strategy.h)
  GroupOptimizer& optimizer;  // moments, momentum buffers, step counts
  torch::Generator& batches;  // draws each epoch's order
  torch::Generator& flips;
  SplitMix64& crops;
  torch::Tensor& order;  // the current epoch's permutation of the training split
  torch::Device device;
};

// Where the checkpoint of trial `trial_id` of the database `db_path` lives: DB.checkpoints/trial-ID.pt.
std::string checkpoint_path(const std::string& db_path, int64_t trial_id);

// Removes the checkpoint at `path` and the temporary files of writes to it that a killed process
// left behind. Never throws: a file that cannot be removed stays.
void remove_checkpoint(const std::string& path) noexcept;

// Writes `state` after `step` into a temporary file beside `path`, flushed and renamed over it:
// a kill leaves the previous checkpoint or this one, never half of one. Creates the folder.
// Returns the file's size in bytes. Throws Error naming the file.
int64_t write_checkpoint(const std::string& path, const CheckpointIdentity& identity, int64_t step,
                         const TrialState& state);

// A checkpoint read back and checked against its trial, to restore into a fresh trial.
class TrialCheckpoint {
 public:
  // Reads `path` with its tensors onto `device`. Throws CheckpointRefused naming the file when it
  // cannot be read, is not a trial checkpoint of this format, or belongs to another trial (the
  // field that differs, with both values).
  static TrialCheckpoint read(const std::string& path, const CheckpointIdentity& identity, const torch::Device& device);

  const std::string& path() const noexcept { return path_; }
  int64_t step() const noexcept { return step_; }  // the last step it covers

  // Overwrites `state` with the saved one. Throws CheckpointRefused when a tensor's count, name
  // or shape differs from the live objects'; `state` may then be partly overwritten, so the
  // caller starts the trial afresh.
  void restore(const TrialState& state) const;

 private:
  TrialCheckpoint(std::string path, int64_t step, std::shared_ptr<torch::serialize::InputArchive> archive);

  std::string path_;
  int64_t step_ = 0;
  std::shared_ptr<torch::serialize::InputArchive> archive_;
};

}  // namespace harness

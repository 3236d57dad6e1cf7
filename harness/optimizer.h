// The fine-tune's optimizer and learning-rate schedule: [train] optimizer = adam | adamw | sgd
// with its settings, schedule = constant | cosine | linear | step, lr_warmup_steps.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace torch::optim {
class Optimizer;
}
namespace torch::serialize {
class InputArchive;
class OutputArchive;
}  // namespace torch::serialize

namespace harness {

enum class OptimizerKind { Adam, AdamW, Sgd };
enum class ScheduleKind { Constant, Cosine, Linear, Step };

// Defaults are the paper's: Adam (torch's betas and eps), constant lr, no ramp.
struct OptimizerSettings {
  OptimizerKind kind = OptimizerKind::Adam;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;  // adam, adamw
  double momentum = 0.0;                          // sgd
  bool nesterov = false;                          // sgd (needs momentum > 0)
  ScheduleKind schedule = ScheduleKind::Constant;
  int64_t lr_warmup_steps = 0;  // linear ramp of the lr over steps 1..W: lr * step / W
  int64_t lr_step_size = 0;     // schedule = step: multiply by lr_gamma every lr_step_size steps
  double lr_gamma = 0.1;
};

const char* optimizer_name(OptimizerKind kind);
const char* schedule_name(ScheduleKind kind);
// Throw ConfigError naming `where` and the valid names.
OptimizerKind parse_optimizer(const std::string& text, const std::string& where);
ScheduleKind parse_schedule(const std::string& text, const std::string& where);

// The schedule's multiplier of the base lr at `step` (1-based) of `total_steps`. After the ramp
// (steps 1..W at step / W), with p = (step - W - 1) / (total - W) in [0, 1):
// constant 1; cosine (1 + cos(pi p)) / 2; linear 1 - p; step lr_gamma^floor((step - W - 1) / lr_step_size).
double schedule_factor(const OptimizerSettings& settings, int64_t step, int64_t total_steps);

// One torch optimizer over parameter groups whose lr and weight decay are set before each step.
class GroupOptimizer {
 public:
  // `weight_decay` is each group's initial decay (Adam and SGD: L2 added to the gradient; AdamW: decoupled).
  GroupOptimizer(const OptimizerSettings& settings, const std::vector<std::vector<torch::Tensor>>& groups, double lr,
                 double weight_decay);
  ~GroupOptimizer();
  GroupOptimizer(const GroupOptimizer&) = delete;
  GroupOptimizer& operator=(const GroupOptimizer&) = delete;

  void set(std::size_t group, double lr, double weight_decay);
  void step();
  // Its state (moments, momentum buffers, step counts) for a trial checkpoint, in torch's own
  // optimizer format; load() restores it into an optimizer built over the same groups (each step
  // sets the lr and weight decay anew). load() throws c10::Error on a state of another shape.
  void save(torch::serialize::OutputArchive& archive) const;
  void load(torch::serialize::InputArchive& archive);

 private:
  OptimizerKind kind_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
};

}  // namespace harness

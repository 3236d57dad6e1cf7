// Optimizers and learning-rate schedules of the fine-tune.
#include "harness/optimizer.h"

#include "harness/errors.h"

#include <torch/torch.h>

#include <cmath>

namespace harness {
namespace {

constexpr double kPi = 3.14159265358979323846;

}  // namespace

const char* optimizer_name(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::Adam: return "adam";
    case OptimizerKind::AdamW: return "adamw";
    case OptimizerKind::Sgd: return "sgd";
  }
  return "?";
}

const char* schedule_name(ScheduleKind kind) {
  switch (kind) {
    case ScheduleKind::Constant: return "constant";
    case ScheduleKind::Cosine: return "cosine";
    case ScheduleKind::Linear: return "linear";
    case ScheduleKind::Step: return "step";
  }
  return "?";
}

OptimizerKind parse_optimizer(const std::string& text, const std::string& where) {
  for (OptimizerKind k : {OptimizerKind::Adam, OptimizerKind::AdamW, OptimizerKind::Sgd}) {
    if (text == optimizer_name(k)) return k;
  }
  throw ConfigError(where + ": '" + text + "' is not an optimizer; expected adam, adamw or sgd");
}

ScheduleKind parse_schedule(const std::string& text, const std::string& where) {
  for (ScheduleKind k : {ScheduleKind::Constant, ScheduleKind::Cosine, ScheduleKind::Linear, ScheduleKind::Step}) {
    if (text == schedule_name(k)) return k;
  }
  throw ConfigError(where + ": '" + text + "' is not a schedule; expected constant, cosine, linear or step");
}

double schedule_factor(const OptimizerSettings& s, int64_t step, int64_t total_steps) {
  const int64_t warm = s.lr_warmup_steps;
  if (step <= warm) return static_cast<double>(step) / static_cast<double>(warm);
  const int64_t after = step - warm - 1;  // 0 at the first step after the ramp
  const double span = static_cast<double>(std::max<int64_t>(1, total_steps - warm));
  const double p = static_cast<double>(after) / span;
  switch (s.schedule) {
    case ScheduleKind::Constant: return 1.0;
    case ScheduleKind::Cosine: return 0.5 * (1.0 + std::cos(kPi * p));
    case ScheduleKind::Linear: return 1.0 - p;
    case ScheduleKind::Step:
      return s.lr_step_size > 0 ? std::pow(s.lr_gamma, static_cast<double>(after / s.lr_step_size)) : 1.0;
  }
  return 1.0;
}

GroupOptimizer::GroupOptimizer(const OptimizerSettings& s, const std::vector<std::vector<torch::Tensor>>& groups,
                               double lr, double weight_decay)
    : kind_(s.kind) {
  std::vector<torch::optim::OptimizerParamGroup> param_groups;
  for (const auto& g : groups) param_groups.emplace_back(g);
  switch (s.kind) {
    case OptimizerKind::Adam:
      optimizer_ = std::make_unique<torch::optim::Adam>(
          std::move(param_groups),
          torch::optim::AdamOptions(lr).betas({s.beta1, s.beta2}).eps(s.eps).weight_decay(weight_decay));
      break;
    case OptimizerKind::AdamW:
      optimizer_ = std::make_unique<torch::optim::AdamW>(
          std::move(param_groups),
          torch::optim::AdamWOptions(lr).betas({s.beta1, s.beta2}).eps(s.eps).weight_decay(weight_decay));
      break;
    case OptimizerKind::Sgd:
      optimizer_ = std::make_unique<torch::optim::SGD>(
          std::move(param_groups),
          torch::optim::SGDOptions(lr).momentum(s.momentum).nesterov(s.nesterov).weight_decay(weight_decay));
      break;
  }
}

GroupOptimizer::~GroupOptimizer() = default;

void GroupOptimizer::set(std::size_t group, double lr, double weight_decay) {
  auto& options = optimizer_->param_groups().at(group).options();
  switch (kind_) {
    case OptimizerKind::Adam:
      static_cast<torch::optim::AdamOptions&>(options).lr(lr).weight_decay(weight_decay);
      break;
    case OptimizerKind::AdamW:
      static_cast<torch::optim::AdamWOptions&>(options).lr(lr).weight_decay(weight_decay);
      break;
    case OptimizerKind::Sgd:
      static_cast<torch::optim::SGDOptions&>(options).lr(lr).weight_decay(weight_decay);
      break;
  }
}

void GroupOptimizer::step() { optimizer_->step(); }

void GroupOptimizer::save(torch::serialize::OutputArchive& archive) const { optimizer_->save(archive); }

void GroupOptimizer::load(torch::serialize::InputArchive& archive) { optimizer_->load(archive); }

}  // namespace harness

// Test helpers: the built-in plugins loaded once from the build's strategies folder.
#pragma once

#include "harness/errors.h"
#include "harness/loader/strategy_registry.h"

#include <torch/torch.h>

#include <cmath>
#include <map>
#include <memory>
#include <string>

namespace harness::testing {

inline const StrategyRegistry& builtins() {
  static const StrategyRegistry registry = StrategyRegistry::discover({HARNESS_STRATEGY_DIR});
  return registry;
}

inline sdk::HeadSpec head_spec(int64_t features, int64_t classes, double learning_rate = 1e-4) {
  sdk::HeadSpec spec;
  spec.features = features;
  spec.classes = classes;
  spec.learning_rate = learning_rate;
  return spec;
}

// A head of built-in `name` with the parameters resolved as the host would, torch seeded as the host does.
inline std::shared_ptr<sdk::Head> make_head(const std::string& name, const sdk::HeadSpec& spec,
                                            const std::map<std::string, std::string>& given = {},
                                            uint64_t seed = 1) {
  const LoadedStrategy& strategy = builtins().get(name);
  torch::manual_seed(seed);
  return strategy.make_head(spec, resolve_params(strategy.strategy(), given));
}

// A convnet-shaped model (three blocks and the head) for plans that look at the groups.
inline const sdk::ModelInfo& convnet_model() {
  static const sdk::ModelInfo model{{{"block1", 352, false}, {"block2", 18624, false}, {"block3", 74112, false},
                                     {"head", 1290, true}}};
  return model;
}

// The context of step `step` of a 100-step trial on convnet_model().
inline sdk::StepContext at_step(int64_t step, int64_t total_steps = 100) {
  return {step, total_steps, &convnet_model()};
}

inline torch::Tensor param(sdk::Head& head, const std::string& name) { return head.named_parameters()[name]; }

// Relative tolerance for a sample variance of n i.i.d. normals: sd of s^2/sigma^2 is
// sqrt(2/(n-1)) (chi-square with n-1 degrees of freedom); 5 sd is a 1-in-3.5-million miss.
inline double variance_tolerance(int64_t n) { return 5.0 * std::sqrt(2.0 / static_cast<double>(n - 1)); }

inline double sample_variance(const torch::Tensor& t) { return t.to(torch::kFloat64).var().item<double>(); }

}  // namespace harness::testing

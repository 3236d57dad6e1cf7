// He-normal linear head shared by he_base, warmup, linear_probe and lp_ft (header-only, no exports).
#pragma once

#include <harness/strategy.h>

#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>

namespace harness::strategies {

inline sdk::ParamSpec he_mode_param() {
  sdk::ParamSpec p;
  p.name = "mode";
  p.type = sdk::ParamType::String;
  p.default_value = "fan_out";
  p.help = "He-normal fan mode: fan_out gives W ~ N(0, 2/C) (the paper's Base, Fig. 2a), fan_in N(0, 2/K)";
  p.choices = {"fan_out", "fan_in"};
  return p;
}

// W ~ N(0, m / fan) with m = 2 (ReLU gain), fan = C (fan_out) or K (fan_in); bias 0.
inline std::shared_ptr<sdk::LinearHead> make_he_head(const sdk::HeadSpec& spec, const sdk::Params& params) {
  const std::string mode = params.has("mode") ? params.text("mode") : "fan_out";
  if (mode != "fan_out" && mode != "fan_in") throw std::invalid_argument("mode must be fan_out or fan_in, got '" + mode + "'");
  auto head = std::make_shared<sdk::LinearHead>(spec.features, spec.classes);
  const double fan = static_cast<double>(mode == "fan_out" ? spec.classes : spec.features);
  torch::NoGradGuard no_grad;
  head->weight().normal_(0.0, std::sqrt(2.0 / fan));
  return head;
}

}  // namespace harness::strategies

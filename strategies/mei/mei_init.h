// Maximum Entropy Initialization (ENTAME Eq. 21), shared by mei and mei_fn (header-only, no exports).
#pragma once

#include <harness/strategy.h>

#include <cmath>
#include <stdexcept>
#include <vector>

namespace harness::strategies {

// The paper's choice "everywhere": 95% of the weights within +-2e-6.
constexpr double kMeiDefaultPhiW = 1e-12;

inline std::vector<sdk::ParamSpec> mei_params() {
  sdk::ParamSpec phi_w;
  phi_w.name = "phi_w";
  phi_w.type = sdk::ParamType::Real;
  phi_w.min = 0;
  phi_w.help = "variance of the head weights; if unset: gamma^2 lambda^2 / C^2 when lambda is set (Eq. 21), "
               "else 1e-12 (the paper's value)";
  sdk::ParamSpec lambda;
  lambda.name = "lambda";
  lambda.type = sdk::ParamType::Real;
  lambda.min = 0;
  lambda.help = "Eq. 21's noise/total weight-energy ratio after the first update (paper: 1 to 1000); "
                "used only when phi_w is unset; gamma is the trial's learning rate";
  return {phi_w, lambda};
}

// Eq. 21: phi_w = gamma^2 lambda^2 / C^2, unless phi_w is given; the paper's 1e-12 when neither is.
inline double mei_phi_w(const sdk::HeadSpec& spec, const sdk::Params& params) {
  if (params.has("phi_w")) return params.real("phi_w");
  if (params.has("lambda")) {
    const double gamma = spec.learning_rate, lambda = params.real("lambda");
    const double c = static_cast<double>(spec.classes);
    return gamma * gamma * lambda * lambda / (c * c);
  }
  return kMeiDefaultPhiW;
}

// W ~ N(0, phi_w) i.i.d., bias 0.
inline void mei_init(sdk::LinearHead& head, double phi_w) {
  if (!(phi_w >= 0) || !std::isfinite(phi_w)) throw std::invalid_argument("phi_w must be a finite number >= 0");
  torch::NoGradGuard no_grad;
  head.weight().normal_(0.0, std::sqrt(phi_w));
  head.bias().zero_();
}

}  // namespace harness::strategies

// Per-step measurements; formulas cite the ENTAME paper.
#include "harness/measurements.h"

#include <torch/torch.h>

namespace harness {

ErrorEnergy error_energy(const torch::Tensor& logits, const torch::Tensor& labels) {
  torch::NoGradGuard no_grad;
  const auto probs = torch::softmax(logits.to(torch::kFloat64), 1);  // yhat
  const int64_t classes = probs.size(1);
  ErrorEnergy e;
  // Eq. 12: phi = E_N[yhat yhat^T] + E_N[y y^T] - 2 E_N[yhat y^T]
  e.zeta = probs.pow(2).sum(1).mean().item<double>();
  e.label_energy = 1.0;  // one-hot labels
  e.cross_energy = 2.0 * probs.gather(1, labels.view({-1, 1})).mean().item<double>();
  e.phi = e.zeta + e.label_energy - e.cross_energy;
  e.noise_fraction = e.phi > 0 ? (e.zeta - 1.0 / classes) / e.phi : 0.0;
  return e;
}

double feature_grad_energy(const torch::Tensor& feature_grad) {
  torch::NoGradGuard no_grad;
  const auto g = feature_grad.to(torch::kFloat64);
  const double n = static_cast<double>(g.size(0));
  // Eq. 8: delta^{L-1} = W^T delta^L, with delta^L = (yhat - y) / N for the mean loss.
  return n * n * g.pow(2).sum(1).mean().item<double>();
}

double feature_variance(const torch::Tensor& features) {
  torch::NoGradGuard no_grad;
  return features.to(torch::kFloat64).var(0, /*unbiased=*/false).mean().item<double>();
}

double l2_distance(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  torch::NoGradGuard no_grad;
  double sum = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    sum += (a[i].to(torch::kFloat64) - b[i].to(torch::kFloat64)).pow(2).sum().item<double>();
  }
  return std::sqrt(sum);
}

}  // namespace harness

// Per-step measurements; formulas cite the ENTAME paper.
#include "harness/measurements.h"

#include <torch/torch.h>

#include <cmath>

namespace harness {

ErrorEnergy ErrorEnergy::from(double zeta, double cross_energy, int64_t classes) {
  ErrorEnergy e;
  e.zeta = zeta;
  e.label_energy = 1.0;  // one-hot labels
  e.cross_energy = cross_energy;
  // Eq. 12: phi = E_N[yhat yhat^T] + E_N[y y^T] - 2 E_N[yhat y^T]
  e.phi = e.zeta + e.label_energy - e.cross_energy;
  e.noise_fraction = e.phi > 0 ? (e.zeta - 1.0 / static_cast<double>(classes)) / e.phi : 0.0;
  return e;
}

torch::Tensor error_energy_on_device(const torch::Tensor& logits, const torch::Tensor& labels) {
  torch::NoGradGuard no_grad;
  const auto probs = torch::softmax(logits.to(torch::kFloat64), 1);  // yhat
  return torch::stack({probs.pow(2).sum(1).mean(), 2.0 * probs.gather(1, labels.view({-1, 1})).mean()});
}

ErrorEnergy error_energy(const torch::Tensor& logits, const torch::Tensor& labels) {
  const auto terms = error_energy_on_device(logits, labels).cpu();
  const double* v = terms.data_ptr<double>();
  return ErrorEnergy::from(v[0], v[1], logits.size(1));
}

torch::Tensor feature_grad_energy_on_device(const torch::Tensor& feature_grad) {
  torch::NoGradGuard no_grad;
  const auto g = feature_grad.to(torch::kFloat64);
  const double n = static_cast<double>(g.size(0));
  // Eq. 8: delta^{L-1} = W^T delta^L, with delta^L = (yhat - y) / N for the mean loss.
  return g.pow(2).sum(1).mean() * (n * n);
}

double feature_grad_energy(const torch::Tensor& feature_grad) {
  return feature_grad_energy_on_device(feature_grad).item<double>();
}

torch::Tensor feature_variance_on_device(const torch::Tensor& features) {
  torch::NoGradGuard no_grad;
  return features.to(torch::kFloat64).var(0, /*unbiased=*/false).mean();
}

double feature_variance(const torch::Tensor& features) { return feature_variance_on_device(features).item<double>(); }

torch::Tensor squared_distances_on_device(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> sums;
  sums.reserve(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    sums.push_back((a[i].to(torch::kFloat64) - b[i].to(torch::kFloat64)).pow(2).sum());
  }
  if (sums.empty()) return torch::zeros({0}, torch::kFloat64);
  return torch::stack(sums);
}

double l2_from_squared(const double* squared, std::size_t count) {
  double sum = 0;
  for (std::size_t i = 0; i < count; ++i) sum += squared[i];
  return std::sqrt(sum);
}

double l2_distance(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  const auto squared = squared_distances_on_device(a, b).cpu().contiguous();
  return l2_from_squared(squared.data_ptr<double>(), static_cast<std::size_t>(squared.numel()));
}

}  // namespace harness

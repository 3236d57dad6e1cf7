// The per-step measurements of PROTOCOL.md, as pure functions of tensors.
//
// Each measurement has a device form (`*_on_device`: float64 tensors on the input's device,
// no synchronization) that the step loop stacks and copies to the host once per step, and a
// host form returning doubles, computed from the device form, for tests and single use.
#pragma once

#include <torch/types.h>

#include <vector>

namespace harness {

// Energy of the back-propagated error at the output of the last layer
// (ENTAME Eq. 11-12), averaged over the batch.
struct ErrorEnergy {
  double zeta = 0;            // E_N[sum_j yhat_j^2]; infimum 1/C at maximum entropy
  double label_energy = 0;    // E_N[y y^T] = 1 for one-hot labels
  double cross_energy = 0;    // 2 E_N[yhat_t], t the true class
  double phi = 0;             // zeta + label_energy - cross_energy, in [0, 2]
  double noise_fraction = 0;  // (zeta - 1/C) / phi

  // The derived terms from the two batch averages (Eq. 12).
  static ErrorEnergy from(double zeta, double cross_energy, int64_t classes);
};

// logits [N, C], labels int64 [N] -> float64 [2]: zeta and cross_energy.
torch::Tensor error_energy_on_device(const torch::Tensor& logits, const torch::Tensor& labels);
ErrorEnergy error_energy(const torch::Tensor& logits, const torch::Tensor& labels);

// N^2 E_N[||dL/dX^L||^2] for the gradient of the batch-mean loss with respect
// to the features [N, K]: the per-example error energy reaching the backbone (Eq. 8).
torch::Tensor feature_grad_energy_on_device(const torch::Tensor& feature_grad);
double feature_grad_energy(const torch::Tensor& feature_grad);

// Mean over the K feature dimensions of the (biased) batch variance of X^L [N, K].
torch::Tensor feature_variance_on_device(const torch::Tensor& features);
double feature_variance(const torch::Tensor& features);

// ||a - b||_2 over lists of same-shaped tensors (backbone drift from the pretrained weights).
// The device form gives the squared distance of each pair, float64 [size]; the host sums them
// in order (so the value does not depend on a device's reduction order) and takes the root.
torch::Tensor squared_distances_on_device(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b);
double l2_from_squared(const double* squared, std::size_t count);
double l2_distance(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b);

}  // namespace harness

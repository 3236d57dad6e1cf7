// The per-step measurements of PROTOCOL.md, as pure functions of tensors.
#pragma once

#include <torch/types.h>

namespace harness {

// Energy of the back-propagated error at the output of the last layer
// (ENTAME Eq. 11-12), averaged over the batch.
struct ErrorEnergy {
  double zeta = 0;            // E_N[sum_j yhat_j^2]; infimum 1/C at maximum entropy
  double label_energy = 0;    // E_N[y y^T] = 1 for one-hot labels
  double cross_energy = 0;    // 2 E_N[yhat_t], t the true class
  double phi = 0;             // zeta + label_energy - cross_energy, in [0, 2]
  double noise_fraction = 0;  // (zeta - 1/C) / phi
};

// logits [N, C], labels int64 [N].
ErrorEnergy error_energy(const torch::Tensor& logits, const torch::Tensor& labels);

// N^2 E_N[||dL/dX^L||^2] for the gradient of the batch-mean loss with respect
// to the features [N, K]: the per-example error energy reaching the backbone (Eq. 8).
double feature_grad_energy(const torch::Tensor& feature_grad);

// Mean over the K feature dimensions of the (biased) batch variance of X^L [N, K].
double feature_variance(const torch::Tensor& features);

// ||a - b||_2 over lists of same-shaped tensors (backbone drift from the pretrained weights).
double l2_distance(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b);

}  // namespace harness

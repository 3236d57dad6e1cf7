// Tests the per-step measurements against hand-derived values (ENTAME Eq. 8, 11-12).
#include "harness/measurements.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

namespace harness {
namespace {

TEST(ErrorEnergy, UniformEstimatesSitOnTheMaximumEntropyFloor) {
  const int64_t n = 7, c = 10;
  const auto logits = torch::zeros({n, c});
  const auto labels = torch::randint(0, c, {n}, torch::kLong);
  const ErrorEnergy e = error_energy(logits, labels);
  EXPECT_NEAR(e.zeta, 1.0 / c, 1e-12);
  EXPECT_NEAR(e.cross_energy, 2.0 / c, 1e-12);
  EXPECT_NEAR(e.phi, 1.0 - 1.0 / c, 1e-12);  // 1/C + 1 - 2/C
  EXPECT_NEAR(e.noise_fraction, 0.0, 1e-12);
}

TEST(ErrorEnergy, MatchesAHandComputedBatch) {
  // Two examples, three classes, probabilities chosen through their logs.
  const auto p = torch::tensor({{0.7, 0.2, 0.1}, {0.25, 0.25, 0.5}}, torch::kFloat64);
  const auto logits = p.log();
  const auto labels = torch::tensor({0, 1}, torch::kLong);
  const ErrorEnergy e = error_energy(logits, labels);
  const double zeta = ((0.49 + 0.04 + 0.01) + (0.0625 + 0.0625 + 0.25)) / 2;
  const double cross = 2 * (0.7 + 0.25) / 2;
  const double phi = zeta + 1 - cross;
  EXPECT_NEAR(e.zeta, zeta, 1e-12);
  EXPECT_NEAR(e.cross_energy, cross, 1e-12);
  EXPECT_NEAR(e.phi, phi, 1e-12);
  EXPECT_NEAR(e.noise_fraction, (zeta - 1.0 / 3) / phi, 1e-12);
  // phi is also E_N[sum_j (yhat_j - y_j)^2] (Eq. 11).
  const auto y = torch::one_hot(labels, 3).to(torch::kFloat64);
  EXPECT_NEAR(e.phi, (p - y).pow(2).sum(1).mean().item<double>(), 1e-12);
}

TEST(FeatureGradEnergy, EqualsTheBackPropagatedErrorOfALinearHead) {
  torch::manual_seed(3);
  const int64_t n = 16, k = 8, c = 5;
  auto features = torch::randn({n, k}, torch::kFloat64).requires_grad_(true);
  const auto w = torch::randn({c, k}, torch::kFloat64);
  const auto labels = torch::randint(0, c, {n}, torch::kLong);
  const auto logits = torch::matmul(features, w.t());
  torch::nn::functional::cross_entropy(logits, labels).backward();
  // Eq. 8 with delta^L = (yhat - y): per-example error at X^L is W^T (yhat - y).
  const auto delta = torch::softmax(logits.detach(), 1) - torch::one_hot(labels, c).to(torch::kFloat64);
  const double expected = torch::matmul(delta, w).pow(2).sum(1).mean().item<double>();
  EXPECT_NEAR(feature_grad_energy(features.grad()), expected, 1e-10 * expected);
}

TEST(FeatureVariance, IsTheMeanBiasedVariance) {
  const auto x = torch::tensor({{1.0, 10.0}, {3.0, 10.0}}, torch::kFloat64);
  // Feature 0: values 1, 3 -> biased variance 1; feature 1: constant -> 0.
  EXPECT_NEAR(feature_variance(x), 0.5, 1e-12);
}

TEST(L2Distance, SumsOverTensors) {
  const std::vector<torch::Tensor> a = {torch::tensor({3.0}), torch::tensor({0.0, 0.0})};
  const std::vector<torch::Tensor> b = {torch::tensor({0.0}), torch::tensor({4.0, 0.0})};
  EXPECT_NEAR(l2_distance(a, b), 5.0, 1e-12);
  EXPECT_EQ(l2_distance(a, a), 0.0);
}

}  // namespace
}  // namespace harness

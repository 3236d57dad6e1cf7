// mei (ENTAME Eq. 21): weight variance, maximum initial entropy, and (almost) no error reaching the features.
#include "builtin_strategies.h"

#include <gtest/gtest.h>

namespace harness::testing {
namespace {

constexpr int64_t kK = 512;
constexpr int64_t kC = 1000;

TEST(Mei, DefaultVarianceIsThePapersOneE12) {
  auto head = make_head("mei", head_spec(kK, kC));
  const auto w = param(*head, "weight");
  EXPECT_NEAR(sample_variance(w) / 1e-12, 1.0, variance_tolerance(w.numel()));
  EXPECT_EQ(param(*head, "bias").abs().max().item<float>(), 0.0f);
}

TEST(Mei, LambdaGivesGammaSquaredLambdaSquaredOverCSquared) {
  // Eq. 21 with gamma = 1e-3, lambda = 100, C = 1000: phi_w = 1e-6 * 1e4 / 1e6 = 1e-8.
  auto head = make_head("mei", head_spec(kK, kC, /*learning_rate=*/1e-3), {{"lambda", "100"}});
  const auto w = param(*head, "weight");
  EXPECT_NEAR(sample_variance(w) / 1e-8, 1.0, variance_tolerance(w.numel()));
  // gamma comes from the spec: another learning rate, another variance (x 4).
  auto head2 = make_head("mei", head_spec(kK, kC, 2e-3), {{"lambda", "100"}});
  EXPECT_NEAR(sample_variance(param(*head2, "weight")) / 4e-8, 1.0, variance_tolerance(w.numel()));
}

TEST(Mei, ExplicitPhiWWinsOverLambda) {
  auto head = make_head("mei", head_spec(kK, kC, 1e-3), {{"lambda", "100"}, {"phi_w", "1e-4"}});
  const auto w = param(*head, "weight");
  EXPECT_NEAR(sample_variance(w) / 1e-4, 1.0, variance_tolerance(w.numel()));
}

// Features of a random ReLU convnet (the reference architecture, untrained) on
// generated images of Gaussian blobs: non-negative, correlated, not unit-variance.
torch::Tensor realish_features(int64_t n) {
  torch::manual_seed(42);
  torch::NoGradGuard no_grad;
  const auto grid = torch::arange(28, torch::kFloat32);
  const auto yy = grid.view({1, 1, 28, 1}), xx = grid.view({1, 1, 1, 28});
  const auto cx = torch::rand({n, 3, 1, 1}) * 28, cy = torch::rand({n, 3, 1, 1}) * 28;
  const auto s = 1.5 + torch::rand({n, 3, 1, 1}) * 4;
  auto blobs = torch::exp(-((xx - cx).pow(2) + (yy - cy).pow(2)) / (2 * s * s));
  const auto images = blobs.sum(1, /*keepdim=*/true) + 0.05 * torch::randn({n, 1, 28, 28});
  torch::nn::Sequential net(
      torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 32, 3).padding(1)), torch::nn::ReLU(),
      torch::nn::MaxPool2d(2), torch::nn::Conv2d(torch::nn::Conv2dOptions(32, 64, 3).padding(1)),
      torch::nn::ReLU(), torch::nn::MaxPool2d(2),
      torch::nn::Conv2d(torch::nn::Conv2dOptions(64, 128, 3).padding(1)), torch::nn::ReLU(),
      torch::nn::AdaptiveAvgPool2d(1), torch::nn::Flatten());
  return net->forward(images);
}

double mean_entropy(const torch::Tensor& logits) {
  const auto log_p = torch::log_softmax(logits.to(torch::kFloat64), 1);
  return -(log_p.exp() * log_p).sum(1).mean().item<double>();
}

// E_N ||dL/dX^L||^2 of one backward pass (Eq. 8's error reaching the backbone).
double feature_grad_energy(sdk::Head& head, const torch::Tensor& features, const torch::Tensor& labels) {
  auto x = features.detach().clone().requires_grad_(true);
  torch::nn::functional::cross_entropy(head.forward(x), labels).backward();
  return x.grad().to(torch::kFloat64).pow(2).sum(1).mean().item<double>();
}

TEST(Mei, InitialEntropyIsLnC) {
  const auto features = realish_features(256);
  ASSERT_EQ(features.size(1), 128);
  ASSERT_GT(features.var(0).mean().item<double>(), 0.0);
  constexpr int64_t kClasses = 10;
  auto mei = make_head("mei", head_spec(128, kClasses));
  EXPECT_NEAR(mean_entropy(mei->forward(features)), std::log(static_cast<double>(kClasses)), 1e-6);
  // The same check separates a standard init: He-normal is far from maximum entropy.
  auto he = make_head("he_base", head_spec(128, kClasses));
  EXPECT_LT(mean_entropy(he->forward(features)), std::log(static_cast<double>(kClasses)) - 1e-3);
}

TEST(Mei, ErrorReachingTheFeaturesIsOrdersOfMagnitudeBelowHe) {
  const auto features = realish_features(256);
  torch::manual_seed(5);
  const auto labels = torch::randint(10, {256});
  auto mei = make_head("mei", head_spec(128, 10));
  auto he = make_head("he_base", head_spec(128, 10));
  const double mei_energy = feature_grad_energy(*mei, features, labels);
  const double he_energy = feature_grad_energy(*he, features, labels);
  EXPECT_GT(he_energy, 0.0);
  EXPECT_GT(mei_energy, 0.0);  // tiny but not zero: the weights are random, not zero
  EXPECT_LT(mei_energy, 1e-6 * he_energy) << "mei " << mei_energy << " he " << he_energy;
}

}  // namespace
}  // namespace harness::testing

// mei_fn (ENTAME Eq. 20): batch z-normalization in training, last training batch's statistics in inference.
#include "builtin_strategies.h"

#include <gtest/gtest.h>

namespace harness::testing {
namespace {

constexpr int64_t kK = 16;
constexpr double kEps = 1e-5;

// An mei_fn head whose linear part is the identity, so forward() returns the normalized features.
std::shared_ptr<sdk::Head> fn_only_head() {
  auto head = make_head("mei_fn", head_spec(kK, kK));
  torch::NoGradGuard no_grad;
  param(*head, "linear.weight").copy_(torch::eye(kK));
  param(*head, "linear.bias").zero_();
  return head;
}

torch::Tensor batch(int64_t n, double mean, double std, uint64_t seed) {
  torch::manual_seed(seed);
  return torch::randn({n, kK}) * std + mean + torch::arange(kK, torch::kFloat32);  // per-feature offsets
}

torch::Tensor normalize_with(const torch::Tensor& x, const torch::Tensor& stats_batch) {
  const auto mu = stats_batch.mean(0);
  const auto var = stats_batch.var(0, /*unbiased=*/false);
  return (x - mu) / torch::sqrt(var + kEps);
}

TEST(MeiFn, DefaultEpsIsOneEMinusFive) {
  const auto params = resolve_params(builtins().get("mei_fn").strategy(), {});
  EXPECT_DOUBLE_EQ(params.real("eps"), kEps);
}

TEST(MeiFn, TrainingModeGivesZeroMeanUnitVariancePerFeature) {
  auto head = fn_only_head();
  head->train(true);
  const auto x = batch(64, 5.0, 3.0, 1);
  const auto out = head->forward(x).detach();
  const auto mean = out.mean(0), var = out.var(0, /*unbiased=*/false);
  EXPECT_LT(mean.abs().max().item<double>(), 1e-5);
  EXPECT_LT((var - 1).abs().max().item<double>(), 1e-4);
  EXPECT_TRUE(torch::allclose(out, normalize_with(x, x), 1e-5, 1e-5));
}

TEST(MeiFn, TrainingStatisticsArePartOfTheGraph) {
  // With the mean in the graph, sum over the batch of each output column is constant (0),
  // so its gradient w.r.t. the inputs vanishes; a detached mean would give 1/sigma instead.
  auto head = fn_only_head();
  head->train(true);
  auto x = batch(32, 1.0, 2.0, 2).requires_grad_(true);
  head->forward(x).sum().backward();
  EXPECT_LT(x.grad().abs().max().item<double>(), 1e-4);
}

TEST(MeiFn, InferenceUsesTheLastTrainingBatchNotRunningAverages) {
  auto head = fn_only_head();
  const auto b1 = batch(64, -4.0, 0.5, 11);
  const auto b2 = batch(64, 6.0, 4.0, 12);
  const auto b3 = batch(32, 1.0, 1.0, 13);
  head->train(true);
  head->forward(b1);
  head->forward(b2);
  head->eval();
  const auto out = head->forward(b3);
  EXPECT_TRUE(torch::allclose(out, normalize_with(b3, b2), 1e-5, 1e-5));
  // It is not the evaluated batch's own statistics, nor a mix of the training batches.
  EXPECT_FALSE(torch::allclose(out, normalize_with(b3, b3), 1e-2, 1e-2));
  EXPECT_FALSE(torch::allclose(out, normalize_with(b3, torch::cat({b1, b2})), 1e-2, 1e-2));
  // Evaluation does not change the stored statistics.
  head->forward(batch(8, 100.0, 10.0, 14));
  EXPECT_TRUE(torch::allclose(head->forward(b3), out));
  // Stored statistics are detached copies.
  auto buffers = head->named_buffers();
  EXPECT_FALSE(buffers["fn_mean"].requires_grad());
  EXPECT_TRUE(torch::allclose(buffers["fn_mean"], b2.mean(0)));
  EXPECT_TRUE(torch::allclose(buffers["fn_var"], b2.var(0, false)));
  // The metric reports the mean std FN divides by.
  const auto metrics = head->metrics();
  ASSERT_TRUE(metrics.count("fn_feature_std"));
  EXPECT_NEAR(metrics.at("fn_feature_std"), b2.var(0, false).sqrt().mean().item<double>(), 1e-5);
}

TEST(MeiFn, InferenceBeforeAnyTrainingUsesTheBatchsOwnStatistics) {
  auto head = fn_only_head();
  head->eval();
  const auto x = batch(32, 2.0, 3.0, 21);
  EXPECT_TRUE(torch::allclose(head->forward(x), normalize_with(x, x), 1e-5, 1e-5));
  EXPECT_TRUE(head->metrics().empty());
  // ... and does not count as a training batch.
  const auto y = batch(32, -2.0, 0.3, 22);
  EXPECT_TRUE(torch::allclose(head->forward(y), normalize_with(y, y), 1e-5, 1e-5));
}

TEST(MeiFn, HeadWeightsFollowMei) {
  auto head = make_head("mei_fn", head_spec(512, 1000));
  const auto w = param(*head, "linear.weight");
  EXPECT_NEAR(sample_variance(w) / 1e-12, 1.0, variance_tolerance(w.numel()));
}

}  // namespace
}  // namespace harness::testing

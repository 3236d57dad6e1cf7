// bn_probe (MAE / MoCo v3 linear probing): affine-free BatchNorm (batch statistics in training,
// running averages in inference) in front of a linear head W ~ N(0, 0.01^2), b = 0.
#include "builtin_strategies.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

namespace harness::testing {
namespace {

constexpr int64_t kK = 16;
constexpr int64_t kC = 5;
constexpr double kEps = 1e-6;  // the default, MAE's
// Outputs are ~0.01 * sqrt(K) * O(1); float32 BatchNorm and matmul against float64: ~1e-7 relative
// on O(1) normalized values, so 1e-6 absolute is loose. Biased vs unbiased variance with N = 8
// changes the output by ~7% (sqrt(8/7)), ~1e-3: far outside it.
constexpr double kTol = 1e-6;

torch::Tensor batch(int64_t n, uint64_t seed) {
  torch::manual_seed(seed);
  return torch::randn({n, kK}) * (torch::arange(kK, torch::kFloat32) * 0.5 + 0.2) + torch::arange(kK, torch::kFloat32);
}

// (x - mean) / sqrt(var + eps) W^T + b in float64.
torch::Tensor expected(sdk::Head& head, const torch::Tensor& x, const torch::Tensor& mean, const torch::Tensor& var) {
  const auto w = param(head, "linear.weight").detach().to(torch::kFloat64);
  const auto b = param(head, "linear.bias").detach().to(torch::kFloat64);
  return ((x.to(torch::kFloat64) - mean) / torch::sqrt(var + kEps)).matmul(w.t()) + b;
}

torch::Tensor output(sdk::Head& head, const torch::Tensor& x) { return head.forward(x).detach().to(torch::kFloat64); }

TEST(BnProbe, TrainingModeUsesTheBatchMeanAndBiasedVariance) {
  auto head = make_head("bn_probe", head_spec(kK, kC));
  head->train(true);
  const auto x = batch(8, 1);
  const auto x64 = x.to(torch::kFloat64);
  const auto out = output(*head, x);
  EXPECT_TRUE(torch::allclose(out, expected(*head, x, x64.mean(0), x64.var(0, /*unbiased=*/false)), 0, kTol));
  EXPECT_FALSE(torch::allclose(out, expected(*head, x, x64.mean(0), x64.var(0, /*unbiased=*/true)), 0, 100 * kTol));
}

TEST(BnProbe, NoAffineParameters) {
  auto head = make_head("bn_probe", head_spec(kK, kC));
  std::vector<std::string> names;
  for (const auto& item : head->named_parameters()) names.push_back(item.key());
  EXPECT_THAT(names, ::testing::UnorderedElementsAre("linear.weight", "linear.bias"));
}

TEST(BnProbe, WeightsAreSmallNormalAndBiasZero) {
  // K C = 512000 draws: the sample variance is within variance_tolerance (5 sd of s^2/sigma^2) of
  // sigma^2, the sample mean within 5 sd of the mean's sampling distribution, sigma / sqrt(n).
  using Case = std::pair<std::map<std::string, std::string>, double>;
  for (auto [given, sigma] : {Case{{}, 0.01}, Case{{{"std", "0.05"}}, 0.05}}) {
    auto head = make_head("bn_probe", head_spec(512, 1000), given);
    const auto w = param(*head, "linear.weight");
    EXPECT_NEAR(sample_variance(w) / (sigma * sigma), 1.0, variance_tolerance(w.numel())) << sigma;
    EXPECT_NEAR(w.to(torch::kFloat64).mean().item<double>(), 0.0, 5 * sigma / std::sqrt(double(w.numel()))) << sigma;
    EXPECT_EQ(param(*head, "linear.bias").abs().max().item<double>(), 0.0);
  }
}

TEST(BnProbe, EvalModeUsesRunningAveragesOfTheTrainingBatches) {
  auto head = make_head("bn_probe", head_spec(kK, kC), {{"momentum", "0.3"}});
  const auto b1 = batch(8, 11).to(torch::kFloat64), b2 = batch(12, 12).to(torch::kFloat64);
  head->train(true);
  head->forward(b1.to(torch::kFloat32));
  head->forward(b2.to(torch::kFloat32));
  // r <- (1 - m) r + m stat from mean 0, variance 1; the running variance takes the unbiased
  // batch variance (torch's BatchNorm, as MAE uses it).
  const double m = 0.3;
  const auto mean = (1 - m) * ((1 - m) * 0 + m * b1.mean(0)) + m * b2.mean(0);
  const auto var = (1 - m) * ((1 - m) * 1 + m * b1.var(0, true)) + m * b2.var(0, true);
  head->eval();
  const auto x = batch(4, 13);
  const auto out = output(*head, x);
  EXPECT_TRUE(torch::allclose(out, expected(*head, x, mean, var), 1e-5, kTol));
  const auto x64 = x.to(torch::kFloat64);
  EXPECT_FALSE(torch::allclose(out, expected(*head, x, x64.mean(0), x64.var(0, false)), 0, 100 * kTol));
  // Evaluation leaves the running statistics alone.
  head->forward(batch(4, 14) * 100);
  EXPECT_TRUE(torch::allclose(output(*head, x), out));
}

TEST(BnProbe, ShowPrintsTheParameters) {
  std::ostringstream out;
  print_strategy_show(builtins().get("bn_probe"), out);
  EXPECT_THAT(out.str(), ::testing::HasSubstr("std (real)  default: 0.01"));
  EXPECT_THAT(out.str(), ::testing::HasSubstr("momentum (real)  default: 0.1  range: [0, 1]"));
  EXPECT_THAT(out.str(), ::testing::HasSubstr("eps (real)  default: 1e-6"));
}

}  // namespace
}  // namespace harness::testing

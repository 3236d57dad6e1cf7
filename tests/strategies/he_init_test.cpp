// he_base, xavier and zero_head: the distribution of the head weights they produce.
#include "builtin_strategies.h"

#include <gtest/gtest.h>

namespace harness::testing {
namespace {

// K != C and both large, so fan-in and fan-out variances differ by far more than the tolerance.
constexpr int64_t kK = 300;
constexpr int64_t kC = 700;

void expect_normal_weights(const torch::Tensor& w, double variance) {
  const int64_t n = w.numel();
  EXPECT_NEAR(sample_variance(w) / variance, 1.0, variance_tolerance(n));
  EXPECT_NEAR(w.to(torch::kFloat64).mean().item<double>(), 0.0, 5.0 * std::sqrt(variance / n));
}

TEST(HeBase, FanOutVarianceIsTwoOverC) {
  auto head = make_head("he_base", head_spec(kK, kC));
  const auto w = param(*head, "weight");
  ASSERT_EQ(w.sizes(), (std::vector<int64_t>{kC, kK}));
  expect_normal_weights(w, 2.0 / kC);
  EXPECT_EQ(param(*head, "bias").abs().max().item<float>(), 0.0f);
}

TEST(HeBase, FanInVarianceIsTwoOverK) {
  auto head = make_head("he_base", head_spec(kK, kC), {{"mode", "fan_in"}});
  expect_normal_weights(param(*head, "weight"), 2.0 / kK);
}

TEST(HeBase, UnknownModeIsRefused) {
  EXPECT_THROW(make_head("he_base", head_spec(kK, kC), {{"mode", "fan_avg"}}), ConfigError);
}

TEST(HeBase, VariantsShareTheHead) {
  for (const char* name : {"warmup", "linear_probe", "lp_ft"}) {
    auto head = make_head(name, head_spec(kK, kC));
    expect_normal_weights(param(*head, "weight"), 2.0 / kC);
  }
}

TEST(Xavier, VarianceIsTwoOverKPlusC) {
  auto head = make_head("xavier", head_spec(kK, kC));
  expect_normal_weights(param(*head, "weight"), 2.0 / (kK + kC));
  EXPECT_EQ(param(*head, "bias").abs().max().item<float>(), 0.0f);
}

TEST(ZeroHead, EverythingIsZero) {
  auto head = make_head("zero_head", head_spec(kK, kC));
  EXPECT_EQ(param(*head, "weight").abs().max().item<float>(), 0.0f);
  EXPECT_EQ(param(*head, "bias").abs().max().item<float>(), 0.0f);
}

}  // namespace
}  // namespace harness::testing

// l2_sp (Li, Grandvalet, Davoine 2018): Omega = alpha/2 ||w - w0||^2 + beta/2 ||W_head||^2, its autograd
// gradients alpha (w - w0) and beta W, and no plain weight decay on the backbone.
#include "builtin_strategies.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

namespace harness::testing {
namespace {

// Each gradient component is one float32 subtraction and one multiply: a few ulps (2^-24
// relative each) off the float64 value; 1e-6 relative is ~16 ulps. The sums over ~40 squares
// accumulate at most ~40 ulps.
constexpr double kGradRtol = 1e-6;
constexpr double kSumRtol = 1e-5;

// Hand-made parameters: two backbone tensors (a weight and a bias) with their pretrained values,
// and a head weight and bias.
struct Fixture {
  Fixture() {
    torch::manual_seed(5);
    for (auto shape : {std::vector<int64_t>{3, 4}, std::vector<int64_t>{5}}) {
      pretrained.push_back(torch::randn(shape));
      backbone.push_back((pretrained.back() + 0.3 * torch::randn(shape)).requires_grad_(true));
    }
    head = {torch::randn({2, 3}).requires_grad_(true), torch::randn({2}).requires_grad_(true)};
  }
  std::map<std::string, torch::Tensor> terms(const std::map<std::string, std::string>& given) const {
    const sdk::Strategy& s = builtins().get("l2_sp").strategy();
    const sdk::LossInputs inputs{logits, labels, features, backbone, pretrained, head, 1};
    return s.loss_terms(inputs, resolve_params(s, given));
  }
  torch::Tensor logits = torch::zeros({4, 2});
  torch::Tensor labels = torch::zeros({4}, torch::kLong);
  torch::Tensor features = torch::zeros({4, 3});
  std::vector<torch::Tensor> backbone, pretrained, head;
};

double squared_distance(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  double sum = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    sum += (a[i].detach().to(torch::kFloat64) - b[i].to(torch::kFloat64)).pow(2).sum().item<double>();
  }
  return sum;
}

TEST(L2Sp, TermsAreHalfAlphaAndHalfBetaTimesTheSquaredNorms) {
  Fixture f;
  const auto terms = f.terms({{"alpha", "0.1"}, {"beta", "0.02"}});
  ASSERT_EQ(terms.size(), 2u);
  const double backbone = 0.05 * squared_distance(f.backbone, f.pretrained);
  const double head = 0.01 * f.head[0].detach().to(torch::kFloat64).pow(2).sum().item<double>();  // no bias
  EXPECT_NEAR(terms.at("l2_sp_backbone").item<double>(), backbone, kSumRtol * backbone);
  EXPECT_NEAR(terms.at("l2_sp_head").item<double>(), head, kSumRtol * head);
}

TEST(L2Sp, GradientOfTheBackboneTermIsAlphaTimesTheDisplacement) {
  Fixture f;
  const double alpha = 0.07;
  f.terms({{"alpha", "0.07"}}).at("l2_sp_backbone").backward();
  for (std::size_t i = 0; i < f.backbone.size(); ++i) {
    const auto expected = alpha * (f.backbone[i].detach().to(torch::kFloat64) - f.pretrained[i].to(torch::kFloat64));
    ASSERT_TRUE(f.backbone[i].grad().defined()) << i;
    EXPECT_TRUE(torch::allclose(f.backbone[i].grad().to(torch::kFloat64), expected, kGradRtol, 0)) << i;
  }
  for (const auto& p : f.head) EXPECT_FALSE(p.grad().defined()) << "the backbone term does not touch the head";
}

TEST(L2Sp, GradientOfTheHeadTermIsBetaTimesTheWeightAndNothingOnTheBias) {
  Fixture f;
  const double beta = 0.03;
  f.terms({{"beta", "0.03"}}).at("l2_sp_head").backward();
  const auto expected = beta * f.head[0].detach().to(torch::kFloat64);
  EXPECT_TRUE(torch::allclose(f.head[0].grad().to(torch::kFloat64), expected, kGradRtol, 0));
  EXPECT_FALSE(f.head[1].grad().defined()) << "the head's bias is not penalized";
  for (const auto& p : f.backbone) EXPECT_FALSE(p.grad().defined());
}

TEST(L2Sp, ZeroStrengthsGiveZeroTerms) {
  Fixture f;
  const auto terms = f.terms({{"alpha", "0"}, {"beta", "0"}});
  EXPECT_EQ(terms.at("l2_sp_backbone").item<double>(), 0.0);
  EXPECT_EQ(terms.at("l2_sp_head").item<double>(), 0.0);
  // At the pretrained point the backbone term vanishes whatever alpha.
  f.backbone = {f.pretrained[0].clone().requires_grad_(true), f.pretrained[1].clone().requires_grad_(true)};
  EXPECT_EQ(f.terms({{"alpha", "0.1"}}).at("l2_sp_backbone").item<double>(), 0.0);
}

TEST(L2Sp, DefaultsAreTheNamedStrengths) {
  Fixture f;
  const auto terms = f.terms({});
  const double backbone = 0.005 * squared_distance(f.backbone, f.pretrained);
  EXPECT_NEAR(terms.at("l2_sp_backbone").item<double>(), backbone, kSumRtol * backbone);
}

TEST(L2Sp, MismatchedPretrainedValuesAreRefused) {
  Fixture f;
  f.pretrained.pop_back();
  EXPECT_THROW(f.terms({}), std::invalid_argument);
}

TEST(L2Sp, PlanTurnsWeightDecayOffOnTheBackboneOnly) {
  const sdk::Strategy& s = builtins().get("l2_sp").strategy();
  const sdk::StepPlan plan = s.plan(at_step(1), resolve_params(s, {}));
  ASSERT_EQ(plan.groups.size(), 4u);
  for (std::size_t g = 0; g < 3; ++g) {
    EXPECT_EQ(plan.groups[g].weight_decay_scale, 0.0) << g;
    EXPECT_TRUE(plan.groups[g].trains);
    EXPECT_EQ(plan.groups[g].lr_scale, 1.0);
  }
  EXPECT_EQ(plan.groups[3].weight_decay_scale, 1.0);
}

TEST(L2Sp, ShowPrintsTheParameters) {
  std::ostringstream out;
  print_strategy_show(builtins().get("l2_sp"), out);
  EXPECT_THAT(out.str(), ::testing::HasSubstr("alpha (real)  default: 0.01  range: [0, inf]"));
  EXPECT_THAT(out.str(), ::testing::HasSubstr("beta (real)  default: 0.01"));
}

}  // namespace
}  // namespace harness::testing

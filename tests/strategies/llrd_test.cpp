// llrd: block l of L (numbered from the input) trains at lr * decay^(L + 1 - l), the head at lr (BEiT's rule).
#include "builtin_strategies.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

namespace harness::testing {
namespace {

sdk::StepPlan llrd_plan(const std::map<std::string, std::string>& given, const sdk::StepContext& context = at_step(1)) {
  const sdk::Strategy& s = builtins().get("llrd").strategy();
  return s.plan(context, resolve_params(s, given));
}

std::vector<double> lr_scales(const sdk::StepPlan& plan) {
  std::vector<double> out;
  for (const auto& g : plan.groups) out.push_back(g.lr_scale);
  return out;
}

TEST(Llrd, DefaultDecayOnTheConvnetGivesPowersOfThreeQuarters) {
  // L = 3: block1 0.75^3, block2 0.75^2, block3 0.75, head 1; the same at every step.
  for (int64_t step : {1, 50, 100}) {
    const sdk::StepPlan plan = llrd_plan({}, at_step(step));
    ASSERT_EQ(plan.groups.size(), 4u);
    EXPECT_THAT(lr_scales(plan), ::testing::Pointwise(::testing::DoubleEq(), {0.421875, 0.5625, 0.75, 1.0}));
    EXPECT_TRUE(plan.train_backbone);
    EXPECT_EQ(plan.lr_scale, 1.0);
    for (const auto& g : plan.groups) {
      EXPECT_TRUE(g.trains);
      EXPECT_EQ(g.weight_decay_scale, 1.0);
    }
  }
}

TEST(Llrd, DecayOneGivesEveryGroupTheExperimentsLr) {
  EXPECT_EQ(lr_scales(llrd_plan({{"decay", "1"}})), (std::vector<double>{1, 1, 1, 1}));
}

TEST(Llrd, FollowsTheModelsDepth) {
  // Five blocks and the head with decay 1/2: 2^-5 ... 2^-1, 1 (powers of two are exact).
  const sdk::ModelInfo model{{{"stem", 1, false}, {"s1", 1, false}, {"s2", 1, false}, {"s3", 1, false},
                              {"s4", 1, false}, {"head", 1, true}}};
  const sdk::StepContext context{1, 10, &model};
  EXPECT_EQ(lr_scales(llrd_plan({{"decay", "0.5"}}, context)),
            (std::vector<double>{1.0 / 32, 1.0 / 16, 1.0 / 8, 1.0 / 4, 1.0 / 2, 1.0}));
}

TEST(Llrd, RefusesADecayOutsideZeroToOne) {
  EXPECT_THROW(llrd_plan({{"decay", "0"}}), std::invalid_argument);  // bounds are inclusive: plan() refuses 0
  EXPECT_THROW(llrd_plan({{"decay", "1.5"}}), ConfigError);
  EXPECT_THROW(llrd_plan({{"decay", "-0.1"}}), ConfigError);
}

TEST(Llrd, HeadIsHeBase) {
  auto head = make_head("llrd", head_spec(256, 400));
  const auto w = param(*head, "weight");
  EXPECT_NEAR(sample_variance(w) / (2.0 / 400), 1.0, variance_tolerance(w.numel()));
  EXPECT_EQ(param(*head, "bias").abs().max().item<double>(), 0.0);
}

TEST(Llrd, ShowPrintsTheParameters) {
  std::ostringstream out;
  print_strategy_show(builtins().get("llrd"), out);
  EXPECT_THAT(out.str(), ::testing::HasSubstr("decay (real)  default: 0.75  range: [0, 1]"));
  EXPECT_THAT(out.str(), ::testing::HasSubstr("decay^(L + 1 - l)"));
  EXPECT_THAT(out.str(), ::testing::HasSubstr("mode (string)  default: fan_out"));
}

}  // namespace
}  // namespace harness::testing

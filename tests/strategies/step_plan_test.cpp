// warmup, linear_probe, lp_ft: which parameter groups train at each step.
#include "builtin_strategies.h"

#include <gtest/gtest.h>

namespace harness::testing {
namespace {

// train_backbone for steps 1..n.
std::vector<bool> backbone_schedule(const std::string& name, const std::map<std::string, std::string>& given, int n) {
  const sdk::Strategy& s = builtins().get(name).strategy();
  const sdk::Params params = resolve_params(s, given);
  std::vector<bool> out;
  for (int step = 1; step <= n; ++step) {
    const sdk::StepPlan plan = s.plan(at_step(step), params);
    EXPECT_TRUE(plan.train_head) << name << " step " << step;
    EXPECT_EQ(plan.lr_scale, 1.0);
    out.push_back(plan.train_backbone);
  }
  return out;
}

TEST(StepPlan, WarmupFreezesTheBackboneForOneStepByDefault) {
  EXPECT_EQ(backbone_schedule("warmup", {}, 4), (std::vector<bool>{false, true, true, true}));
}

TEST(StepPlan, WarmupStepsParameter) {
  EXPECT_EQ(backbone_schedule("warmup", {{"warmup_steps", "3"}}, 5), (std::vector<bool>{false, false, false, true, true}));
  EXPECT_EQ(backbone_schedule("warmup", {{"warmup_steps", "0"}}, 2), (std::vector<bool>{true, true}));
}

TEST(StepPlan, LinearProbeNeverTrainsTheBackbone) {
  EXPECT_EQ(backbone_schedule("linear_probe", {}, 3), (std::vector<bool>{false, false, false}));
  EXPECT_FALSE(builtins().get("linear_probe").strategy().plan(at_step(100000), sdk::Params()).train_backbone);
}

TEST(StepPlan, LpFtProbesForTenStepsThenTrainsAll) {
  const auto schedule = backbone_schedule("lp_ft", {}, 12);
  for (int step = 1; step <= 10; ++step) EXPECT_FALSE(schedule[step - 1]) << step;
  EXPECT_TRUE(schedule[10]);
  EXPECT_TRUE(schedule[11]);
  EXPECT_EQ(backbone_schedule("lp_ft", {{"probe_steps", "2"}}, 3), (std::vector<bool>{false, false, true}));
}

TEST(StepPlan, OthersTrainEverythingFromStepOne) {
  for (const char* name : {"he_base", "mei", "mei_fn", "zero_head", "xavier", "fixed_orthonormal", "fixed_hadamard"}) {
    EXPECT_EQ(backbone_schedule(name, {}, 2), (std::vector<bool>{true, true})) << name;
  }
}

}  // namespace
}  // namespace harness::testing

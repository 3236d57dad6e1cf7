// The learning-rate schedules and the ramp, value by value against their formulas.
#include "harness/optimizer.h"

#include "harness/errors.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

namespace harness {
namespace {

TEST(Schedule, ConstantIsOneAndTheRampIsLinear) {
  OptimizerSettings s;
  EXPECT_EQ(schedule_factor(s, 1, 100), 1.0);
  EXPECT_EQ(schedule_factor(s, 100, 100), 1.0);
  s.lr_warmup_steps = 4;
  EXPECT_DOUBLE_EQ(schedule_factor(s, 1, 100), 0.25);
  EXPECT_DOUBLE_EQ(schedule_factor(s, 3, 100), 0.75);
  EXPECT_DOUBLE_EQ(schedule_factor(s, 4, 100), 1.0);
  EXPECT_DOUBLE_EQ(schedule_factor(s, 5, 100), 1.0);
}

TEST(Schedule, CosineAndLinearFallFromOneAfterTheRamp) {
  OptimizerSettings s;
  s.lr_warmup_steps = 10;
  s.schedule = ScheduleKind::Cosine;
  EXPECT_DOUBLE_EQ(schedule_factor(s, 11, 110), 1.0);  // the first step after the ramp: p = 0
  EXPECT_NEAR(schedule_factor(s, 61, 110), 0.5, 1e-15);  // p = 50/100: cos(pi/2) = 0
  EXPECT_NEAR(schedule_factor(s, 110, 110), 0.5 * (1 + std::cos(M_PI * 0.99)), 1e-15);
  s.schedule = ScheduleKind::Linear;
  EXPECT_DOUBLE_EQ(schedule_factor(s, 11, 110), 1.0);
  EXPECT_NEAR(schedule_factor(s, 36, 110), 0.75, 1e-15);
  EXPECT_NEAR(schedule_factor(s, 110, 110), 0.01, 1e-15);
}

TEST(Schedule, StepMultipliesByGammaEveryStepSize) {
  OptimizerSettings s;
  s.schedule = ScheduleKind::Step;
  s.lr_step_size = 30;
  s.lr_gamma = 0.1;
  EXPECT_EQ(schedule_factor(s, 1, 100), 1.0);
  EXPECT_EQ(schedule_factor(s, 30, 100), 1.0);
  EXPECT_NEAR(schedule_factor(s, 31, 100), 0.1, 1e-15);
  EXPECT_NEAR(schedule_factor(s, 91, 100), 1e-3, 1e-17);
}

TEST(Schedule, NamesParseAndUnknownOnesAreRefusedWithTheChoices) {
  EXPECT_EQ(parse_optimizer("adamw", "k"), OptimizerKind::AdamW);
  EXPECT_EQ(parse_schedule("cosine", "k"), ScheduleKind::Cosine);
  try {
    parse_optimizer("lion", "file.ini:3: key 'train.optimizer'");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("'lion' is not an optimizer; expected adam, adamw or sgd"), std::string::npos);
  }
  EXPECT_THROW(parse_schedule("exp", "k"), ConfigError);
}

// Plain SGD moves a parameter by lr * grad in the group's own learning rate.
TEST(GroupOptimizer, EachGroupTakesItsOwnLearningRateAndDecay) {
  auto a = torch::ones({3}, torch::requires_grad());
  auto b = torch::ones({3}, torch::requires_grad());
  OptimizerSettings s;
  s.kind = OptimizerKind::Sgd;
  GroupOptimizer opt(s, {{a}, {b}}, 0.1, 0.0);
  opt.set(0, 0.1, 0.0);
  opt.set(1, 0.2, 0.5);  // L2 decay adds 0.5 * w to the gradient
  (a.sum() + b.sum()).backward();
  opt.step();
  EXPECT_TRUE(torch::allclose(a, torch::full({3}, 0.9)));
  EXPECT_TRUE(torch::allclose(b, torch::full({3}, 1.0 - 0.2 * 1.5)));
}

}  // namespace
}  // namespace harness

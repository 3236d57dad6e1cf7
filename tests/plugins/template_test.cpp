// Builds plugins/template as a separate CMake project against this build tree
// (-DHarness_DIR=<build dir>), then loads it and trains its head for one step.
#include "harness/loader/strategy_registry.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <string>

namespace harness {
namespace {

int run(const std::string& command) {
  std::cerr << "+ " << command << "\n";
  return std::system((command + " > " HARNESS_TEMPLATE_BUILD_DIR ".log 2>&1 || (cat " HARNESS_TEMPLATE_BUILD_DIR
                      ".log; exit 1)").c_str());
}

TEST(Template, BuildsOutOfTreeLoadsAndTrains) {
  const std::string build = HARNESS_TEMPLATE_BUILD_DIR;
  ASSERT_EQ(run("rm -rf '" + build + "'"), 0);
  ASSERT_EQ(run(std::string("'" HARNESS_CMAKE_COMMAND "' -S '" HARNESS_SOURCE_DIR "/plugins/template' -B '") + build +
                "' -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER='" HARNESS_CXX_COMPILER
                "' -DHarness_DIR='" HARNESS_BUILD_DIR "'"),
            0);
  ASSERT_EQ(run(std::string("'" HARNESS_CMAKE_COMMAND "' --build '") + build + "'"), 0);

  // As `harness strategies list --plugin-path build` would.
  const auto registry = StrategyRegistry::discover({build});
  ASSERT_TRUE(registry.problems().empty()) << registry.problems().front();
  const LoadedStrategy& strategy = registry.get("my_strategy");
  EXPECT_EQ(strategy.file(), build + "/my_strategy.so");

  const sdk::Params params =
      resolve_params(strategy.strategy(), {{"scale", "2"}, {"freeze_steps", "1"}, {"backbone_lr_scale", "0.1"}});
  const sdk::ModelInfo model{{{"block1", 10, false}, {"block2", 10, false}, {"head", 5, true}}};
  EXPECT_FALSE(strategy.strategy().plan({1, 10, &model}, params).train_backbone);
  const sdk::StepPlan later = strategy.strategy().plan({2, 10, &model}, params);
  EXPECT_TRUE(later.train_backbone);
  ASSERT_EQ(later.groups.size(), 3u);
  EXPECT_EQ(later.groups[0].lr_scale, 0.1);
  EXPECT_EQ(later.groups[1].lr_scale, 0.1);
  EXPECT_EQ(later.groups[2].lr_scale, 1.0);

  torch::manual_seed(0);
  sdk::HeadSpec spec;
  spec.features = 64;
  spec.classes = 10;
  auto head = strategy.make_head(spec, params);
  const auto weight = head->named_parameters()["weight"];
  // scale 2 -> std 2 / sqrt(64) = 0.25.
  EXPECT_NEAR(weight.std().item<double>(), 0.25, 0.02);

  auto features = torch::randn({8, 64}, torch::requires_grad());
  const auto logits = head->forward(features);
  ASSERT_EQ(logits.sizes(), (std::vector<int64_t>{8, 10}));
  torch::nn::functional::cross_entropy(logits, torch::randint(10, {8})).backward();
  ASSERT_TRUE(features.grad().defined());
  EXPECT_GT(features.grad().norm().item<double>(), 0.0);
  EXPECT_GT(weight.grad().norm().item<double>(), 0.0);
}

}  // namespace
}  // namespace harness

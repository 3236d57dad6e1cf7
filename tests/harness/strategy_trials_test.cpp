// The SDK v3 recipes in the real step loop: with their effect switched off, llrd (decay 1),
// surgical (every block listed) and l2_sp (alpha = beta = 0) must reproduce he_base bit for bit,
// and with it on they must not. Built plugins, a convnet, learnable synthetic digits.
#include "harness/loader/loaded_strategy.h"
#include "harness/loader/strategy_params.h"
#include "harness/models/builtin_backbone.h"
#include "harness/trial.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <map>

namespace harness {
namespace {

const LoadedStrategy& plugin(const std::string& name) {
  static std::map<std::string, std::unique_ptr<LoadedStrategy>> loaded;
  auto& slot = loaded[name];
  if (!slot) slot = LoadedStrategy::load(std::string(HARNESS_STRATEGY_DIR) + "/" + name + ".so");
  return *slot;
}

const Split& task() {
  static const Split split = [] {
    torch::manual_seed(17);
    const auto templates = torch::randn({10, 1, 28, 28});
    auto make = [&](int64_t n) {
      Dataset d;
      d.labels = torch::randint(0, 10, {n}, torch::kLong);
      d.images = templates.index_select(0, d.labels) + 0.8 * torch::randn({n, 1, 28, 28});
      d.num_classes = 10;
      return d;
    };
    return Split{make(512), make(128)};
  }();
  return split;
}

std::vector<db::StepRow> run(const std::string& name, const std::map<std::string, std::string>& given) {
  const LoadedStrategy& strategy = plugin(name);
  TrainConfig train;
  train.steps = 6;
  train.batch_size = 64;
  train.dense_eval_steps = 6;
  TrialInput input;
  input.train = &train;
  input.data = &task();
  input.strategy = &strategy;
  input.params = resolve_params(strategy.strategy(), given);
  input.seed = 2;
  input.make_backbone = [] {
    torch::manual_seed(5);
    return make_backbone({"convnet", 1, 28});
  };
  std::vector<db::StepRow> rows;
  run_trial(input, [&](const db::StepRow& row, const std::vector<db::MetricRow>&) { rows.push_back(row); });
  return rows;
}

bool identical(const std::vector<db::StepRow>& a, const std::vector<db::StepRow>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto &x = a[i], &y = b[i];
    if (x.train_loss != y.train_loss || x.test_acc != y.test_acc || x.test_loss != y.test_loss ||
        x.feature_grad_energy != y.feature_grad_energy || x.backbone_drift != y.backbone_drift || x.zeta != y.zeta ||
        x.feature_variance != y.feature_variance || x.lr != y.lr || x.phase != y.phase) {
      return false;
    }
  }
  return true;
}

TEST(StrategyTrials, RecipesSwitchedOffReproduceHeBaseBitForBit) {
  const auto base = run("he_base", {});
  EXPECT_TRUE(identical(base, run("llrd", {{"decay", "1"}})));
  EXPECT_TRUE(identical(base, run("surgical", {{"blocks", "block1, block2, block3"}})));
  EXPECT_TRUE(identical(base, run("l2_sp", {{"alpha", "0"}, {"beta", "0"}})));
}

TEST(StrategyTrials, RecipesSwitchedOnChangeTheRun) {
  const auto base = run("he_base", {});
  EXPECT_FALSE(identical(base, run("llrd", {{"decay", "0.5"}})));
  const auto surgical = run("surgical", {{"blocks", "block1"}});
  EXPECT_FALSE(identical(base, surgical));
  // Its frozen blocks run in eval mode (BatchNorm on running statistics), so even the forward of
  // step 1 differs from he_base's, whose blocks all normalize with the batch's statistics.
  EXPECT_NE(surgical[0].train_loss, base[0].train_loss);
  EXPECT_FALSE(identical(base, run("l2_sp", {{"alpha", "10"}, {"beta", "10"}})));
}

}  // namespace
}  // namespace harness

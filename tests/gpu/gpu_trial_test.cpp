// GPU checks (label `gpu`, never in the default suite; skipped without a usable GPU): a trial on
// the GPU is bit-identical when run twice with deterministic algorithms, the same trial on CPU
// and GPU agrees within stated tolerances, and the median step time of both is printed.
#include "harness/device.h"
#include "harness/loader/loaded_strategy.h"
#include "harness/models/builtin_backbone.h"
#include "harness/trial.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <iostream>

namespace harness {
namespace {

// Learnable synthetic digits: a fixed random template per class plus noise, 28x28, 10 classes.
Split synthetic_task(const torch::Device& device) {
  torch::manual_seed(11);
  const auto templates = torch::randn({10, 1, 28, 28});
  auto make = [&](int64_t n) {
    Dataset d;
    d.labels = torch::randint(0, 10, {n}, torch::kLong);
    d.images = (templates.index_select(0, d.labels) + 0.8 * torch::randn({n, 1, 28, 28})).to(device);
    d.labels = d.labels.to(device);
    d.num_classes = 10;
    return d;
  };
  Split s;
  s.train = make(4096);
  s.test = make(1024);
  return s;
}

struct TrialRows {
  std::vector<db::StepRow> rows;
};

TrialRows run_on(const torch::Device& device, const std::string& strategy_name, int64_t steps) {
  set_deterministic(true);
  set_precision(Precision::Fp32);
  static const auto loaded = [] {
    std::map<std::string, std::unique_ptr<LoadedStrategy>> m;
    for (const char* name : {"he_base", "mei_fn"}) {
      m[name] = LoadedStrategy::load(std::string(HARNESS_STRATEGY_DIR) + "/" + name + ".so");
    }
    return m;
  }();
  const Split data = synthetic_task(device);
  TrainConfig train;
  train.steps = steps;
  train.batch_size = 256;
  train.dense_eval_steps = 10;
  train.eval_every = 10;
  TrialInput input;
  input.train = &train;
  input.data = &data;
  input.strategy = loaded.at(strategy_name).get();
  input.seed = 3;
  input.device = device;
  input.make_backbone = [] {
    torch::manual_seed(5);  // the same "pretrained" weights for every run
    return make_backbone({"convnet", 1, 28});
  };
  TrialRows run;
  run_trial(input, [&](const db::StepRow& row, const std::vector<db::MetricRow>&) { run.rows.push_back(row); });
  return run;
}

double median_step_seconds(const TrialRows& run) {
  std::vector<double> t;
  for (std::size_t i = 1; i < run.rows.size(); ++i) t.push_back(run.rows[i].step_seconds);  // step 1 warms up
  std::sort(t.begin(), t.end());
  return t.empty() ? 0 : t[t.size() / 2];
}

class Gpu : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!torch::cuda::is_available()) GTEST_SKIP() << "no usable GPU";
  }
};

TEST_F(Gpu, ADeterministicTrialIsBitIdenticalWhenRunTwice) {
  for (const char* strategy : {"he_base", "mei_fn"}) {
    const TrialRows a = run_on(torch::Device(torch::kCUDA, 0), strategy, 40);
    const TrialRows b = run_on(torch::Device(torch::kCUDA, 0), strategy, 40);
    ASSERT_EQ(a.rows.size(), b.rows.size());
    for (std::size_t i = 0; i < a.rows.size(); ++i) {
      const auto &x = a.rows[i], &y = b.rows[i];
      EXPECT_EQ(x.train_loss, y.train_loss) << strategy << " step " << x.step;
      EXPECT_EQ(x.test_acc, y.test_acc) << strategy << " step " << x.step;
      EXPECT_EQ(x.test_loss, y.test_loss) << strategy << " step " << x.step;
      EXPECT_EQ(x.feature_grad_energy, y.feature_grad_energy) << strategy << " step " << x.step;
      EXPECT_EQ(x.backbone_drift, y.backbone_drift) << strategy << " step " << x.step;
    }
  }
}

// Tolerances: at step 1 only the reduction order differs (fp32, TF32 off), so 1e-5 relative;
// over 40 Adam steps differences grow, so the last test accuracy within 1.5 points (15 of the
// 1,024 images) and the last training loss within 5% relative.
TEST_F(Gpu, TheSameTrialOnCpuAndGpuAgreesWithinTolerance) {
  for (const char* strategy : {"he_base", "mei_fn"}) {
    const TrialRows gpu = run_on(torch::Device(torch::kCUDA, 0), strategy, 40);
    const TrialRows cpu = run_on(torch::Device(torch::kCPU), strategy, 40);
    ASSERT_EQ(gpu.rows.size(), cpu.rows.size());
    const auto &g1 = gpu.rows.front(), &c1 = cpu.rows.front();
    EXPECT_NEAR(g1.train_loss, c1.train_loss, 1e-5 * std::abs(c1.train_loss)) << strategy;
    EXPECT_NEAR(g1.zeta, c1.zeta, 1e-5 * c1.zeta) << strategy;
    EXPECT_NEAR(g1.feature_variance, c1.feature_variance, 1e-5 * c1.feature_variance) << strategy;
    const auto &gn = gpu.rows.back(), &cn = cpu.rows.back();
    ASSERT_TRUE(gn.test_acc && cn.test_acc);
    EXPECT_NEAR(*gn.test_acc, *cn.test_acc, 0.015) << strategy;
    EXPECT_NEAR(gn.train_loss, cn.train_loss, 0.05 * cn.train_loss) << strategy;
    std::cout << "[gpu] " << strategy << ": step 1 loss cpu " << c1.train_loss << " gpu " << g1.train_loss
              << "; step 40 test acc cpu " << *cn.test_acc << " gpu " << *gn.test_acc << "\n"
              << "[gpu] " << strategy << ": median step time cpu " << median_step_seconds(cpu) * 1e3 << " ms, gpu "
              << median_step_seconds(gpu) * 1e3 << " ms, ratio " << median_step_seconds(cpu) / median_step_seconds(gpu)
              << "x (convnet, batch 256, " << at::get_num_threads() << " CPU threads)\n";
  }
}

}  // namespace
}  // namespace harness

// Tests the step loop: reproducibility, pairing, freezing, measurements, failures.
#include "harness/trial.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

namespace harness {
namespace {

// A small backbone: flatten + Linear + ReLU, K = 8. Records a checksum of every
// batch it sees (training, frozen or evaluation: a frozen backbone runs in eval
// mode), to check the pairing of strategies.
class TinyBackbone : public Backbone {
 public:
  explicit TinyBackbone(std::vector<double>* seen) : seen_(seen) {
    torch::manual_seed(123);  // the same "pretrained" weights every time
    linear_ = torch::nn::Linear(16, 8);
  }
  torch::Tensor forward(const torch::Tensor& images) override {
    if (seen_) seen_->push_back(images.sum().item<double>());
    return torch::relu(linear_->forward(images.flatten(1)));
  }
  std::vector<torch::Tensor> parameters() override { return linear_->parameters(); }
  void train(bool on) override { linear_->train(on); }
  void to(const torch::Device& device) override { linear_->to(device); }
  int64_t features() const override { return 8; }
  std::string describe() const override { return "tiny"; }

 private:
  torch::nn::Linear linear_{nullptr};
  std::vector<double>* seen_;
};

class LinearHead : public sdk::Head {
 public:
  LinearHead(int64_t k, int64_t c, double scale, int64_t nan_at) : nan_at_(nan_at) {
    linear_ = register_module("linear", torch::nn::Linear(k, c));
    torch::NoGradGuard no_grad;
    linear_->weight.mul_(scale);
    linear_->bias.zero_();
  }
  torch::Tensor forward(const torch::Tensor& features) override {
    if (is_training() && ++calls_ == nan_at_) return linear_->forward(features) * NAN;
    return linear_->forward(features);
  }
  std::map<std::string, double> metrics() override { return {{"weight_norm", linear_->weight.norm().item<double>()}}; }

 private:
  torch::nn::Linear linear_{nullptr};
  int64_t nan_at_;
  int64_t calls_ = 0;
};

// A strategy whose behaviour the tests choose.
class TestStrategy : public sdk::Strategy {
 public:
  TestStrategy(double scale, int64_t frozen_steps, int64_t nan_at = -1)
      : scale_(scale), frozen_steps_(frozen_steps), nan_at_(nan_at) {}
  std::string name() const override { return "test"; }
  std::string version() const override { return "1"; }
  std::string description() const override { return "test strategy"; }
  std::shared_ptr<sdk::Head> make_head(const sdk::HeadSpec& spec, const sdk::Params&) const override {
    return std::make_shared<LinearHead>(spec.features, spec.classes, scale_, nan_at_);
  }
  sdk::StepPlan plan(int64_t step, const sdk::Params&) const override {
    sdk::StepPlan p;
    p.train_backbone = step > frozen_steps_;
    return p;
  }

 private:
  double scale_;
  int64_t frozen_steps_;
  int64_t nan_at_;
};

Split make_data() {
  torch::manual_seed(7);
  Split s;
  s.train.images = torch::randn({96, 1, 4, 4});
  s.train.labels = torch::randint(0, 3, {96}, torch::kLong);
  s.train.num_classes = 3;
  s.test.images = torch::randn({40, 1, 4, 4});
  s.test.labels = torch::randint(0, 3, {40}, torch::kLong);
  s.test.num_classes = 3;
  return s;
}

struct Recorded {
  std::vector<db::StepRow> rows;
  std::vector<db::MetricRow> metrics;
  std::vector<double> batches;
};

Recorded run(const sdk::Strategy& strategy, int64_t seed, TrainConfig train = {}) {
  static const Split data = make_data();
  train.steps = 12;
  train.batch_size = 32;
  train.lr = 1e-2;
  train.dense_eval_steps = 3;
  train.eval_every = 5;
  Recorded out;
  TrialInput input;
  input.train = &train;
  input.data = &data;
  input.strategy = &strategy;
  input.seed = seed;
  input.make_backbone = [&out] { return std::make_unique<TinyBackbone>(&out.batches); };
  run_trial(input, [&](const db::StepRow& row, const std::vector<db::MetricRow>& metrics) {
    out.rows.push_back(row);
    out.metrics.insert(out.metrics.end(), metrics.begin(), metrics.end());
  });
  return out;
}

void expect_identical(const db::StepRow& a, const db::StepRow& b) {
  EXPECT_EQ(a.train_loss, b.train_loss);
  EXPECT_EQ(a.train_acc, b.train_acc);
  EXPECT_EQ(a.test_acc, b.test_acc);
  EXPECT_EQ(a.test_loss, b.test_loss);
  EXPECT_EQ(a.zeta, b.zeta);
  EXPECT_EQ(a.noise_fraction, b.noise_fraction);
  EXPECT_EQ(a.feature_grad_energy, b.feature_grad_energy);
  EXPECT_EQ(a.feature_variance, b.feature_variance);
  EXPECT_EQ(a.backbone_drift, b.backbone_drift);
}

TEST(Trial, IsBitForBitReproducibleFromItsSeed) {
  const TestStrategy strategy(1.0, 0);
  const Recorded a = run(strategy, 5), b = run(strategy, 5);
  ASSERT_EQ(a.rows.size(), 12u);
  ASSERT_EQ(a.rows.size(), b.rows.size());
  for (std::size_t i = 0; i < a.rows.size(); ++i) expect_identical(a.rows[i], b.rows[i]);
  const Recorded c = run(strategy, 6);
  EXPECT_NE(a.rows.back().train_loss, c.rows.back().train_loss);  // the seed matters
}

TEST(Trial, StrategiesWithTheSameSeedSeeTheSameBatches) {
  const Recorded a = run(TestStrategy(1.0, 0), 3), b = run(TestStrategy(1e-6, 4), 3);
  EXPECT_EQ(a.batches, b.batches);
  EXPECT_NE(a.batches, run(TestStrategy(1.0, 0), 4).batches);
}

TEST(Trial, AFrozenBackboneIsUnchangedBitForBitAndMovesAfter) {
  const Recorded r = run(TestStrategy(1.0, 4), 1);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(r.rows[i].backbone_drift, 0.0) << "step " << i + 1;
    EXPECT_EQ(r.rows[i].phase, "head");
  }
  EXPECT_GT(r.rows[4].backbone_drift, 0.0);
  EXPECT_EQ(r.rows[4].phase, "full");
  // The error reaching the features is measured while frozen, too.
  EXPECT_GT(r.rows[0].feature_grad_energy, 0.0);
}

TEST(Trial, AZeroHeadSendsNoErrorToTheFeaturesAndSitsAtMaximumEntropy) {
  const Recorded r = run(TestStrategy(0.0, 0), 2);
  EXPECT_EQ(r.rows[0].feature_grad_energy, 0.0);  // Eq. 8 with W = 0
  EXPECT_NEAR(r.rows[0].zeta, 1.0 / 3, 1e-12);
  EXPECT_NEAR(r.rows[0].noise_fraction, 0.0, 1e-12);
  const Recorded he = run(TestStrategy(1.0, 0), 2);
  EXPECT_GT(he.rows[0].feature_grad_energy, 1e-3);
}

TEST(Trial, EvaluatesOnTheScheduleAndRecordsPluginMetrics) {
  const Recorded r = run(TestStrategy(1.0, 0), 0);
  std::vector<int64_t> evaluated;
  for (const auto& row : r.rows) {
    if (row.test_acc) {
      evaluated.push_back(row.step);
      EXPECT_GE(*row.test_acc, 0.0);
      EXPECT_LE(*row.test_acc, 1.0);
      EXPECT_TRUE(row.test_loss.has_value());
    }
  }
  EXPECT_EQ(evaluated, (std::vector<int64_t>{1, 2, 3, 5, 10, 12}));
  ASSERT_EQ(r.metrics.size(), 12u);
  EXPECT_EQ(r.metrics[0].name, "weight_norm");
}

TEST(Trial, ANonFiniteLossFailsWithTheStepNamed) {
  try {
    run(TestStrategy(1.0, 0, /*nan_at=*/3), 0);
    FAIL() << "expected TrialFailure";
  } catch (const TrialFailure& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("NaN at step 3"));
  }
}

}  // namespace
}  // namespace harness

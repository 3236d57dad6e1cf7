// Tests the step loop: reproducibility, pairing, freezing, measurements, failures.
#include "harness/trial.h"

#include "harness/device.h"
#include "harness/loader/loaded_strategy.h"
#include "harness/measurements.h"
#include "harness/models/builtin_backbone.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdio>

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
  sdk::StepPlan plan(const sdk::StepContext& context, const sdk::Params&) const override {
    sdk::StepPlan p;
    p.train_backbone = context.step > frozen_steps_;
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

// Runs one trial of `strategy` (wrapped as the runner wraps a plugin) and keeps its records.
void record_trial(const sdk::Strategy& strategy, const TrainConfig& train, const Split& data, int64_t seed,
                  std::function<std::unique_ptr<Backbone>()> make_backbone, Recorded& out) {
  TrialInput input;
  input.train = &train;
  input.data = &data;
  const auto loaded = LoadedStrategy::borrow(strategy);
  input.strategy = loaded.get();
  input.seed = seed;
  input.make_backbone = std::move(make_backbone);
  run_trial(input, [&](const db::StepRow& row, const std::vector<db::MetricRow>& metrics) {
    out.rows.push_back(row);
    out.metrics.insert(out.metrics.end(), metrics.begin(), metrics.end());
  });
}

Recorded run(const sdk::Strategy& strategy, int64_t seed, TrainConfig train = {}, const Split* split = nullptr) {
  static const Split default_data = make_data();
  train.steps = 12;
  train.batch_size = 32;
  train.lr = 1e-2;
  train.dense_eval_steps = 3;
  train.eval_every = 5;
  Recorded out;
  record_trial(strategy, train, split ? *split : default_data, seed,
               [&out] { return std::make_unique<TinyBackbone>(&out.batches); }, out);
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

// Every value of a step row but its timings, as exact hex floats, one row per line.
std::string row_text(const db::StepRow& r) {
  char buf[64];
  std::string out = std::to_string(r.step) + " " + r.phase;
  const auto put = [&](const std::optional<double>& v) {
    if (!v) {
      out += " NULL";
      return;
    }
    std::snprintf(buf, sizeof buf, " %a", *v);
    out += buf;
  };
  for (const std::optional<double>& v :
       {std::optional<double>(r.lr), std::optional<double>(r.train_loss), std::optional<double>(r.train_acc),
        r.test_acc, r.test_loss, std::optional<double>(r.zeta), std::optional<double>(r.label_energy),
        std::optional<double>(r.cross_energy), std::optional<double>(r.phi), std::optional<double>(r.noise_fraction),
        std::optional<double>(r.feature_grad_energy), std::optional<double>(r.feature_variance),
        std::optional<double>(r.backbone_drift), r.val_acc, r.val_loss}) {
    put(v);
  }
  return out + "\n";
}

// The rows of a trial without a validation split, digested as they were recorded before
// validation splits existed (the step loop of commit 5beb42c, Debian's LibTorch 1.13.0 on the CPU):
// the validation code must leave them bit for bit as they were. Other LibTorch builds round
// differently, so there the digest is only printed.
TEST(Trial, WithoutAValidationSplitTheRowsAreThoseRecordedBeforeIt) {
  const Recorded r = run(TestStrategy(1.0, 0), 0);
  std::string text;
  for (const auto& row : r.rows) text += row_text(row);
  const std::string digest = sha1_hex(text);
  if (torch_version() != "1.13.0") GTEST_SKIP() << "digest " << digest << " under LibTorch " << torch_version();
  EXPECT_EQ(digest, "9990a3d710b281aa378c0be9c30706654261cc69") << text;
}

// make_data() with a validation split: 30 more images of the same distribution.
Split with_validation() {
  Split s = make_data();
  torch::manual_seed(8);
  s.validation.images = torch::randn({30, 1, 4, 4});
  s.validation.labels = torch::randint(0, 3, {30}, torch::kLong);
  s.validation.num_classes = 3;
  return s;
}

TEST(Trial, RecordsValidationAtExactlyTheEvaluationStepsBesideTheTest) {
  const Split data = with_validation();
  const Recorded r = run(TestStrategy(1.0, 0), 0, {}, &data);
  std::vector<int64_t> tested, validated;
  for (const auto& row : r.rows) {
    if (row.test_acc) tested.push_back(row.step);
    if (row.val_acc) {
      validated.push_back(row.step);
      EXPECT_TRUE(row.val_loss.has_value());
      EXPECT_GE(*row.val_acc, 0.0);
      EXPECT_LE(*row.val_acc, 1.0);
      // An accuracy over 30 images is a count of them.
      EXPECT_DOUBLE_EQ(*row.val_acc * 30, std::round(*row.val_acc * 30));
    } else {
      EXPECT_FALSE(row.val_loss.has_value());
    }
  }
  EXPECT_EQ(tested, (std::vector<int64_t>{1, 2, 3, 5, 10, 12}));
  EXPECT_EQ(validated, tested);
  // The validation values are those of the validation images: evaluated on them as on the test split.
  Split swapped = data;
  swapped.test = data.validation;
  const Recorded as_test = run(TestStrategy(1.0, 0), 0, {}, &swapped);
  for (std::size_t i = 0; i < r.rows.size(); ++i) {
    EXPECT_EQ(r.rows[i].val_acc, as_test.rows[i].test_acc) << "step " << r.rows[i].step;
    EXPECT_EQ(r.rows[i].val_loss, as_test.rows[i].test_loss) << "step " << r.rows[i].step;
  }
}

TEST(Trial, AValidationSplitChangesNoOtherValueOfAStep) {
  const Split data = with_validation();
  const Recorded plain = run(TestStrategy(1.0, 0), 2);
  const Recorded validated = run(TestStrategy(1.0, 0), 2, {}, &data);
  ASSERT_EQ(plain.rows.size(), validated.rows.size());
  for (std::size_t i = 0; i < plain.rows.size(); ++i) {
    db::StepRow without = validated.rows[i];
    without.val_acc.reset();
    without.val_loss.reset();
    EXPECT_EQ(row_text(without), row_text(plain.rows[i]));
  }
  // The backbone saw the same batches, plus one validation batch at each of the 6 evaluations.
  EXPECT_EQ(validated.batches.size(), plain.batches.size() + 6);
}

TEST(Trial, TheValidationSubsetIsFixedPerSeedLikeTheTestSubset) {
  const Split data = with_validation();
  TrainConfig train;
  train.max_test_examples = 10;
  const Recorded a = run(TestStrategy(1.0, 0), 3, train, &data);
  const Recorded b = run(TestStrategy(1e-3, 2), 3, train, &data);  // another strategy, same seed
  const Recorded c = run(TestStrategy(1.0, 0), 4, train, &data);
  // A 10-image subset: accuracies are tenths.
  for (const auto& row : a.rows) {
    if (row.val_acc) {
      EXPECT_DOUBLE_EQ(*row.val_acc * 10, std::round(*row.val_acc * 10));
    }
  }
  // The backbone records a checksum of every batch it sees: at step 1 the training batch, then
  // the test subset, then the validation subset. They are the same images for every strategy of
  // a seed, and another seed draws another validation subset.
  ASSERT_GE(a.batches.size(), 3u);
  const auto evaluated_inputs = [](const Recorded& r) {
    return std::vector<double>(r.batches.begin() + 1, r.batches.begin() + 3);
  };
  EXPECT_EQ(evaluated_inputs(a), evaluated_inputs(b));
  EXPECT_NE(evaluated_inputs(a)[1], evaluated_inputs(c)[1]);
}

TEST(Trial, ANonFiniteLossFailsWithTheStepNamed) {
  try {
    run(TestStrategy(1.0, 0, /*nan_at=*/3), 0);
    FAIL() << "expected TrialFailure";
  } catch (const TrialFailure& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("NaN at step 3"));
  }
}

TEST(Trial, AnEmptySplitFailsTheTrialWithAReasonInsteadOfDividingByZero) {
  Split empty_train = make_data();
  empty_train.train.images = empty_train.train.images.slice(0, 0, 0);
  empty_train.train.labels = empty_train.train.labels.slice(0, 0, 0);
  EXPECT_THROW(
      {
        try {
          run(TestStrategy(1.0, 0), 0, {}, &empty_train);
        } catch (const TrialFailure& e) {
          EXPECT_THAT(e.what(), ::testing::HasSubstr("training split has no images"));
          throw;
        }
      },
      TrialFailure);
  Split empty_test = make_data();
  empty_test.test.images = empty_test.test.images.slice(0, 0, 0);
  empty_test.test.labels = empty_test.test.labels.slice(0, 0, 0);
  EXPECT_THROW(run(TestStrategy(1.0, 0), 0, {}, &empty_test), TrialFailure);
}

class NullHeadStrategy : public TestStrategy {
 public:
  NullHeadStrategy() : TestStrategy(1.0, 0) {}
  std::shared_ptr<sdk::Head> make_head(const sdk::HeadSpec&, const sdk::Params&) const override { return nullptr; }
};

TEST(Trial, ANullHeadFailsTheTrialInsteadOfCrashing) {
  try {
    run(NullHeadStrategy(), 0);
    FAIL() << "expected TrialFailure";
  } catch (const TrialFailure& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("make_head returned null"));
  }
}

// The step's measurements are computed on the device and copied once; the values must be
// those of the measurement functions applied to the same tensors. Step 1 of a trial whose
// backbone and head are rebuilt here by hand gives the reference.
TEST(Trial, OneCopyPerStepGivesTheValuesOfTheMeasurementFunctions) {
  const TestStrategy strategy(1.0, 0);
  const Recorded r = run(strategy, 4);
  ASSERT_FALSE(r.rows.empty());
  // Rebuild step 1: the same pretrained backbone, the same seeded head, the same first batch.
  const Split data = make_data();
  const TrialSeeds seeds = TrialSeeds::from(4);
  TinyBackbone backbone(nullptr);
  torch::manual_seed(seeds.head);
  sdk::HeadSpec spec;
  spec.features = 8;
  spec.classes = 3;
  auto head = strategy.make_head(spec, {});
  auto gen = at::detail::createCPUGenerator(seeds.batches);
  const auto index = torch::randperm(96, gen, torch::kLong).slice(0, 0, 32);
  const auto x = data.train.images.index_select(0, index);
  const auto y = data.train.labels.index_select(0, index);
  backbone.train(true);
  auto features = backbone.forward(x);
  features.retain_grad();
  const auto logits = head->forward(features);
  const auto loss = torch::nn::functional::cross_entropy(logits, y);
  const ErrorEnergy energy = error_energy(logits, y);
  const double variance = feature_variance(features);
  loss.backward();
  const db::StepRow& row = r.rows[0];
  EXPECT_EQ(row.train_loss, loss.item<double>());
  EXPECT_EQ(row.zeta, energy.zeta);
  EXPECT_EQ(row.cross_energy, energy.cross_energy);
  EXPECT_EQ(row.noise_fraction, energy.noise_fraction);
  EXPECT_EQ(row.feature_variance, variance);
  EXPECT_EQ(row.feature_grad_energy, feature_grad_energy(features.grad()));
  EXPECT_EQ(row.train_acc, logits.argmax(1).eq(y).to(torch::kFloat64).mean().item<double>());
}

TEST(Trial, Bf16RunsUnderAutocastAndStaysCloseToFp32) {
  const TestStrategy strategy(1.0, 0);
  TrainConfig bf16;
  bf16.precision = Precision::Bf16;
  const Recorded a = run(strategy, 2), b = run(strategy, 2, bf16), c = run(strategy, 2, bf16);
  ASSERT_EQ(a.rows.size(), b.rows.size());
  for (std::size_t i = 0; i < b.rows.size(); ++i) expect_identical(b.rows[i], c.rows[i]);  // deterministic
  // bfloat16 keeps 8 bits of mantissa: the first loss moves by ~1e-3 relative, not by nothing.
  EXPECT_NE(a.rows[0].train_loss, b.rows[0].train_loss);
  EXPECT_NEAR(a.rows[0].train_loss, b.rows[0].train_loss, 0.02 * a.rows[0].train_loss);
  for (const auto& row : b.rows) EXPECT_TRUE(std::isfinite(row.train_loss));
}

// Two blocks, so a plan can treat them differently: Linear 16->8 + ReLU, Linear 8->8 + ReLU.
class TwoBlockBackbone : public Backbone {
 public:
  TwoBlockBackbone() {
    torch::manual_seed(321);
    first_ = torch::nn::Linear(16, 8);
    second_ = torch::nn::Linear(8, 8);
  }
  torch::Tensor forward(const torch::Tensor& images) override {
    return torch::relu(second_->forward(torch::relu(first_->forward(images.flatten(1)))));
  }
  std::vector<torch::Tensor> parameters() override {
    auto p = first_->parameters();
    for (const auto& q : second_->parameters()) p.push_back(q);
    return p;
  }
  std::vector<ParameterGroup> parameter_groups() override {
    return {{"block1", first_->parameters(), [this](bool on) { first_->train(on); }},
            {"block2", second_->parameters(), [this](bool on) { second_->train(on); }}};
  }
  void train(bool on) override {
    first_->train(on);
    second_->train(on);
  }
  void to(const torch::Device& device) override {
    first_->to(device);
    second_->to(device);
  }
  int64_t features() const override { return 8; }
  std::string describe() const override { return "two blocks"; }
  torch::nn::Linear first_{nullptr}, second_{nullptr};
};

// A strategy with per-group plans, a loss term and a data-dependent check, as the tests choose.
class GroupStrategy : public TestStrategy {
 public:
  std::vector<sdk::GroupPlan> groups;
  double term_weight = 0;  // loss term: term_weight * ||W_head||^2
  mutable std::vector<std::string> seen_groups;
  mutable sdk::TrainingFeatures features_seen;
  int64_t ask_features = -1;  // -1: do not ask

  GroupStrategy() : TestStrategy(1.0, 0) {}
  std::shared_ptr<sdk::Head> make_head(const sdk::HeadSpec& spec, const sdk::Params& params) const override {
    for (const auto& g : spec.model.groups) seen_groups.push_back(g.name);
    if (ask_features >= 0) features_seen = spec.training_features->get(ask_features);
    return TestStrategy::make_head(spec, params);
  }
  sdk::StepPlan plan(const sdk::StepContext& context, const sdk::Params&) const override {
    sdk::StepPlan p;
    p.groups = groups;
    return p;
  }
  std::map<std::string, torch::Tensor> loss_terms(const sdk::LossInputs& in, const sdk::Params&) const override {
    if (term_weight == 0) return {};
    return {{"head_l2", term_weight * in.head_parameters[0].pow(2).sum()}};
  }
};

struct TwoBlockRun {
  Recorded recorded;
  std::vector<torch::Tensor> before, after;  // block1 weight, block2 weight
};

TwoBlockRun run_two_blocks(const sdk::Strategy& strategy, TrainConfig train = {}, int64_t seed = 1,
                           int64_t steps = 5) {
  static const Split data = make_data();
  train.steps = steps;
  train.batch_size = 32;
  train.lr = 1e-2;
  TwoBlockRun out;
  record_trial(strategy, train, data, seed,
               [&out] {
                 auto b = std::make_unique<TwoBlockBackbone>();
                 out.before = {b->first_->weight.detach().clone(), b->second_->weight.detach().clone()};
                 out.after = {b->first_->weight, b->second_->weight};  // the live tensors, read after the run
                 return b;
               },
               out.recorded);
  return out;
}

TEST(TrialV3, TheStrategySeesTheBackbonesBlocksThenTheHead) {
  GroupStrategy s;
  run_two_blocks(s);
  EXPECT_EQ(s.seen_groups, (std::vector<std::string>{"block1", "block2"}));  // the head is not built yet
}

TEST(TrialV3, AFrozenGroupStaysBitForBitWhileTheOthersMove) {
  GroupStrategy s;
  s.groups = {{false, 1.0, 1.0}, {true, 1.0, 1.0}, {true, 1.0, 1.0}};
  const TwoBlockRun r = run_two_blocks(s);
  EXPECT_TRUE(torch::equal(r.before[0], r.after[0]));
  EXPECT_FALSE(torch::equal(r.before[1], r.after[1]));
  EXPECT_EQ(r.recorded.rows[0].phase, "full");
}

// Step 1 sees the same gradient under both plans, so with plain SGD block1 moves exactly half as
// far under lr_scale 0.5, and block2 not at all under lr_scale 0.
TEST(TrialV3, GroupLearningRateMultipliersScalePlainSgdSteps) {
  TrainConfig one_step;
  one_step.optimizer.kind = OptimizerKind::Sgd;
  GroupStrategy full, scaled;
  full.groups = {{true, 1.0, 1.0}, {true, 1.0, 1.0}, {true, 1.0, 1.0}};
  scaled.groups = {{true, 0.5, 1.0}, {true, 0.0, 1.0}, {true, 1.0, 1.0}};
  auto moved = [&](const GroupStrategy& strategy) {
    TwoBlockRun r = run_two_blocks(strategy, one_step, 1, /*steps=*/1);
    return std::vector<torch::Tensor>{r.after[0].detach() - r.before[0], r.after[1].detach() - r.before[1]};
  };
  const auto a = moved(full), b = moved(scaled);
  EXPECT_GT(a[0].abs().sum().item<double>(), 0.0);
  // Each displacement is a difference of float32 weights near 0.3: exact to ~3e-8 (one ulp), not better.
  EXPECT_TRUE(torch::allclose(b[0], 0.5 * a[0], 1e-3, 1e-7)) << (b[0] - 0.5 * a[0]).abs().max();
  EXPECT_EQ(b[1].abs().sum().item<double>(), 0.0);
}

TEST(TrialV3, ALossTermIsOptimizedAndRecordedWhileTrainLossStaysTheCrossEntropy) {
  GroupStrategy plain, with_term;
  with_term.term_weight = 0.5;
  const TwoBlockRun a = run_two_blocks(plain), b = run_two_blocks(with_term);
  EXPECT_EQ(a.recorded.rows[0].train_loss, b.recorded.rows[0].train_loss);  // same model at step 1
  EXPECT_NE(a.recorded.rows[1].train_loss, b.recorded.rows[1].train_loss);  // the term changed the update
  std::vector<double> term;
  for (const auto& m : b.recorded.metrics) {
    if (m.name == "loss/head_l2") term.push_back(m.value);
  }
  ASSERT_EQ(term.size(), 5u);
  EXPECT_GT(term[0], 0.0);
  EXPECT_LT(term[4], term[0]);  // weight decay by the term: the head's norm falls
}

TEST(TrialV3, LabelSmoothingChangesTheObjectiveNotTheMeasuredLoss) {
  GroupStrategy s;
  TrainConfig smooth;
  smooth.label_smoothing = 0.1;
  const TwoBlockRun a = run_two_blocks(s), b = run_two_blocks(s, smooth);
  EXPECT_EQ(a.recorded.rows[0].train_loss, b.recorded.rows[0].train_loss);
  double objective = -1;
  for (const auto& m : b.recorded.metrics) {
    if (m.name == "loss/objective" && m.step == 1) objective = m.value;
  }
  ASSERT_GE(objective, 0.0);
  EXPECT_NE(objective, b.recorded.rows[0].train_loss);
}

TEST(TrialV3, TrainingFeaturesAreThePretrainedBackbonesInEvalModeAndTheSubsetFollowsTheSeed) {
  GroupStrategy all, some, some_again, other_seed;
  all.ask_features = 0;
  some.ask_features = some_again.ask_features = other_seed.ask_features = 20;
  run_two_blocks(all);
  run_two_blocks(some);
  run_two_blocks(some_again);
  run_two_blocks(other_seed, {}, 2);
  const Split data = make_data();
  TwoBlockBackbone backbone;
  backbone.train(false);
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::allclose(all.features_seen.features, backbone.forward(data.train.images)));
  EXPECT_TRUE(torch::equal(all.features_seen.labels, data.train.labels));
  EXPECT_EQ(some.features_seen.features.size(0), 20);
  EXPECT_TRUE(torch::equal(some.features_seen.labels, some_again.features_seen.labels));
  EXPECT_TRUE(torch::equal(some.features_seen.features, some_again.features_seen.features));
  EXPECT_FALSE(torch::equal(some.features_seen.features, other_seed.features_seen.features));
}

TEST(TrialV3, APlanWithTheWrongNumberOfGroupsFailsTheTrial) {
  GroupStrategy s;
  s.groups = {{true, 1.0, 1.0}};
  EXPECT_THROW(run_two_blocks(s), TrialFailure);
}

}  // namespace
}  // namespace harness

namespace harness {
namespace {

// convnet on 3-channel images (with one channel, NCHW and NHWC are the same bytes), noting at each
// forward whether the batch and the first convolution's weight are laid out channels-last.
class LayoutNotingBackbone : public Backbone {
 public:
  explicit LayoutNotingBackbone(std::vector<std::pair<bool, bool>>* seen) : seen_(seen) {
    torch::manual_seed(123);
    inner_ = make_backbone({"convnet", 3, 8});
  }
  torch::Tensor forward(const torch::Tensor& images) override {
    const torch::Tensor weight = inner_->parameters().front();
    seen_->emplace_back(images.is_contiguous(torch::MemoryFormat::ChannelsLast),
                        weight.is_contiguous(torch::MemoryFormat::ChannelsLast));
    return inner_->forward(images);
  }
  std::vector<torch::Tensor> parameters() override { return inner_->parameters(); }
  std::vector<ParameterGroup> parameter_groups() override { return inner_->parameter_groups(); }
  void train(bool on) override { inner_->train(on); }
  void to(const torch::Device& device) override { inner_->to(device); }
  int64_t features() const override { return inner_->features(); }
  std::string describe() const override { return "convnet (layout noted)"; }

 private:
  std::unique_ptr<BuiltinBackbone> inner_;
  std::vector<std::pair<bool, bool>>* seen_;
};

TEST(Trial, ChannelsLastLaysOutEveryConvolutionAndBatchInNhwcAndStaysCloseToContiguous) {
  torch::manual_seed(7);
  Split data;
  data.train.images = torch::randn({64, 3, 8, 8});
  data.train.labels = torch::randint(0, 3, {64}, torch::kLong);
  data.train.num_classes = 3;
  data.test.images = torch::randn({24, 3, 8, 8});
  data.test.labels = torch::randint(0, 3, {24}, torch::kLong);
  data.test.num_classes = 3;
  const TestStrategy strategy(1.0, 0);
  auto trial = [&](MemoryFormat format, std::vector<std::pair<bool, bool>>& seen) {
    TrainConfig train;
    train.steps = 4;
    train.batch_size = 16;
    train.lr = 1e-3;
    train.dense_eval_steps = 4;
    train.memory_format = format;
    Recorded out;
    record_trial(strategy, train, data, 0, [&seen] { return std::make_unique<LayoutNotingBackbone>(&seen); }, out);
    return out;
  };
  std::vector<std::pair<bool, bool>> nchw_seen, nhwc_seen;
  const Recorded nchw = trial(MemoryFormat::Contiguous, nchw_seen);
  const Recorded nhwc = trial(MemoryFormat::ChannelsLast, nhwc_seen);
  ASSERT_FALSE(nhwc_seen.empty());
  for (const auto& [batch, weight] : nhwc_seen) EXPECT_TRUE(batch && weight);  // training and evaluation
  for (const auto& [batch, weight] : nchw_seen) EXPECT_FALSE(batch || weight);
  ASSERT_EQ(nchw.rows.size(), nhwc.rows.size());
  for (std::size_t i = 0; i < nchw.rows.size(); ++i) {  // other kernels, other rounding, the same maths
    EXPECT_NEAR(nchw.rows[i].train_loss, nhwc.rows[i].train_loss, 1e-4 * nchw.rows[i].train_loss) << i;
    EXPECT_NEAR(*nchw.rows[i].test_loss, *nhwc.rows[i].test_loss, 1e-4 * *nchw.rows[i].test_loss) << i;
    EXPECT_NEAR(nchw.rows[i].backbone_drift, nhwc.rows[i].backbone_drift, 1e-3 * nchw.rows[i].backbone_drift + 1e-12);
  }
}

}  // namespace
}  // namespace harness

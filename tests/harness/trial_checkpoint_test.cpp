// Tests mid-trial checkpoints: a trial resumed from a checkpoint after any step records the
// uninterrupted trial's values bit for bit; a checkpoint of another trial, or a damaged one, is refused.
#include "harness/trial_checkpoint.h"

#include "harness/loader/loaded_strategy.h"
#include "harness/models/builtin_backbone.h"
#include "harness/trial.h"
#include "tests/data/fixtures.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <tuple>

namespace harness {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

// A head with all three kinds of state a head may carry: parameters, a buffer it updates in
// training, and dropout, which draws from torch's default generator.
class StatefulHead : public sdk::Head {
 public:
  StatefulHead(int64_t k, int64_t c) {
    linear_ = register_module("linear", torch::nn::Linear(k, c));
    dropout_ = register_module("dropout", torch::nn::Dropout(0.2));
    seen_ = register_buffer("mean_seen", torch::zeros({k}));
  }
  torch::Tensor forward(const torch::Tensor& features) override {
    if (is_training()) {
      torch::NoGradGuard no_grad;
      seen_.mul_(0.9).add_(features.detach().mean(0), 0.1);
    }
    return linear_->forward(dropout_->forward(features - seen_));
  }
  std::map<std::string, double> metrics() override { return {{"seen_norm", seen_.norm().item<double>()}}; }

 private:
  torch::nn::Linear linear_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
  torch::Tensor seen_;
};

// Frozen backbone for the first steps (the optimizer has no state for it yet), then everything.
class StatefulStrategy : public sdk::Strategy {
 public:
  explicit StatefulStrategy(int64_t head_features = 0) : head_features_(head_features) {}
  std::string name() const override { return "stateful"; }
  std::string version() const override { return "1"; }
  std::string description() const override { return "test strategy with head state"; }
  std::shared_ptr<sdk::Head> make_head(const sdk::HeadSpec& spec, const sdk::Params&) const override {
    return std::make_shared<StatefulHead>(head_features_ > 0 ? head_features_ : spec.features, spec.classes);
  }
  sdk::StepPlan plan(const sdk::StepContext& context, const sdk::Params&) const override {
    sdk::StepPlan p;
    p.train_backbone = context.step > 3;
    return p;
  }

 private:
  int64_t head_features_;
};

Split make_data() {
  torch::manual_seed(7);
  Split s;
  s.train.images = torch::randn({80, 1, 12, 12});  // 32 a batch: 2 batches an epoch, the order spans steps
  s.train.labels = torch::randint(0, 3, {80}, torch::kLong);
  s.train.num_classes = 3;
  s.test.images = torch::randn({30, 1, 12, 12});
  s.test.labels = torch::randint(0, 3, {30}, torch::kLong);
  s.test.num_classes = 3;
  return s;
}

TrainConfig small_train(OptimizerKind optimizer) {
  TrainConfig train;
  train.steps = 9;
  train.batch_size = 32;
  train.lr = 1e-2;
  train.dense_eval_steps = 2;
  train.eval_every = 3;
  train.augment = Augment::CropFlip;
  train.optimizer.kind = optimizer;
  train.optimizer.momentum = optimizer == OptimizerKind::Sgd ? 0.9 : 0.0;
  train.optimizer.schedule = ScheduleKind::Cosine;
  train.weight_decay = 1e-3;
  train.checkpoint_seconds = 0;
  return train;
}

struct Recorded {
  std::vector<db::StepRow> rows;
  std::vector<db::MetricRow> metrics;
};

// Every value of a row but the wall times.
auto values(const db::StepRow& r) {
  return std::make_tuple(r.step, r.phase, r.lr, r.train_loss, r.train_acc, r.test_acc, r.test_loss, r.zeta,
                         r.label_energy, r.cross_energy, r.phi, r.noise_fraction, r.feature_grad_energy,
                         r.feature_variance, r.backbone_drift, r.val_acc, r.val_loss);
}

class TrialCheckpointTest : public ::testing::Test {
 protected:
  // Runs a trial (resumed from `resume` when given), writing a checkpoint after every step
  // listed in `save_at` to "step-K.pt".
  Recorded run(const TrainConfig& train, const TrialCheckpoint* resume = nullptr, std::vector<int64_t> save_at = {},
               const sdk::Strategy* strategy = nullptr) {
    static const Split data = make_data();
    const StatefulStrategy default_strategy;
    const auto loaded = LoadedStrategy::borrow(strategy ? *strategy : default_strategy);
    TrialInput input;
    input.train = &train;
    input.data = &data;
    input.strategy = loaded.get();
    input.seed = 3;
    input.make_backbone = [] {
      torch::manual_seed(11);  // the same "pretrained" weights every time
      return make_backbone(ArchSpec{"convnet", 1, 12});
    };
    input.resume = resume;
    TrainConfig every_step = train;
    every_step.checkpoint_every = 1;
    if (!save_at.empty()) {
      input.train = &every_step;
      input.save_checkpoint = [&](int64_t step, const TrialState& state) {
        if (std::find(save_at.begin(), save_at.end(), step) == save_at.end()) return;
        const auto start = std::chrono::steady_clock::now();
        bytes_ = write_checkpoint(path(step), identity_, step, state);
        write_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        ++writes_;
      };
    }
    Recorded out;
    run_trial(input, [&](const db::StepRow& row, const std::vector<db::MetricRow>& metrics) {
      out.rows.push_back(row);
      out.metrics.insert(out.metrics.end(), metrics.begin(), metrics.end());
    });
    return out;
  }
  std::string path(int64_t step) const { return dir_.file("ckpts/step-" + std::to_string(step) + ".pt"); }
  std::string refusal(const std::string& file, const CheckpointIdentity& identity) const {
    try {
      TrialCheckpoint::read(file, identity, torch::kCPU);
    } catch (const CheckpointRefused& e) {
      return e.what();
    }
    return "";
  }

  testing::TempDir dir_;
  CheckpointIdentity identity_{"abc123", 7, "stateful", 3, "{}", 9, "f00d", "cpu"};
  int64_t bytes_ = 0;
  double write_seconds_ = 0;
  int writes_ = 0;
};

void expect_same_from(const Recorded& reference, const Recorded& resumed, int64_t after) {
  ASSERT_EQ(resumed.rows.size(), reference.rows.size() - static_cast<std::size_t>(after));
  for (std::size_t i = 0; i < resumed.rows.size(); ++i) {
    EXPECT_EQ(values(reference.rows[after + i]), values(resumed.rows[i])) << "step " << after + i + 1;
  }
  std::vector<std::tuple<int64_t, std::string, double>> expected, actual;
  for (const auto& m : reference.metrics) {
    if (m.step > after) expected.emplace_back(m.step, m.name, m.value);
  }
  for (const auto& m : resumed.metrics) actual.emplace_back(m.step, m.name, m.value);
  EXPECT_EQ(expected, actual);
}

TEST_F(TrialCheckpointTest, AResumedTrialRecordsTheUninterruptedValuesBitForBit) {
  for (const OptimizerKind optimizer : {OptimizerKind::Adam, OptimizerKind::AdamW, OptimizerKind::Sgd}) {
    SCOPED_TRACE(optimizer_name(optimizer));
    const TrainConfig train = small_train(optimizer);
    const Recorded reference = run(train);
    ASSERT_EQ(reference.rows.size(), 9u);
    // Writing checkpoints changes nothing of the trial itself.
    const std::vector<int64_t> steps{1, 2, 3, 4, 5, 8};  // 3: the last frozen step; 2, 4: an epoch's end
    const Recorded writing = run(train, nullptr, steps);
    expect_same_from(reference, writing, 0);
    for (const int64_t step : steps) {
      SCOPED_TRACE("resumed after step " + std::to_string(step));
      const TrialCheckpoint checkpoint = TrialCheckpoint::read(path(step), identity_, torch::kCPU);
      EXPECT_EQ(checkpoint.step(), step);
      expect_same_from(reference, run(train, &checkpoint), step);
    }
  }
}

TEST_F(TrialCheckpointTest, ChannelsLastAndFlipsResumeBitForBitToo) {
  TrainConfig train = small_train(OptimizerKind::Adam);
  train.memory_format = MemoryFormat::ChannelsLast;
  train.augment = Augment::Flip;
  const Recorded reference = run(train);
  run(train, nullptr, {5});
  const TrialCheckpoint checkpoint = TrialCheckpoint::read(path(5), identity_, torch::kCPU);
  expect_same_from(reference, run(train, &checkpoint), 5);
}

TEST_F(TrialCheckpointTest, CheckpointsComeEveryNStepsOrSecondsAndNeverAtTheLastStep) {
  for (const auto& [every, seconds, expected] :
       {std::make_tuple(int64_t{4}, 0.0, std::vector<int64_t>{4, 8}), std::make_tuple(int64_t{0}, 1e-9, std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8}),
        std::make_tuple(int64_t{0}, 0.0, std::vector<int64_t>{}), std::make_tuple(int64_t{9}, 1e6, std::vector<int64_t>{})}) {
    TrainConfig train = small_train(OptimizerKind::Adam);
    train.checkpoint_every = every;
    train.checkpoint_seconds = seconds;
    static const Split data = make_data();
    const StatefulStrategy strategy;
    const auto loaded = LoadedStrategy::borrow(strategy);
    TrialInput input;
    input.train = &train;
    input.data = &data;
    input.strategy = loaded.get();
    input.make_backbone = [] { return make_backbone(ArchSpec{"convnet", 1, 12}); };
    std::vector<int64_t> saved;
    input.save_checkpoint = [&](int64_t step, const TrialState&) { saved.push_back(step); };
    run_trial(input, [](const db::StepRow&, const std::vector<db::MetricRow>&) {});
    EXPECT_EQ(saved, expected) << "every " << every << ", seconds " << seconds;
  }
}

TEST_F(TrialCheckpointTest, AWriteReplacesTheFileWholeAndLeavesNoTemporaryFile) {
  const TrainConfig train = small_train(OptimizerKind::Adam);
  run(train, nullptr, {2, 6});
  EXPECT_GT(bytes_, 0);
  EXPECT_EQ(static_cast<int64_t>(std::filesystem::file_size(path(6))), bytes_);
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_.file("ckpts"))) {
    EXPECT_EQ(entry.path().filename().string().rfind("step-", 0), 0u) << entry.path();
    ++files;
  }
  EXPECT_EQ(files, 2);
  // Over the same file: the second write replaces the first.
  run(train, nullptr, {6});
  EXPECT_EQ(TrialCheckpoint::read(path(6), identity_, torch::kCPU).step(), 6);
  // What a process killed in a write leaves: its temporary file, removed with the checkpoint.
  std::ofstream(dir_.file("ckpts/.step-6.pt.tmp-99999-0")) << "partial";
  remove_checkpoint(path(6));
  EXPECT_FALSE(std::filesystem::exists(path(6)));
  EXPECT_FALSE(std::filesystem::exists(dir_.file("ckpts/.step-6.pt.tmp-99999-0")));
  EXPECT_TRUE(std::filesystem::exists(path(2)));
  std::cout << "convnet (12x12 input) checkpoint: " << bytes_ << " bytes, " << 1e3 * write_seconds_ / writes_
            << " ms a write (mean of " << writes_ << ")\n";
}

TEST_F(TrialCheckpointTest, ACheckpointOfAnotherTrialIsRefusedNamingTheFileAndTheField) {
  run(small_train(OptimizerKind::Adam), nullptr, {4});
  const std::string file = path(4);
  EXPECT_EQ(refusal(file, identity_), "");
  const std::vector<std::pair<std::string, CheckpointIdentity>> others = [&] {
    std::vector<std::pair<std::string, CheckpointIdentity>> out;
    CheckpointIdentity i = identity_;
    i.config_hash = "other";
    out.emplace_back("experiment configuration hash is 'abc123', this trial's is 'other'", i);
    i = identity_, i.trial_id = 8;
    out.emplace_back("trial id is '7', this trial's is '8'", i);
    i = identity_, i.strategy = "he_base";
    out.emplace_back("strategy is 'stateful', this trial's is 'he_base'", i);
    i = identity_, i.seed = 4;
    out.emplace_back("seed is '3', this trial's is '4'", i);
    i = identity_, i.params_json = R"({"a":"1"})";
    out.emplace_back("strategy parameters", i);
    i = identity_, i.planned_steps = 90;
    out.emplace_back("planned steps is '9', this trial's is '90'", i);
    i = identity_, i.plugin_hash = "beef";
    out.emplace_back("plugin file hash", i);
    i = identity_, i.device_type = "cuda";
    out.emplace_back("device type is 'cpu', this trial's is 'cuda'", i);
    return out;
  }();
  for (const auto& [reason, identity] : others) {
    EXPECT_THAT(refusal(file, identity), AllOf(HasSubstr(file + ": the checkpoint belongs to another trial"),
                                               HasSubstr(reason)));
  }
}

TEST_F(TrialCheckpointTest, ADamagedOrForeignFileIsRefusedNotACrash) {
  run(small_train(OptimizerKind::Adam), nullptr, {4});
  std::ifstream in(path(4), std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::vector<std::pair<std::string, std::string>> damaged = {
      {"empty.pt", ""},
      {"half.pt", bytes.substr(0, bytes.size() / 2)},
      {"tail.pt", bytes.substr(0, bytes.size() - 30)},
      {"text.pt", "not a checkpoint\n"}};
  for (const auto& [name, content] : damaged) {
    const std::string file = dir_.file(name);
    std::ofstream(file, std::ios::binary) << content;
    EXPECT_THAT(refusal(file, identity_), HasSubstr(file + ": cannot be read as a trial checkpoint")) << name;
  }
  // A torch archive that is no trial checkpoint.
  torch::serialize::OutputArchive other;
  other.write("weights", torch::ones({3}));
  other.save_to(dir_.file("other.pt"));
  EXPECT_THAT(refusal(dir_.file("other.pt"), identity_),
              HasSubstr(dir_.file("other.pt") + ": not a trial checkpoint of this harness (no 'format')"));
  // Damage inside a well-formed archive: a byte flipped in the middle of the tensor data.
  std::string flipped = bytes;
  flipped[flipped.size() / 2] ^= 0x5a;
  std::ofstream(dir_.file("flipped.pt"), std::ios::binary) << flipped;
  try {
    const TrialCheckpoint checkpoint = TrialCheckpoint::read(dir_.file("flipped.pt"), identity_, torch::kCPU);
    SUCCEED() << "a flipped data byte read back (the zip archive's CRC is not checked by this LibTorch)";
  } catch (const CheckpointRefused& e) {
    EXPECT_THAT(e.what(), HasSubstr(dir_.file("flipped.pt")));
  }
}

TEST_F(TrialCheckpointTest, ACheckpointThatDoesNotFitTheTrialsHeadIsRefusedOnRestore) {
  const TrainConfig train = small_train(OptimizerKind::Adam);
  run(train, nullptr, {4});
  const TrialCheckpoint checkpoint = TrialCheckpoint::read(path(4), identity_, torch::kCPU);
  // The same strategy but a head over fewer features cannot take the saved tensors.
  class Narrow : public StatefulStrategy {
   public:
    std::shared_ptr<sdk::Head> make_head(const sdk::HeadSpec& spec, const sdk::Params&) const override {
      auto head = std::make_shared<StatefulHead>(spec.features, spec.classes + 1);
      return head;
    }
  } narrow;
  try {
    run(train, &checkpoint, {}, &narrow);
    FAIL() << "restored into a head of another shape";
  } catch (const CheckpointRefused& e) {
    EXPECT_THAT(e.what(), AllOf(HasSubstr(path(4)), HasSubstr("head parameter linear.weight is [3, ")));
  }
}

}  // namespace
}  // namespace harness

// Proof on real data: Fashion-MNIST images written as a PNG folder give an image-folder
// trial whose step rows equal, bit for bit, those of the IDX path on the same images.
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <numeric>

#include "harness/data/file_bytes.h"
#include "harness/data/idx_reader.h"
#include "harness/data/task.h"
#include "harness/trial.h"
#include "tests/data/fixtures.h"
#include "tests/data/image_fixtures.h"

namespace harness {
namespace {

const char* kFashionDir = "/usr/share/datasets/fashion-mnist";
constexpr int64_t kTrainImages = 300, kTestImages = 100, kSide = 28;

// A small convolutional backbone with fixed "pretrained" weights, K = 16.
class SmallConv : public Backbone {
 public:
  SmallConv() {
    torch::manual_seed(321);
    conv_ = torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 4, 3).stride(2));
    linear_ = torch::nn::Linear(4 * 13 * 13, 16);
  }
  torch::Tensor forward(const torch::Tensor& images) override {
    return torch::relu(linear_->forward(torch::relu(conv_->forward(images)).flatten(1)));
  }
  std::vector<torch::Tensor> parameters() override {
    auto p = conv_->parameters();
    for (const auto& q : linear_->parameters()) p.push_back(q);
    return p;
  }
  void train(bool on) override {
    conv_->train(on);
    linear_->train(on);
  }
  void to(const torch::Device& device) override {
    conv_->to(device);
    linear_->to(device);
  }
  int64_t features() const override { return 16; }
  std::string describe() const override { return "small conv"; }

 private:
  torch::nn::Conv2d conv_{nullptr};
  torch::nn::Linear linear_{nullptr};
};

class LinearHead : public sdk::Head {
 public:
  LinearHead(int64_t k, int64_t c) { linear_ = register_module("linear", torch::nn::Linear(k, c)); }
  torch::Tensor forward(const torch::Tensor& features) override { return linear_->forward(features); }

 private:
  torch::nn::Linear linear_{nullptr};
};

// Trains everything from the first step, so the backbone sees (and is changed by) the images.
class FullFineTune : public sdk::Strategy {
 public:
  std::string name() const override { return "full"; }
  std::string version() const override { return "1"; }
  std::string description() const override { return "linear head, everything trains"; }
  std::shared_ptr<sdk::Head> make_head(const sdk::HeadSpec& spec, const sdk::Params&) const override {
    return std::make_shared<LinearHead>(spec.features, spec.classes);
  }
  sdk::StepPlan plan(const sdk::StepContext&, const sdk::Params&) const override { return {}; }
};

std::vector<db::StepRow> run(const Split& data, Augment augment) {
  TrainConfig train;
  train.steps = 15;
  train.batch_size = 32;
  train.lr = 1e-2;
  train.dense_eval_steps = 3;
  train.eval_every = 5;
  train.augment = augment;
  const FullFineTune strategy;
  const auto loaded = LoadedStrategy::borrow(strategy);
  TrialInput input;
  input.train = &train;
  input.data = &data;
  input.strategy = loaded.get();
  input.seed = 2;
  input.make_backbone = [] { return std::make_unique<SmallConv>(); };
  std::vector<db::StepRow> rows;
  run_trial(input, [&](const db::StepRow& row, const std::vector<db::MetricRow>&) { rows.push_back(row); });
  return rows;
}

void expect_identical(const std::vector<db::StepRow>& a, const std::vector<db::StepRow>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    SCOPED_TRACE("step " + std::to_string(a[i].step));
    EXPECT_EQ(a[i].phase, b[i].phase);
    EXPECT_EQ(a[i].lr, b[i].lr);
    EXPECT_EQ(a[i].train_loss, b[i].train_loss);
    EXPECT_EQ(a[i].train_acc, b[i].train_acc);
    EXPECT_EQ(a[i].test_acc, b[i].test_acc);
    EXPECT_EQ(a[i].test_loss, b[i].test_loss);
    EXPECT_EQ(a[i].zeta, b[i].zeta);
    EXPECT_EQ(a[i].label_energy, b[i].label_energy);
    EXPECT_EQ(a[i].cross_energy, b[i].cross_energy);
    EXPECT_EQ(a[i].phi, b[i].phi);
    EXPECT_EQ(a[i].noise_fraction, b[i].noise_fraction);
    EXPECT_EQ(a[i].feature_variance, b[i].feature_variance);
    EXPECT_EQ(a[i].feature_grad_energy, b[i].feature_grad_energy);
    EXPECT_EQ(a[i].backbone_drift, b[i].backbone_drift);
  }
}

// The first `count` images of an IDX pair as bytes, in class order (stable), with their labels.
struct Subset {
  std::vector<uint8_t> pixels;
  std::vector<uint8_t> labels;
};

Subset class_ordered_subset(const std::string& images_file, const std::string& labels_file, int64_t count) {
  const Dataset all = read_idx(images_file, labels_file);
  std::vector<int64_t> order(static_cast<size_t>(count));
  std::iota(order.begin(), order.end(), 0);
  const int64_t* label = all.labels.data_ptr<int64_t>();
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return label[a] < label[b]; });
  // The reader made byte / 255 exactly; * 255 and rounding recovers the byte.
  const auto bytes = all.images.slice(0, 0, count).mul(255.0f).round().to(torch::kUInt8).contiguous();
  Subset out;
  const uint8_t* p = bytes.data_ptr<uint8_t>();
  for (const int64_t i : order) {
    out.pixels.insert(out.pixels.end(), p + i * kSide * kSide, p + (i + 1) * kSide * kSide);
    out.labels.push_back(static_cast<uint8_t>(label[i]));
  }
  return out;
}

void write_split(const Subset& subset, const std::string& idx_dir, const std::string& png_dir, const std::string& idx_name) {
  const auto n = static_cast<uint32_t>(subset.labels.size());
  testing::write_bytes(idx_dir + "/" + idx_name + "-images-idx3-ubyte",
                       testing::idx_bytes(0x803, {n, kSide, kSide}, subset.pixels));
  testing::write_bytes(idx_dir + "/" + idx_name + "-labels-idx1-ubyte", testing::idx_bytes(0x801, {n}, subset.labels));
  for (uint32_t i = 0; i < n; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "/%u/%05u.png", subset.labels[i], i);
    const std::vector<uint8_t> image(subset.pixels.begin() + i * kSide * kSide,
                                     subset.pixels.begin() + (i + 1) * kSide * kSide);
    testing::write_png(png_dir + name, kSide, kSide, 1, image);
  }
}

TEST(ImageFolderTrial, FashionMnistAsPngsGivesTheIdxStepRowsBitForBit) {
  const std::string dir = kFashionDir;
  if (!file_exists(dir + "/train-images-idx3-ubyte.gz")) GTEST_SKIP() << "Fashion-MNIST not installed in " << dir;
  testing::TempDir tmp;
  write_split(class_ordered_subset(dir + "/train-images-idx3-ubyte.gz", dir + "/train-labels-idx1-ubyte.gz", kTrainImages),
              tmp.file("idx"), tmp.file("png/train"), "train");
  write_split(class_ordered_subset(dir + "/t10k-images-idx3-ubyte.gz", dir + "/t10k-labels-idx1-ubyte.gz", kTestImages),
              tmp.file("idx"), tmp.file("png/test"), "t10k");

  DataSpec idx_spec;
  idx_spec.dataset = "idx";
  idx_spec.path = tmp.file("idx");
  DataSpec png_spec;
  png_spec.dataset = "image-folder";
  png_spec.path = tmp.file("png");
  png_spec.channels = 1;
  const Split idx = load_task(idx_spec), png = load_task(png_spec);
  ASSERT_EQ(png.train.images.sizes(), torch::IntArrayRef({kTrainImages, 1, kSide, kSide}));
  ASSERT_EQ(png.test.size(), kTestImages);
  EXPECT_EQ(png.train.num_classes, 10);
  EXPECT_EQ(png.train.num_classes, idx.train.num_classes);
  EXPECT_TRUE(torch::equal(png.train.labels, idx.train.labels));
  EXPECT_TRUE(torch::equal(png.test.labels, idx.test.labels));
  // Normalized with the train statistics on both paths: equal tensors, not merely close.
  EXPECT_TRUE(torch::equal(png.train.images, idx.train.images));
  EXPECT_TRUE(torch::equal(png.test.images, idx.test.images));

  for (const Augment augment : {Augment::None, Augment::CropFlip}) {
    SCOPED_TRACE(augment_name(augment));
    const std::vector<db::StepRow> from_idx = run(idx, augment), from_png = run(png, augment);
    ASSERT_EQ(from_png.size(), 15u);
    expect_identical(from_idx, from_png);
    EXPECT_NE(from_idx.front().train_loss, from_idx.back().train_loss);  // it trained
  }
  // The augmentation changes what the trial sees, so the check above compares something.
  EXPECT_NE(run(idx, Augment::None).back().train_loss, run(idx, Augment::CropFlip).back().train_loss);
}

}  // namespace
}  // namespace harness

// Tests of checkpoint files: bit-identical round trips (BN statistics included), metadata, refusals.
#include "harness/models/checkpoint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "harness/errors.h"
#include "harness/models/builtin_backbone.h"
#include "tests/file_size_limit.h"

namespace harness {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

class CheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("models_checkpoint_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string file(const std::string& name) const { return (dir_ / name).string(); }

  fs::path dir_;
};

CheckpointMeta sample_meta() {
  CheckpointMeta m;
  m.source_dataset = "fashion-mnist";
  m.source_classes = {0, 1, 2, 3, 4};
  m.source_num_classes = 5;
  m.epochs = 2;
  m.lr = 1e-3;
  m.batch_size = 256;
  m.seed = 18446744073709551615ull;  // the full uint64 range survives JSON
  m.aux_binary_weight = 0.25;
  m.source_test_accuracy = 0.8765;
  m.norm_mean = {0.2860};
  m.norm_std = {0.3530};
  m.harness_version = "9.9.9-test";
  m.device = "cpu";
  m.images_per_second = 1234.5;
  m.train_seconds = 67.8;
  return m;
}

// Moves BN running statistics away from their initial values, as pretraining would.
void update_running_stats(Backbone& b, int64_t channels, int64_t size) {
  torch::NoGradGuard no_grad;
  b.train(true);
  for (int i = 0; i < 3; ++i) b.forward(torch::randn({8, channels, size, size}) * 2 + 1);
}

class RoundTrip : public CheckpointTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(RoundTrip, LoadedBackboneGivesBitIdenticalOutputsInEvalMode) {
  const std::string arch = GetParam();
  torch::manual_seed(3);
  auto original = make_backbone({arch, 3, 16});
  update_running_stats(*original, 3, 16);
  save_checkpoint(file("a.pt"), *original, sample_meta());

  torch::manual_seed(4);  // a differently initialized model must be fully overwritten
  CheckpointMeta meta;
  auto loaded = load_checkpoint(file("a.pt"), &meta);
  const auto x = torch::randn({6, 3, 16, 16});
  original->train(false);
  loaded->train(false);
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(original->forward(x), loaded->forward(x)));
  EXPECT_EQ(meta.arch, arch);
  EXPECT_EQ(meta.in_channels, 3);
  EXPECT_EQ(meta.image_size, 16);
  EXPECT_EQ(meta.features, 128);

  // The same check fails for a fresh model, so equality above is not vacuous.
  auto fresh = make_backbone({arch, 3, 16});
  fresh->train(false);
  EXPECT_FALSE(torch::equal(original->forward(x), fresh->forward(x)));
}

INSTANTIATE_TEST_SUITE_P(AllArchs, RoundTrip, ::testing::Values("convnet", "vgg", "resnet"));

TEST_F(CheckpointTest, BatchNormRunningStatisticsRoundTrip) {
  auto original = make_backbone({"convnet", 1, 12});
  update_running_stats(*original, 1, 12);
  auto& module = dynamic_cast<BuiltinBackbone&>(*original).module();
  const auto running_mean = module.named_buffers()["bn2.running_mean"].clone();
  ASSERT_FALSE(torch::equal(running_mean, torch::zeros_like(running_mean)));
  save_checkpoint(file("bn.pt"), *original, sample_meta());
  auto loaded = load_checkpoint(file("bn.pt"));
  auto& loaded_module = dynamic_cast<BuiltinBackbone&>(*loaded).module();
  EXPECT_TRUE(torch::equal(loaded_module.named_buffers()["bn2.running_mean"], running_mean));
  EXPECT_TRUE(torch::equal(loaded_module.named_buffers()["bn2.num_batches_tracked"],
                           module.named_buffers()["bn2.num_batches_tracked"]));
  for (const auto& p : loaded->parameters()) EXPECT_TRUE(p.requires_grad());
}

TEST_F(CheckpointTest, MetadataRoundTripsExactly) {
  auto b = make_backbone({"resnet", 1, 28});
  const CheckpointMeta in = sample_meta();
  save_checkpoint(file("m.pt"), *b, in);
  const CheckpointMeta out = read_checkpoint_meta(file("m.pt"));
  EXPECT_EQ(out.arch, "resnet");
  EXPECT_EQ(out.features, 128);
  EXPECT_EQ(out.in_channels, 1);
  EXPECT_EQ(out.image_size, 28);
  EXPECT_EQ(out.source_dataset, in.source_dataset);
  EXPECT_EQ(out.source_classes, in.source_classes);
  EXPECT_EQ(out.source_num_classes, in.source_num_classes);
  EXPECT_EQ(out.epochs, in.epochs);
  EXPECT_EQ(out.lr, in.lr);  // exact: `harness pretrain` compares settings with ==
  EXPECT_EQ(out.batch_size, in.batch_size);
  EXPECT_EQ(out.seed, in.seed);
  EXPECT_EQ(out.aux_binary_weight, in.aux_binary_weight);
  EXPECT_EQ(out.source_test_accuracy, in.source_test_accuracy);
  EXPECT_EQ(out.norm_mean, in.norm_mean);
  EXPECT_EQ(out.norm_std, in.norm_std);
  EXPECT_EQ(out.harness_version, in.harness_version);
  EXPECT_EQ(out.device, in.device);
  EXPECT_EQ(out.images_per_second, in.images_per_second);
  EXPECT_EQ(out.train_seconds, in.train_seconds);
}

TEST_F(CheckpointTest, ArchitectureComesFromTheBackboneNotTheMeta) {
  auto b = make_backbone({"vgg", 3, 32});
  CheckpointMeta meta = sample_meta();
  meta.arch = "convnet";  // stale value from the caller
  meta.in_channels = 1;
  save_checkpoint(file("v.pt"), *b, meta);
  const auto out = read_checkpoint_meta(file("v.pt"));
  EXPECT_EQ(out.arch, "vgg");
  EXPECT_EQ(out.in_channels, 3);
  EXPECT_EQ(out.image_size, 32);
}

TEST_F(CheckpointTest, MissingFileIsADataErrorNamingIt) {
  try {
    load_checkpoint(file("nope.pt"));
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_THAT(e.what(), HasSubstr("nope.pt"));
  }
  EXPECT_THROW(read_checkpoint_meta(file("nope.pt")), DataError);
}

TEST_F(CheckpointTest, GarbageFileIsADataErrorNamingIt) {
  std::ofstream(file("garbage.pt")) << "this is not a checkpoint";
  try {
    read_checkpoint_meta(file("garbage.pt"));
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_THAT(e.what(), HasSubstr("garbage.pt"));
  }
  EXPECT_THROW(load_checkpoint(file("garbage.pt")), DataError);
}

TEST_F(CheckpointTest, TruncatedFileIsADataError) {
  auto b = make_backbone({"convnet", 1, 28});
  save_checkpoint(file("full.pt"), *b, sample_meta());
  const auto size = fs::file_size(file("full.pt"));
  fs::copy_file(file("full.pt"), file("cut.pt"));
  fs::resize_file(file("cut.pt"), size / 2);
  EXPECT_THROW(load_checkpoint(file("cut.pt")), DataError);
}

TEST_F(CheckpointTest, AFailedWriteLeavesNoCheckpointAndKeepsTheOldOneWhole) {
  auto b = make_backbone({"convnet", 1, 28});
  const std::string path = file("b.pt");
  {
    testing::FileSizeLimit limit(4096);  // the write fails part way, as on a full disk
    EXPECT_THROW(save_checkpoint(path, *b, sample_meta()), DataError);
  }
  EXPECT_FALSE(fs::exists(path)) << "a half-written checkpoint was left";
  save_checkpoint(path, *b, sample_meta());
  std::ifstream in(path, std::ios::binary);
  const std::string before(std::istreambuf_iterator<char>(in), {});
  CheckpointMeta other = sample_meta();
  other.epochs = 7;
  {
    testing::FileSizeLimit limit(4096);
    EXPECT_THROW(save_checkpoint(path, *b, other), DataError);
  }
  std::ifstream again(path, std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(again), {}), before);
  EXPECT_EQ(read_checkpoint_meta(path).epochs, 2);
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir_)) names.push_back(entry.path().filename().string());
  EXPECT_EQ(names, std::vector<std::string>{"b.pt"}) << "no temporary file is left behind";
}

TEST_F(CheckpointTest, ArchiveWithoutMetadataIsADataError) {
  auto b = make_backbone({"convnet", 1, 28});
  torch::serialize::OutputArchive archive;
  dynamic_cast<BuiltinBackbone&>(*b).module().save(archive);
  archive.save_to(file("bare.pt"));
  try {
    load_checkpoint(file("bare.pt"));
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_THAT(e.what(), HasSubstr("bare.pt"));
    EXPECT_THAT(e.what(), HasSubstr("meta_json"));
  }
}

TEST_F(CheckpointTest, TensorsOfAnotherShapeAreADataError) {
  // A 3-channel convnet's file relabeled as 1-channel: conv1.weight no longer fits.
  auto b = make_backbone({"convnet", 3, 28});
  save_checkpoint(file("c3.pt"), *b, sample_meta());
  torch::serialize::InputArchive in;
  in.load_from(file("c3.pt"));
  c10::IValue meta_json;
  ASSERT_TRUE(in.try_read("meta_json", meta_json));
  std::string text = meta_json.toStringRef();
  const auto pos = text.find("\"in_channels\":3");
  ASSERT_NE(pos, std::string::npos) << text;
  text.replace(pos, 15, "\"in_channels\":1");
  torch::serialize::OutputArchive out;
  out.write("meta_json", c10::IValue(text));
  torch::serialize::OutputArchive out_tensors;
  b->train(true);
  dynamic_cast<BuiltinBackbone&>(*b).module().save(out_tensors);
  out.write("backbone", out_tensors);
  out.save_to(file("bad_shape.pt"));
  try {
    load_checkpoint(file("bad_shape.pt"));
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_THAT(e.what(), HasSubstr("conv1.weight"));
  }
}

TEST_F(CheckpointTest, OnlyBuiltinBackbonesAreSaved) {
  class Other : public Backbone {
   public:
    torch::Tensor forward(const torch::Tensor& x) override { return x; }
    std::vector<torch::Tensor> parameters() override { return {}; }
    void train(bool) override {}
    void to(const torch::Device&) override {}
    int64_t features() const override { return 1; }
    std::string describe() const override { return "other"; }
  } other;
  EXPECT_THROW(save_checkpoint(file("o.pt"), other, sample_meta()), ConfigError);
}

}  // namespace
}  // namespace harness

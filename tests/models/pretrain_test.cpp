// Tests of pretraining on small generated data: accuracy, bit-identical reruns, the auxiliary binary head.
#include "harness/models/pretrain.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <filesystem>
#include <numeric>

#include "harness/errors.h"
#include "tests/models/fixtures.h"

namespace harness {
namespace {

using ::testing::HasSubstr;

PretrainOptions small_options(const std::string& arch, int64_t channels = 1) {
  PretrainOptions o;
  o.arch = {arch, channels, 16};
  o.epochs = 3;
  o.batch_size = 32;
  o.lr = 3e-3;
  o.seed = 11;
  o.threads = 1;  // a fixed thread count makes CPU runs bit-for-bit reproducible
  return o;
}

bool same_weights(Backbone& a, Backbone& b) {
  const auto pa = a.parameters(), pb = b.parameters();
  if (pa.size() != pb.size()) return false;
  for (size_t i = 0; i < pa.size(); ++i) {
    if (!torch::equal(pa[i], pb[i])) return false;
  }
  return true;
}

class LearnsPatterns : public ::testing::TestWithParam<std::string> {};

TEST_P(LearnsPatterns, ReachesHighSourceAccuracyInAFewEpochs) {
  const Split data = test::pattern_split(4, 1, 16, 5);
  const PretrainResult r = pretrain(small_options(GetParam()), data);
  EXPECT_GE(r.test_accuracy, 0.95) << GetParam();
  EXPECT_EQ(r.epoch_test_accuracy.size(), 3u);
  EXPECT_EQ(r.backbone->features(), 128);
  EXPECT_GT(r.images_per_second, 0);
  EXPECT_GT(r.seconds, 0);
}

INSTANTIATE_TEST_SUITE_P(AllArchs, LearnsPatterns, ::testing::Values("convnet", "vgg", "resnet"));

TEST(Pretrain, AccuracyIsMeasuredNotAssumed) {
  // Pure-noise images with random labels: the test accuracy must stay near chance (1/4).
  Split data = test::pattern_split(4, 1, 16, 5);
  auto gen = at::detail::createCPUGenerator(99);
  data.train.images = torch::randn(data.train.images.sizes(), gen);
  data.test.images = torch::randn(data.test.images.sizes(), gen);
  const PretrainResult r = pretrain(small_options("convnet"), data);
  EXPECT_LT(r.test_accuracy, 0.5);
}

TEST(Pretrain, SameSeedIsBitForBitReproducibleOnCpu) {
  const Split data = test::pattern_split(4, 3, 16, 5);
  PretrainOptions o = small_options("resnet", 3);
  o.epochs = 1;
  const PretrainResult a = pretrain(o, data);
  const PretrainResult b = pretrain(o, data);
  EXPECT_TRUE(same_weights(*a.backbone, *b.backbone));
  EXPECT_EQ(a.epoch_test_accuracy, b.epoch_test_accuracy);
  // Eval-mode features (BN running statistics included) agree too.
  const auto x = data.test.images.slice(0, 0, 16);
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(a.backbone->forward(x), b.backbone->forward(x)));

  o.seed = 12;  // still under the NoGradGuard: pretrain turns gradients back on for itself
  const PretrainResult c = pretrain(o, data);
  EXPECT_FALSE(same_weights(*a.backbone, *c.backbone));
}

TEST(Pretrain, ReportsProgressEveryStepAndEachEpoch) {
  const Split data = test::pattern_split(4, 1, 16, 5);
  PretrainOptions o = small_options("convnet");
  o.epochs = 2;
  o.batch_size = 100;  // 256 images: steps of 100, 100, 56
  std::vector<PretrainProgress> seen;
  const PretrainResult r = pretrain(o, data, [&](const PretrainProgress& p) { seen.push_back(p); });
  ASSERT_EQ(seen.size(), 2u * (3 + 1));
  EXPECT_EQ(seen[0].epoch, 1);
  EXPECT_EQ(seen[0].step, 1);
  EXPECT_EQ(seen[0].steps_per_epoch, 3);
  EXPECT_EQ(seen[0].epochs, 2);
  EXPECT_FALSE(seen[2].epoch_end);
  EXPECT_TRUE(seen[3].epoch_end);
  EXPECT_EQ(seen[3].test_accuracy, r.epoch_test_accuracy[0]);
  EXPECT_EQ(seen[7].epoch, 2);
  EXPECT_EQ(seen[7].test_accuracy, r.test_accuracy);
  for (const auto& p : seen) {
    EXPECT_GT(p.loss, 0);
    EXPECT_GT(p.images_per_second, 0);
  }
  EXPECT_LT(seen[6].loss, seen[0].loss);
}

TEST(Pretrain, FillsTheCheckpointMeta) {
  const Split data = test::pattern_split(4, 1, 16, 5);
  PretrainOptions o = small_options("convnet");
  o.epochs = 1;
  const PretrainResult r = pretrain(o, data);
  EXPECT_EQ(r.meta.arch, "convnet");
  EXPECT_EQ(r.meta.features, 128);
  EXPECT_EQ(r.meta.in_channels, 1);
  EXPECT_EQ(r.meta.image_size, 16);
  EXPECT_EQ(r.meta.source_num_classes, 4);
  EXPECT_EQ(r.meta.epochs, 1);
  EXPECT_EQ(r.meta.lr, o.lr);
  EXPECT_EQ(r.meta.batch_size, 32);
  EXPECT_EQ(r.meta.seed, 11u);
  EXPECT_EQ(r.meta.source_test_accuracy, r.test_accuracy);
  EXPECT_EQ(r.meta.source_dataset, "generated patterns");
  EXPECT_FALSE(r.meta.harness_version.empty());
  EXPECT_EQ(r.meta.device, "cpu");
}

TEST(Pretrain, RefusesBadOptionsAndData) {
  const Split data = test::pattern_split(4, 1, 16, 5);
  PretrainOptions o = small_options("convnet");
  o.aux_binary_weight = 1.0;
  EXPECT_THROW(pretrain(o, data), ConfigError);
  o = small_options("convnet");
  o.epochs = 0;
  EXPECT_THROW(pretrain(o, data), ConfigError);
  o = small_options("convnet");
  o.device = "tpu";
  EXPECT_THROW(pretrain(o, data), ConfigError);
  o = small_options("convnet", 3);  // the data have one channel
  try {
    pretrain(o, data);
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_THAT(e.what(), HasSubstr("generated patterns"));
  }
  Split bad_labels = data;
  bad_labels.test.labels = bad_labels.test.labels + 1;  // label 4 of 4 classes
  EXPECT_THROW(pretrain(small_options("convnet"), bad_labels), DataError);
}

TEST(AuxBinaryPartition, IsBalancedAndSeeded) {
  for (int64_t classes : {2, 4, 5, 10, 11}) {
    for (uint64_t seed = 0; seed < 5; ++seed) {
      const auto side = aux_binary_partition(classes, seed);
      ASSERT_EQ(static_cast<int64_t>(side.size()), classes);
      EXPECT_EQ(std::accumulate(side.begin(), side.end(), int64_t{0}), classes / 2);
      for (int64_t s : side) EXPECT_TRUE(s == 0 || s == 1);
      EXPECT_EQ(side, aux_binary_partition(classes, seed));
    }
  }
  // Different seeds draw different partitions (of the 252 balanced ones for 10 classes).
  int64_t differing = 0;
  for (uint64_t seed = 1; seed < 20; ++seed) differing += aux_binary_partition(10, seed) != aux_binary_partition(10, 0);
  EXPECT_GE(differing, 15);
  EXPECT_THROW(aux_binary_partition(1, 0), ConfigError);
}

TEST(Pretrain, AuxHeadChangesTrainingAndIsNotSaved) {
  const Split data = test::pattern_split(4, 1, 16, 5);
  PretrainOptions o = small_options("convnet");
  o.epochs = 1;
  const PretrainResult plain = pretrain(o, data);
  o.aux_binary_weight = 0.5;
  const PretrainResult aux = pretrain(o, data);
  EXPECT_EQ(aux.aux_partition, aux_binary_partition(4, o.seed));
  EXPECT_TRUE(plain.aux_partition.empty());
  EXPECT_FALSE(same_weights(*plain.backbone, *aux.backbone));  // the auxiliary loss did act
  EXPECT_EQ(aux.meta.aux_binary_weight, 0.5);

  // The saved file holds exactly the backbone's tensors: no auxiliary (or source) head.
  const auto path = std::filesystem::temp_directory_path() / ("models_aux_" + std::to_string(::getpid()) + ".pt");
  save_checkpoint(path.string(), *aux.backbone, aux.meta);
  torch::serialize::InputArchive archive;
  archive.load_from(path.string());
  torch::serialize::InputArchive tensors;
  ASSERT_TRUE(archive.try_read("backbone", tensors));
  auto keys = tensors.keys();
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, (std::vector<std::string>{"bn1", "bn2", "bn3", "conv1", "conv2", "conv3"}));
  auto loaded = load_checkpoint(path.string());
  EXPECT_TRUE(same_weights(*aux.backbone, *loaded));
  int64_t n = 0;
  for (const auto& p : loaded->parameters()) n += p.numel();
  EXPECT_EQ(n, 93120);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace harness

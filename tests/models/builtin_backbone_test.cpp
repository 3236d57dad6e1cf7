// Tests of the built-in architectures: shapes, exact layer sizes, normalization layers, refusals.
#include "harness/models/builtin_backbone.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "harness/errors.h"

namespace harness {
namespace {

using ::testing::HasSubstr;

int64_t count_parameters(Backbone& b) {
  int64_t n = 0;
  for (const auto& p : b.parameters()) n += p.numel();
  return n;
}

int64_t count_batch_norms(BuiltinBackbone& b) {
  int64_t n = 0;
  for (const auto& m : b.module().modules()) {
    if (dynamic_cast<torch::nn::BatchNorm2dImpl*>(m.get())) ++n;
  }
  return n;
}

class ShapeTest : public ::testing::TestWithParam<std::tuple<std::string, int64_t, int64_t>> {};

TEST_P(ShapeTest, OutputIsNByK) {
  const auto& [arch, channels, size] = GetParam();
  torch::manual_seed(0);
  auto backbone = make_backbone({arch, channels, size});
  EXPECT_EQ(backbone->features(), 128);
  for (bool training : {true, false}) {
    backbone->train(training);
    const auto out = backbone->forward(torch::randn({5, channels, size, size}));
    EXPECT_EQ(out.sizes(), (std::vector<int64_t>{5, 128})) << arch << " training=" << training;
    EXPECT_TRUE(torch::isfinite(out).all().item<bool>());
  }
}

INSTANTIATE_TEST_SUITE_P(AllArchs, ShapeTest,
                         ::testing::Combine(::testing::Values("convnet", "vgg", "resnet"), ::testing::Values(1, 3),
                                            ::testing::Values(28, 32)));

TEST(ConvNet, HasExactlyTheProtocolLayers) {
  // conv1 32*1*9 + 32 = 320, bn1 2*32 = 64, conv2 64*32*9 + 64 = 18496, bn2 128,
  // conv3 128*64*9 + 128 = 73856, bn3 256: 93120 in total for one input channel.
  auto gray = make_backbone({"convnet", 1, 28});
  EXPECT_EQ(count_parameters(*gray), 93120);
  // Three channels add 32*2*9 = 576 weights to conv1.
  auto color = make_backbone({"convnet", 3, 32});
  EXPECT_EQ(count_parameters(*color), 93696);

  std::vector<std::pair<std::string, std::vector<int64_t>>> shapes;
  for (const auto& item : gray->module().named_parameters())
    shapes.emplace_back(item.key(), item.value().sizes().vec());
  const std::vector<std::pair<std::string, std::vector<int64_t>>> expected{
      {"conv1.weight", {32, 1, 3, 3}},   {"conv1.bias", {32}},  {"bn1.weight", {32}},  {"bn1.bias", {32}},
      {"conv2.weight", {64, 32, 3, 3}},  {"conv2.bias", {64}},  {"bn2.weight", {64}},  {"bn2.bias", {64}},
      {"conv3.weight", {128, 64, 3, 3}}, {"conv3.bias", {128}}, {"bn3.weight", {128}}, {"bn3.bias", {128}}};
  EXPECT_EQ(shapes, expected);
}

TEST(Architectures, VggAndResnetHaveTheDocumentedSizes) {
  // vgg: convs 1->32, 32->32, 32->64, 64->64, 64->128, 128->128, all 3x3 with bias:
  // 320 + 9248 + 18496 + 36928 + 73856 + 147584.
  EXPECT_EQ(count_parameters(*make_backbone({"vgg", 1, 28})), 286432);
  // resnet (bias-free convs before BN): stem 288 + 64; block 32->32: 2 * (9216 + 64);
  // block 32->64: 18432 + 128 + 36864 + 128 + shortcut 2048 + 128;
  // block 64->128: 73728 + 256 + 147456 + 256 + shortcut 8192 + 256.
  EXPECT_EQ(count_parameters(*make_backbone({"resnet", 1, 28})), 352 + 18560 + 57728 + 230144);
}

TEST(Architectures, BatchNormInConvnetAndResnetNotInVgg) {
  auto convnet = make_backbone({"convnet", 1, 28});
  auto resnet = make_backbone({"resnet", 1, 28});
  auto vgg = make_backbone({"vgg", 1, 28});
  EXPECT_EQ(count_batch_norms(*convnet), 3);
  EXPECT_GE(count_batch_norms(*resnet), 5);  // stem + two per block + shortcuts
  EXPECT_EQ(count_batch_norms(*vgg), 0);
  EXPECT_TRUE(vgg->module().named_buffers().is_empty());  // no running statistics anywhere
}

TEST(Architectures, ResnetHasResidualShortcutsWhereTheShapeChanges) {
  auto resnet = make_backbone({"resnet", 1, 28});
  const auto params = resnet->module().named_parameters();
  EXPECT_TRUE(params.contains("stage2.shortcut.0.weight"));
  EXPECT_TRUE(params.contains("stage3.shortcut.0.weight"));
  EXPECT_FALSE(params.contains("stage1.shortcut.0.weight"));  // identity shortcut
}

TEST(Architectures, SeededInitializationIsReproducible) {
  torch::manual_seed(7);
  auto a = make_backbone({"resnet", 3, 32});
  torch::manual_seed(7);
  auto b = make_backbone({"resnet", 3, 32});
  torch::manual_seed(8);
  auto c = make_backbone({"resnet", 3, 32});
  const auto pa = a->parameters(), pb = b->parameters(), pc = c->parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(torch::equal(pa[i], pb[i]));
  EXPECT_FALSE(torch::equal(pa[0], pc[0]));
}

TEST(Architectures, UnknownNameListsTheValidOnes) {
  try {
    make_backbone({"alexnet", 1, 28});
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("alexnet"));
    EXPECT_THAT(e.what(), HasSubstr("convnet, vgg, resnet"));
  }
}

TEST(Architectures, RejectsImagesTooSmallForThePools) {
  for (const std::string arch : {"convnet", "vgg", "resnet"}) {
    EXPECT_THROW(make_backbone({arch, 1, 3}), ConfigError) << arch;
    EXPECT_NO_THROW(make_backbone({arch, 1, 4})) << arch;
  }
  EXPECT_THROW(make_backbone({"convnet", 0, 28}), ConfigError);
}

TEST(Architectures, RejectsImagesWithTheWrongChannelCount) {
  auto b = make_backbone({"vgg", 3, 28});
  try {
    b->forward(torch::zeros({2, 1, 28, 28}));
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_THAT(e.what(), HasSubstr("[N, 3, H, W]"));
  }
}

TEST(Architectures, DescribeNamesArchShapeAndSize) {
  auto b = make_backbone({"convnet", 1, 28});
  EXPECT_EQ(b->describe(), "convnet (1x28x28 -> K=128, 93120 parameters)");
}

}  // namespace
}  // namespace harness

// Tests of harness/data/transforms.cpp: class subsets, class lists, normalization, flips.
#include "harness/data/transforms.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "harness/errors.h"
#include "tests/data/fixtures.h"

namespace harness {
namespace {

using testing::expect_error;

// 8 one-pixel images whose value is their index, labels 0 1 2 3 2 1 0 3.
Dataset indexed_set() {
  Dataset data;
  data.images = torch::arange(8, torch::kFloat32).view({8, 1, 1, 1});
  data.labels = torch::tensor({0, 1, 2, 3, 2, 1, 0, 3}, torch::kInt64);
  data.num_classes = 4;
  data.origin = "gen/set";
  return data;
}

TEST(SelectClassesTest, KeepsClassesAndRelabelsInGivenOrder) {
  const Dataset out = select_classes(indexed_set(), {3, 1});
  EXPECT_EQ(out.num_classes, 2);
  // Images 1 3 5 7 (classes 1 3 1 3) in their original order; 3 -> 0, 1 -> 1.
  EXPECT_TRUE(torch::equal(out.images.flatten(), torch::tensor({1.0f, 3.0f, 5.0f, 7.0f})));
  EXPECT_TRUE(torch::equal(out.labels, torch::tensor({1, 0, 1, 0}, torch::kInt64)));
  EXPECT_THAT(out.origin, ::testing::HasSubstr("gen/set"));
}

TEST(SelectClassesTest, AllClassesInOrderIsIdentity) {
  const Dataset in = indexed_set();
  const Dataset out = select_classes(in, {0, 1, 2, 3});
  EXPECT_TRUE(torch::equal(out.images, in.images));
  EXPECT_TRUE(torch::equal(out.labels, in.labels));
}

TEST(SelectClassesTest, RejectsBadSelections) {
  const Dataset in = indexed_set();
  expect_error<DataError>([&] { select_classes(in, {2, 4}); }, {"[2,4]", "gen/set", "class 4", "out of range"});
  expect_error<DataError>([&] { select_classes(in, {-1}); }, {"[-1]", "gen/set", "out of range"});
  expect_error<DataError>([&] { select_classes(in, {}); }, {"empty class list", "gen/set"});
  expect_error<DataError>([&] { select_classes(in, {1, 1}); }, {"[1,1]", "twice"});
  Dataset sparse = in;
  sparse.num_classes = 6;  // classes 4 and 5 have no images
  expect_error<DataError>([&] { select_classes(sparse, {5, 4}); }, {"[5,4]", "gen/set", "no image"});
}

TEST(ParseClassListTest, AcceptsRangesListsAndMixes) {
  EXPECT_EQ(parse_class_list("5-9"), (std::vector<int64_t>{5, 6, 7, 8, 9}));
  EXPECT_EQ(parse_class_list("0,2,4"), (std::vector<int64_t>{0, 2, 4}));
  EXPECT_EQ(parse_class_list("0-2,7"), (std::vector<int64_t>{0, 1, 2, 7}));
  EXPECT_EQ(parse_class_list(" 7 , 3-4 "), (std::vector<int64_t>{7, 3, 4}));
  EXPECT_EQ(parse_class_list("3-3"), (std::vector<int64_t>{3}));
  EXPECT_TRUE(parse_class_list("").empty());
}

TEST(ParseClassListTest, RejectsBadText) {
  for (const std::string text :
       {"a", "1-", "-3", "3-1", "1,,2", "1,", ",1", "1,1", "0-2,2", "1.5", "9999999", "1-2-3"}) {
    SCOPED_TRACE(text);
    expect_error<ConfigError>([&] { parse_class_list(text); }, {"'" + text + "'"});
  }
}

// Three channels with different offsets and spreads.
Dataset colour_set() {
  torch::manual_seed(3);
  Dataset data;
  const auto offset = torch::tensor({0.2f, 0.5f, 0.8f}).view({1, 3, 1, 1});
  const auto spread = torch::tensor({0.05f, 0.2f, 0.1f}).view({1, 3, 1, 1});
  data.images = torch::randn({40, 3, 5, 6}) * spread + offset;
  data.labels = torch::zeros({40}, torch::kInt64);
  data.num_classes = 1;
  data.origin = "colour";
  return data;
}

TEST(NormalizationTest, StatsMatchPerChannelMoments) {
  const Dataset data = colour_set();
  const Normalization stats = channel_stats(data);
  ASSERT_EQ(stats.mean.sizes(), torch::IntArrayRef({3}));
  const auto flat = data.images.to(torch::kFloat64).transpose(0, 1).reshape({3, -1});
  const auto mean = flat.mean(1);
  const auto std = (flat - mean.unsqueeze(1)).pow(2).mean(1).sqrt();  // population std
  EXPECT_TRUE(torch::allclose(stats.mean.to(torch::kFloat64), mean, 1e-6, 1e-6));
  EXPECT_TRUE(torch::allclose(stats.std.to(torch::kFloat64), std, 1e-6, 1e-6));
  // The three channels really differ, so a pooled statistic would fail above.
  EXPECT_GT((stats.mean[2] - stats.mean[0]).item<float>(), 0.4f);
}

TEST(NormalizationTest, NormalizedTrainHasZeroMeanUnitStdPerChannel) {
  Dataset data = colour_set();
  const torch::Tensor before = data.images;
  normalize(data, channel_stats(data));
  const auto flat = data.images.transpose(0, 1).reshape({3, -1});
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(flat[c].mean().item<float>(), 0.0f, 1e-5) << "channel " << c;
    EXPECT_NEAR(flat[c].std(/*unbiased=*/false).item<float>(), 1.0f, 1e-4) << "channel " << c;
  }
  // The input tensor another Dataset may share is left as it was.
  EXPECT_NEAR(before.transpose(0, 1).reshape({3, -1})[1].mean().item<float>(), 0.5f, 0.05f);
}

TEST(NormalizationTest, ConstantChannelGetsUnitStd) {
  Dataset data = colour_set();
  data.images.select(1, 1).fill_(0.25f);
  const Normalization stats = channel_stats(data);
  EXPECT_FLOAT_EQ(stats.std[1].item<float>(), 1.0f);
  normalize(data, stats);
  EXPECT_TRUE(data.images.isfinite().all().item<bool>());
  EXPECT_EQ(data.images.select(1, 1).abs().max().item<float>(), 0.0f);
}

TEST(NormalizationTest, RejectsChannelMismatchAndEmptySet) {
  Dataset data = colour_set();
  const Normalization one{torch::zeros({1}), torch::ones({1})};
  expect_error<DataError>([&] { normalize(data, one); }, {"colour", "3 channels"});
  Dataset empty;
  empty.origin = "nothing";
  expect_error<DataError>([&] { channel_stats(empty); }, {"nothing"});
}

torch::Tensor asymmetric_batch(int64_t n) {
  torch::manual_seed(11);
  return torch::rand({n, 2, 3, 5});
}

TEST(RandomHflipTest, FlipsExactlyTheDrawnImages) {
  const auto batch = asymmetric_batch(64);
  auto gen = at::detail::createCPUGenerator(7);
  const auto out = random_hflip(batch, gen);
  auto replay = at::detail::createCPUGenerator(7);
  const auto mask = draw_flip_mask(64, replay);
  int flipped = 0;
  for (int64_t i = 0; i < 64; ++i) {
    const bool same = torch::equal(out[i], batch[i]);
    const bool mirrored = torch::equal(out[i], batch[i].flip({2}));
    ASSERT_NE(same, mirrored) << "image " << i << " is neither kept nor mirrored exactly";
    EXPECT_EQ(mirrored, mask[i].item<bool>()) << "image " << i;
    flipped += mirrored;
  }
  // Binomial(64, 1/2): 32 +- 4; 16..48 is four standard deviations.
  EXPECT_GT(flipped, 16);
  EXPECT_LT(flipped, 48);
  // Mirrored along the width: column x comes from column W-1-x.
  for (int64_t i = 0; i < 64; ++i) {
    if (!mask[i].item<bool>()) continue;
    EXPECT_EQ(out[i][1][2][0].item<float>(), batch[i][1][2][4].item<float>());
    break;
  }
}

TEST(RandomHflipTest, DeterministicPerSeed) {
  const auto batch = asymmetric_batch(64);
  auto a = at::detail::createCPUGenerator(21);
  auto b = at::detail::createCPUGenerator(21);
  auto c = at::detail::createCPUGenerator(22);
  const auto out_a = random_hflip(batch, a);
  EXPECT_TRUE(torch::equal(out_a, random_hflip(batch, b)));
  EXPECT_FALSE(torch::equal(out_a, random_hflip(batch, c)));
  // The generator advances: a second call draws new flips.
  EXPECT_FALSE(torch::equal(out_a, random_hflip(batch, a)));
}

}  // namespace
}  // namespace harness

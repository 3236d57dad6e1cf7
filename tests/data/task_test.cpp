// Tests of harness/data/task.cpp: dispatch, defaults, class subsets and train-statistics normalization.
#include "harness/data/task.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstdlib>
#include <set>

#include "harness/data/seeded_split.h"
#include "harness/errors.h"
#include "tests/data/fixtures.h"

namespace harness {
namespace {

using testing::expect_error;
using testing::idx_bytes;

// An IDX folder: train 6 images (labels 0 1 2 0 1 2), test 3 (labels 2 0 1), 2 x 2 pixels.
void write_idx_folder(const std::string& dir) {
  std::vector<uint8_t> train(24), test(12);
  for (size_t i = 0; i < train.size(); ++i) train[i] = static_cast<uint8_t>(10 + 9 * i);
  for (size_t i = 0; i < test.size(); ++i) test[i] = static_cast<uint8_t>(250 - 13 * i);
  testing::write_gzip(dir + "/train-images-idx3-ubyte.gz", idx_bytes(0x803, {6, 2, 2}, train));
  testing::write_gzip(dir + "/train-labels-idx1-ubyte.gz", idx_bytes(0x801, {6}, {0, 1, 2, 0, 1, 2}));
  testing::write_bytes(dir + "/t10k-images-idx3-ubyte", idx_bytes(0x803, {3, 2, 2}, test));
  testing::write_bytes(dir + "/t10k-labels-idx1-ubyte", idx_bytes(0x801, {3}, {2, 0, 1}));
}

// Sets an environment variable for one test and restores it after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_.empty()) {
      ::unsetenv(name_);
    } else {
      ::setenv(name_, old_.c_str(), 1);
    }
  }

 private:
  const char* name_;
  std::string old_;
};

TEST(LoadTaskTest, SelectsClassesOnBothSplitsAndNormalizesWithTrainStats) {
  testing::TempDir dir;
  write_idx_folder(dir.str());
  DataSpec raw_spec{"idx", dir.str(), {}, 0.2, 0, false};
  const Split raw = load_task(raw_spec);
  EXPECT_EQ(raw.train.num_classes, 3);

  const DataSpec spec{"idx", dir.str(), {2, 0}, 0.2, 0, true};
  const Split split = load_task(spec);
  EXPECT_EQ(split.train.num_classes, 2);
  EXPECT_EQ(split.test.num_classes, 2);
  // Train images 0 2 3 5 (labels 0 2 0 2 -> 1 0 1 0), test images 0 1 (labels 2 0 -> 0 1).
  EXPECT_TRUE(torch::equal(split.train.labels, torch::tensor({1, 0, 1, 0}, torch::kInt64)));
  EXPECT_TRUE(torch::equal(split.test.labels, torch::tensor({0, 1}, torch::kInt64)));

  const auto train_raw = raw.train.images.index_select(0, torch::tensor({0, 2, 3, 5}));
  const auto test_raw = raw.test.images.index_select(0, torch::tensor({0, 1}));
  const float mean = train_raw.mean().item<float>();
  const float std = train_raw.std(/*unbiased=*/false).item<float>();
  EXPECT_NEAR(split.train.images.mean().item<float>(), 0.0f, 1e-5);
  EXPECT_NEAR(split.train.images.std(false).item<float>(), 1.0f, 1e-5);
  // Test uses the train statistics (of the selected classes), not its own.
  EXPECT_TRUE(torch::allclose(split.test.images, (test_raw - mean) / std, 1e-5, 1e-5));
  EXPECT_GT(split.test.images.mean().item<float>(), 1.0f);
}

TEST(LoadTaskTest, WithoutNormalizationKeepsUnitRange) {
  testing::TempDir dir;
  write_idx_folder(dir.str());
  const Split split = load_task({"idx", dir.str(), {}, 0.2, 0, false});
  EXPECT_EQ(split.train.images[0][0][0][0].item<float>(), 10 / 255.0f);
  EXPECT_EQ(split.test.size(), 3);
}

TEST(LoadTaskTest, UnknownDatasetListsValidNames) {
  expect_error<ConfigError>(
      [&] {
        load_task({"mnist", "", {}, 0.2, 0, true});
      },
      {"'mnist'", "fashion-mnist", "mnist-digits", "idx", "cifar10", "cifar100", "cifar100-coarse"});
}

TEST(LoadTaskTest, PathRequiredForIdxAndCifar) {
  for (const char* name : {"idx", "cifar10", "cifar100", "cifar100-coarse"}) {
    expect_error<ConfigError>([&] { load_task({name, "", {}, 0.2, 0, true}); }, {"data.path", name});
  }
}

TEST(ResolveDataPathTest, Defaults) {
  ScopedEnv env("HARNESS_DATA_DIR", "");
  EXPECT_EQ(resolve_data_path({"fashion-mnist", "", {}, 0.2, 0, true}, "/d"), "/usr/share/datasets/fashion-mnist");
  EXPECT_EQ(resolve_data_path({"mnist-digits", "", {}, 0.2, 0, true}, "/d"), "/d/mnist-digits");
  EXPECT_EQ(resolve_data_path({"cifar10", "/x", {}, 0.2, 0, true}, "/d"), "/x");
  EXPECT_FALSE(default_data_dir().empty());
}

TEST(ResolveDataPathTest, DigitsFollowHarnessDataDir) {
  testing::TempDir dir;
  {
    ScopedEnv env("HARNESS_DATA_DIR", dir.str());
    EXPECT_EQ(resolve_data_path({"mnist-digits", "", {}, 0.2, 0, true}, "/d"), dir.str() + "/mnist-digits");
    // A repository root works too: its data/mnist-digits is found.
    testing::write_text(dir.str() + "/data/mnist-digits/0.json", "{}");
    EXPECT_EQ(resolve_data_path({"mnist-digits", "", {}, 0.2, 0, true}, "/d"), dir.str() + "/data/mnist-digits");
  }
}

TEST(LoadTaskTest, MnistDigitsThroughHarnessDataDir) {
  testing::TempDir dir;
  for (int c = 0; c < 10; ++c) {
    std::string text = "{\"data\": [";
    for (int i = 0; i < 5 * 784; ++i) text += (i ? "," : "") + std::to_string((i * 7 + c) % 3 / 2.0);
    testing::write_text(dir.str() + "/mnist-digits/" + std::to_string(c) + ".json", text + "]}");
  }
  ScopedEnv env("HARNESS_DATA_DIR", dir.str());
  const Split split = load_task({"mnist-digits", "", {5, 6, 7, 8, 9}, 0.4, 3, true});
  EXPECT_EQ(split.train.num_classes, 5);
  EXPECT_EQ(split.train.size(), 5 * 3);
  EXPECT_EQ(split.test.size(), 5 * 2);
  EXPECT_EQ(split.train.labels.max().item<int64_t>(), 4);
  EXPECT_NEAR(split.train.images.mean().item<float>(), 0.0f, 1e-5);
}

TEST(LoadTaskTest, MnistDigitsWithoutTestShareKeepsEmptyTest) {
  testing::TempDir dir;
  for (int c = 0; c < 10; ++c) {
    std::string text = "{\"data\": [";
    for (int i = 0; i < 784; ++i) text += (i ? "," : "") + std::to_string(i % 2);
    testing::write_text(dir.file(std::to_string(c) + ".json"), text + "]}");
  }
  const Split split = load_task({"mnist-digits", dir.str(), {1, 2}, 0.0, 0, true});
  EXPECT_EQ(split.train.size(), 2);
  EXPECT_EQ(split.test.size(), 0);
  EXPECT_EQ(split.test.num_classes, 2);
}

TEST(LoadTaskTest, Cifar100CoarseSubset) {
  testing::TempDir dir;
  std::vector<uint8_t> train, test;
  for (uint8_t coarse : {4, 7, 4, 9}) {
    train.push_back(coarse);
    train.push_back(static_cast<uint8_t>(coarse * 5));
    for (int k = 0; k < 3072; ++k) train.push_back(static_cast<uint8_t>((k * coarse + k / 1024 * 60) % 256));
  }
  test.assign(train.begin(), train.begin() + 3074);
  testing::write_bytes(dir.file("train.bin"), train);
  testing::write_bytes(dir.file("test.bin"), test);
  const Split split = load_task({"cifar100-coarse", dir.str(), {7, 4}, 0.2, 0, true});
  EXPECT_TRUE(torch::equal(split.train.labels, torch::tensor({1, 0, 1}, torch::kInt64)));
  EXPECT_EQ(split.train.images.sizes(), torch::IntArrayRef({3, 3, 32, 32}));
  const auto per_channel = split.train.images.transpose(0, 1).reshape({3, -1});
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(per_channel[c].mean().item<float>(), 0.0f, 1e-5);
}

}  // namespace
}  // namespace harness

namespace harness {
namespace {

// An IDX folder: train 60 images, labels 0 1 2 0 1 2 ... (20 per class), image i's first pixel i;
// test 9 images (labels 0 1 2 ...), first pixel 200 + i.
void write_idx_folder_for_validation(const std::string& dir) {
  std::vector<uint8_t> train(60 * 4, 7), test(9 * 4, 9), train_labels(60), test_labels(9);
  for (size_t i = 0; i < 60; ++i) train[4 * i] = static_cast<uint8_t>(i), train_labels[i] = static_cast<uint8_t>(i % 3);
  for (size_t i = 0; i < 9; ++i) test[4 * i] = static_cast<uint8_t>(200 + i), test_labels[i] = static_cast<uint8_t>(i % 3);
  testing::write_bytes(dir + "/train-images-idx3-ubyte", idx_bytes(0x803, {60, 2, 2}, train));
  testing::write_bytes(dir + "/train-labels-idx1-ubyte", idx_bytes(0x801, {60}, train_labels));
  testing::write_bytes(dir + "/t10k-images-idx3-ubyte", idx_bytes(0x803, {9, 2, 2}, test));
  testing::write_bytes(dir + "/t10k-labels-idx1-ubyte", idx_bytes(0x801, {9}, test_labels));
}

// The first pixel of each image as the byte it was written from: which image it is.
std::vector<int64_t> image_ids(const Dataset& d) {
  const auto ids = (d.images.select(1, 0).select(1, 0).select(1, 0) * 255.0f).round().to(torch::kLong);
  return std::vector<int64_t>(ids.data_ptr<int64_t>(), ids.data_ptr<int64_t>() + ids.numel());
}

DataSpec validation_spec(const std::string& dir, double fraction, uint64_t split_seed = 0) {
  DataSpec spec{"idx", dir, {}, 0.2, split_seed, false};
  spec.validation_fraction = fraction;
  return spec;
}

TEST(ValidationSplit, IsStratifiedDisjointFromTrainAndTestAndTakesOnlyTrainingImages) {
  testing::TempDir dir;
  write_idx_folder_for_validation(dir.str());
  const Split none = load_task(validation_spec(dir.str(), 0.0));
  EXPECT_EQ(none.validation.size(), 0);
  const Split split = load_task(validation_spec(dir.str(), 0.25));
  ASSERT_EQ(split.validation.size(), 15);  // round(20 * 0.25) = 5 of each class
  EXPECT_EQ(split.train.size(), 45);
  EXPECT_EQ(split.validation.num_classes, 3);
  for (int64_t c = 0; c < 3; ++c) {
    EXPECT_EQ(split.validation.labels.eq(c).sum().item<int64_t>(), 5) << "class " << c;
    EXPECT_EQ(split.train.labels.eq(c).sum().item<int64_t>(), 15) << "class " << c;
  }
  // The test split is the one without validation, image for image.
  EXPECT_TRUE(torch::equal(split.test.images, none.test.images));
  EXPECT_TRUE(torch::equal(split.test.labels, none.test.labels));
  // Train and validation partition the original training split, each in its original order,
  // and every image keeps its label.
  const std::vector<int64_t> train = image_ids(split.train), validation = image_ids(split.validation);
  std::set<int64_t> all(train.begin(), train.end());
  for (int64_t id : validation) EXPECT_TRUE(all.insert(id).second) << "image " << id << " is in both";
  EXPECT_EQ(all.size(), 60u);
  EXPECT_TRUE(std::is_sorted(train.begin(), train.end()));
  EXPECT_TRUE(std::is_sorted(validation.begin(), validation.end()));
  for (std::size_t i = 0; i < validation.size(); ++i) {
    EXPECT_EQ(split.validation.labels[static_cast<int64_t>(i)].item<int64_t>(), validation[i] % 3);
  }
  for (int64_t id : image_ids(split.test)) EXPECT_GE(id, 200);
}

TEST(ValidationSplit, IsFixedBySplitSeedAloneAndNormalizedWithTheRemainingTrainStatistics) {
  testing::TempDir dir;
  write_idx_folder_for_validation(dir.str());
  const Split a = load_task(validation_spec(dir.str(), 0.25));
  const Split b = load_task(validation_spec(dir.str(), 0.25));
  EXPECT_EQ(image_ids(a.validation), image_ids(b.validation));  // nothing but split_seed draws it
  const Split other = load_task(validation_spec(dir.str(), 0.25, 7));
  EXPECT_NE(image_ids(a.validation), image_ids(other.validation));
  // The draw is seeded_validation_mask's, per class, over the training labels.
  std::vector<int64_t> labels(60);
  for (int64_t i = 0; i < 60; ++i) labels[static_cast<std::size_t>(i)] = i % 3;
  const std::vector<bool> mask = seeded_validation_mask(labels, 0.25, 0);
  std::vector<int64_t> expected;
  for (int64_t i = 0; i < 60; ++i) {
    if (mask[static_cast<std::size_t>(i)]) expected.push_back(i);
  }
  EXPECT_EQ(image_ids(a.validation), expected);

  DataSpec normalized = validation_spec(dir.str(), 0.25);
  normalized.normalize = true;
  const Split n = load_task(normalized);
  const float mean = a.train.images.mean().item<float>();
  const float std = a.train.images.std(/*unbiased=*/false).item<float>();
  EXPECT_NEAR(n.train.images.mean().item<float>(), 0.0f, 1e-5);
  EXPECT_TRUE(torch::allclose(n.validation.images, (a.validation.images - mean) / std, 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(n.test.images, (a.test.images - mean) / std, 1e-5, 1e-5));
}

TEST(ValidationSplit, TheMaskIsStratifiedForAnyLabelOrder) {
  std::vector<int64_t> labels;
  for (int64_t i = 0; i < 1000; ++i) labels.push_back((i * 7) % 4);  // 250 per class, interleaved
  const std::vector<bool> mask = seeded_validation_mask(labels, 0.1, 3);
  std::vector<int64_t> per_class(4, 0);
  for (std::size_t i = 0; i < labels.size(); ++i) per_class[static_cast<std::size_t>(labels[i])] += mask[i];
  EXPECT_EQ(per_class, (std::vector<int64_t>{25, 25, 25, 25}));
  // Not the test split's draw: a test mask of the same seed over class 0 picks other items.
  std::vector<std::size_t> class0;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] == 0) class0.push_back(i);
  }
  const std::vector<bool> test_mask = seeded_test_mask(250, 0.1, 3, 0);
  std::vector<bool> validation_of_class0;
  for (std::size_t i : class0) validation_of_class0.push_back(mask[i]);
  EXPECT_NE(validation_of_class0, test_mask);
}

}  // namespace
}  // namespace harness

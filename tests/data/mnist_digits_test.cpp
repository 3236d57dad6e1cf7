// Tests of harness/data/mnist_digits.cpp on generated digits JSON files.
#include "harness/data/mnist_digits.h"

#include <torch/torch.h>

#include <set>
#include <sstream>

#include "harness/errors.h"
#include "tests/data/fixtures.h"

namespace harness {
namespace {

using testing::expect_error;

constexpr int kPixels = 784;

// Pixel p of image i of class c. Pixel 0 is a unique id so every image can be traced;
// the rest mixes exact integers (0, 1) and decimals as the npm files do.
double pixel(int c, int i, int p) {
  if (p == 0) return (c * 100 + i) / 10000.0;
  const int v = (c * 13 + i * 7 + p) % 5;
  return v == 0 ? 0.0 : v == 1 ? 1.0 : v / 8.0;
}

std::string digits_json(int c, int n) {
  std::ostringstream out;
  out.precision(17);
  out << "{ \"data\": [";
  for (int i = 0; i < n; ++i) {
    for (int p = 0; p < kPixels; ++p) out << (i || p ? "," : "") << pixel(c, i, p);
  }
  out << "]}";
  return out.str();
}

class MnistDigitsTest : public ::testing::Test {
 protected:
  // Class c gets 10 + c images.
  void SetUp() override {
    for (int c = 0; c < 10; ++c) testing::write_text(file(c), digits_json(c, count(c)));
  }
  static int count(int c) { return 10 + c; }
  std::string file(int c) const { return dir_.file(std::to_string(c) + ".json"); }
  void expect_file_error(int c, const std::string& text, std::initializer_list<std::string> pieces) {
    testing::write_text(file(c), text);
    expect_error<DataError>([&] { load_mnist_digits(dir_.str(), 0.2, 0); }, pieces);
  }

  testing::TempDir dir_;
};

// The unique ids (pixel 0 * 10000) of a split's images.
std::multiset<int> ids(const Dataset& data) {
  std::multiset<int> out;
  const auto first = data.images.select(3, 0).select(2, 0).select(1, 0);
  for (int64_t i = 0; i < data.size(); ++i) out.insert(static_cast<int>(std::lround(first[i].item<float>() * 10000)));
  return out;
}

TEST_F(MnistDigitsTest, SplitsEachClassByTheTestFraction) {
  const Split split = load_mnist_digits(dir_.str(), 0.2, 0);
  EXPECT_EQ(split.train.num_classes, 10);
  EXPECT_EQ(split.test.num_classes, 10);
  EXPECT_EQ(split.train.images.sizes(), torch::IntArrayRef({split.train.size(), 1, 28, 28}));
  const auto train_counts = torch::bincount(split.train.labels, {}, 10);
  const auto test_counts = torch::bincount(split.test.labels, {}, 10);
  for (int c = 0; c < 10; ++c) {
    const int64_t expected_test = std::llround(count(c) * 0.2);
    EXPECT_EQ(test_counts[c].item<int64_t>(), expected_test) << "class " << c;
    EXPECT_EQ(train_counts[c].item<int64_t>(), count(c) - expected_test) << "class " << c;
  }
  // Every image lands in exactly one split, with its own class's label.
  std::multiset<int> all = ids(split.train);
  const auto test_ids = ids(split.test);
  all.insert(test_ids.begin(), test_ids.end());
  std::multiset<int> expected;
  for (int c = 0; c < 10; ++c) {
    for (int i = 0; i < count(c); ++i) expected.insert(c * 100 + i);
  }
  EXPECT_EQ(all, expected);
  const auto first = split.train.images.select(3, 0).select(2, 0).select(1, 0);
  for (int64_t i = 0; i < split.train.size(); ++i) {
    EXPECT_EQ(split.train.labels[i].item<int64_t>(), std::lround(first[i].item<float>() * 10000) / 100);
  }
}

TEST_F(MnistDigitsTest, ReadsPixelValuesExactly) {
  const Split split = load_mnist_digits(dir_.str(), 0.0, 0);
  ASSERT_EQ(split.test.size(), 0);
  // With no test share, train holds the files in order: class 0's image 0 first.
  std::vector<float> expected(kPixels);
  for (int p = 0; p < kPixels; ++p) expected[p] = static_cast<float>(pixel(3, 4, p));
  const int64_t row = 10 + 11 + 12 + 4;  // classes 0..2, then image 4 of class 3
  EXPECT_TRUE(torch::equal(split.train.images[row].flatten(), torch::tensor(expected)));
  EXPECT_EQ(split.train.labels[row].item<int64_t>(), 3);
}

TEST_F(MnistDigitsTest, SplitIsDeterministicPerSeed) {
  const Split a = load_mnist_digits(dir_.str(), 0.3, 5);
  const Split b = load_mnist_digits(dir_.str(), 0.3, 5);
  const Split c = load_mnist_digits(dir_.str(), 0.3, 6);
  EXPECT_TRUE(torch::equal(a.test.images, b.test.images));
  EXPECT_TRUE(torch::equal(a.train.images, b.train.images));
  EXPECT_EQ(a.test.size(), c.test.size());
  EXPECT_NE(ids(a.test), ids(c.test));
}

TEST_F(MnistDigitsTest, IgnoresOtherKeys) {
  testing::write_text(file(0),
                      "{\"meta\": {\"x\": [1, [2, \"y\"]], \"data\": 5}, \"data\": [" + digits_json(0, 1).substr(11));
  const Split split = load_mnist_digits(dir_.str(), 0.0, 0);
  EXPECT_EQ(torch::bincount(split.train.labels, {}, 10)[0].item<int64_t>(), 1);
}

TEST_F(MnistDigitsTest, RejectsTestFractionOutsideUnitInterval) {
  expect_error<ConfigError>([&] { load_mnist_digits(dir_.str(), 1.0, 0); }, {"test_fraction", dir_.str()});
  expect_error<ConfigError>([&] { load_mnist_digits(dir_.str(), -0.1, 0); }, {"test_fraction"});
}

TEST_F(MnistDigitsTest, RejectsMissingFile) {
  std::filesystem::remove(file(3));
  expect_error<DataError>([&] { load_mnist_digits(dir_.str(), 0.2, 0); }, {file(3), "cannot open"});
}

TEST_F(MnistDigitsTest, RejectsText) { expect_file_error(4, "{ \"data\": [0, 1,", {file(4), "not valid JSON"}); }
TEST_F(MnistDigitsTest, RejectsGarbage) { expect_file_error(4, "hello", {file(4), "not valid JSON"}); }
TEST_F(MnistDigitsTest, RejectsMissingDataKey) {
  expect_file_error(5, "{\"pixels\": [0, 1]}", {file(5), "no \"data\" key"});
}
TEST_F(MnistDigitsTest, RejectsTopLevelArray) { expect_file_error(5, "[0, 1]", {file(5), "top-level"}); }
TEST_F(MnistDigitsTest, RejectsDataString) {
  expect_file_error(6, "{\"data\": \"0,1\"}", {file(6), "\"data\" is a string"});
}
TEST_F(MnistDigitsTest, RejectsDataObject) {
  expect_file_error(6, "{\"data\": {\"a\": 1}}", {file(6), "\"data\" is an object"});
}
TEST_F(MnistDigitsTest, RejectsNonNumberElement) {
  expect_file_error(7, "{\"data\": [0, 0.5, \"1\"]}", {file(7), "data[2] is a string"});
}
TEST_F(MnistDigitsTest, RejectsNestedArray) {
  expect_file_error(7, "{\"data\": [0, [0.5]]}", {file(7), "data[1] is an array"});
}
TEST_F(MnistDigitsTest, RejectsLengthNotMultipleOf784) {
  std::string text = digits_json(8, 2);
  text = text.substr(0, text.rfind(',')) + "]}";  // drop the last value
  expect_file_error(8, text, {file(8), "1567 values", "multiple of 784"});
}
TEST_F(MnistDigitsTest, RejectsEmptyData) { expect_file_error(8, "{\"data\": []}", {file(8), "empty"}); }
TEST_F(MnistDigitsTest, RejectsValueAboveOne) {
  expect_file_error(9, "{\"data\": [0, 1, 1.5]}", {file(9), "data[2] = 1.5", "outside [0, 1]"});
}
TEST_F(MnistDigitsTest, RejectsNegativeValue) {
  expect_file_error(9, "{\"data\": [-0.25]}", {file(9), "data[0] = -0.25", "outside [0, 1]"});
}

}  // namespace
}  // namespace harness

// Tests of harness/data/idx_reader.cpp on generated IDX files, gzip and plain.
#include "harness/data/idx_reader.h"

#include <torch/torch.h>

#include "harness/errors.h"
#include "tests/data/fixtures.h"

namespace harness {
namespace {

using testing::expect_error;
using testing::idx_bytes;
using testing::image_payload;

constexpr uint32_t kImages = 0x00000803;
constexpr uint32_t kLabels = 0x00000801;

class IdxReaderTest : public ::testing::Test {
 protected:
  // 5 images of 3 x 4 and labels 0 3 1 3 2.
  void write_valid(const std::string& images, const std::string& labels, bool gzip) {
    const auto image_file = idx_bytes(kImages, {5, 3, 4}, image_payload(5, 3, 4));
    const auto label_file = idx_bytes(kLabels, {5}, labels_);
    if (gzip) {
      testing::write_gzip(images, image_file);
      testing::write_gzip(labels, label_file);
    } else {
      testing::write_bytes(images, image_file);
      testing::write_bytes(labels, label_file);
    }
  }

  testing::TempDir dir_;
  std::vector<uint8_t> labels_{0, 3, 1, 3, 2};
};

TEST_F(IdxReaderTest, ReadsPlainFilesAsUnitRangeFloats) {
  write_valid(dir_.file("img"), dir_.file("lab"), false);
  const Dataset data = read_idx(dir_.file("img"), dir_.file("lab"));
  EXPECT_EQ(data.images.sizes(), torch::IntArrayRef({5, 1, 3, 4}));
  EXPECT_EQ(data.images.scalar_type(), torch::kFloat32);
  EXPECT_EQ(data.labels.scalar_type(), torch::kInt64);
  EXPECT_EQ(data.num_classes, 4);
  EXPECT_EQ(data.size(), 5);
  const auto payload = image_payload(5, 3, 4);
  const auto expected =
      torch::tensor(std::vector<float>(payload.begin(), payload.end())).div(255.0f).view({5, 1, 3, 4});
  EXPECT_TRUE(torch::equal(data.images, expected));
  EXPECT_TRUE(torch::equal(data.labels, torch::tensor({0, 3, 1, 3, 2}, torch::kInt64)));
  EXPECT_THAT(data.origin, ::testing::HasSubstr("img"));
}

TEST_F(IdxReaderTest, GzipAndPlainGiveTheSameData) {
  write_valid(dir_.file("img"), dir_.file("lab"), false);
  write_valid(dir_.file("img.gz"), dir_.file("lab.gz"), true);
  ASSERT_EQ(testing::read_bytes(dir_.file("img.gz"))[0], 0x1f);  // really compressed
  const Dataset plain = read_idx(dir_.file("img"), dir_.file("lab"));
  const Dataset gz = read_idx(dir_.file("img.gz"), dir_.file("lab.gz"));
  EXPECT_TRUE(torch::equal(plain.images, gz.images));
  EXPECT_TRUE(torch::equal(plain.labels, gz.labels));
  EXPECT_EQ(gz.num_classes, 4);
}

TEST_F(IdxReaderTest, ExtremeBytesMapToZeroAndOne) {
  testing::write_bytes(dir_.file("img"), idx_bytes(kImages, {1, 1, 2}, {0, 255}));
  testing::write_bytes(dir_.file("lab"), idx_bytes(kLabels, {1}, {0}));
  const Dataset data = read_idx(dir_.file("img"), dir_.file("lab"));
  EXPECT_EQ(data.images[0][0][0][0].item<float>(), 0.0f);
  EXPECT_EQ(data.images[0][0][0][1].item<float>(), 1.0f);
  EXPECT_EQ(data.num_classes, 1);
}

TEST_F(IdxReaderTest, RejectsBadImageMagic) {
  write_valid(dir_.file("img"), dir_.file("lab"), false);
  // A labels file passed as images.
  expect_error<DataError>([&] { read_idx(dir_.file("lab"), dir_.file("lab")); },
                          {dir_.file("lab"), "bad magic number 0x00000801", "expected 0x00000803 for IDX images"});
}

TEST_F(IdxReaderTest, RejectsBadLabelMagicInGzip) {
  write_valid(dir_.file("img.gz"), dir_.file("lab.gz"), true);
  testing::write_gzip(dir_.file("bad.gz"), idx_bytes(0x00000901, {5}, labels_));
  expect_error<DataError>([&] { read_idx(dir_.file("img.gz"), dir_.file("bad.gz")); },
                          {dir_.file("bad.gz"), "bad magic number 0x00000901", "expected 0x00000801 for IDX labels"});
}

TEST_F(IdxReaderTest, RejectsZeroDimension) {
  write_valid(dir_.file("img"), dir_.file("lab"), false);
  testing::write_bytes(dir_.file("zero"), idx_bytes(kImages, {5, 0, 4}, {}));
  expect_error<DataError>([&] { read_idx(dir_.file("zero"), dir_.file("lab")); },
                          {dir_.file("zero"), "dimension 1 is 0"});
}

TEST_F(IdxReaderTest, RejectsTruncatedPayload) {
  write_valid(dir_.file("img"), dir_.file("lab"), false);
  auto bytes = idx_bytes(kImages, {5, 3, 4}, image_payload(5, 3, 4));
  bytes.resize(bytes.size() - 3);
  testing::write_bytes(dir_.file("short"), bytes);
  expect_error<DataError>([&] { read_idx(dir_.file("short"), dir_.file("lab")); },
                          {dir_.file("short"), "truncated", "promises 60", "found 57"});
}

TEST_F(IdxReaderTest, RejectsTruncatedHeader) {
  write_valid(dir_.file("img"), dir_.file("lab"), false);
  auto bytes = idx_bytes(kImages, {5, 3, 4}, {});
  bytes.resize(10);
  testing::write_bytes(dir_.file("short"), bytes);
  expect_error<DataError>([&] { read_idx(dir_.file("short"), dir_.file("lab")); },
                          {dir_.file("short"), "truncated IDX header"});
  testing::write_bytes(dir_.file("tiny"), {0, 0});
  expect_error<DataError>([&] { read_idx(dir_.file("tiny"), dir_.file("lab")); }, {dir_.file("tiny"), "too short"});
}

TEST_F(IdxReaderTest, RejectsTruncatedGzipStream) {
  write_valid(dir_.file("img.gz"), dir_.file("lab.gz"), true);
  auto compressed = testing::read_bytes(dir_.file("img.gz"));
  compressed.resize(compressed.size() / 2);
  testing::write_bytes(dir_.file("cut.gz"), compressed);
  expect_error<DataError>([&] { read_idx(dir_.file("cut.gz"), dir_.file("lab.gz")); },
                          {dir_.file("cut.gz"), "truncated"});
}

TEST_F(IdxReaderTest, RejectsTrailingBytes) {
  write_valid(dir_.file("img"), dir_.file("lab"), false);
  auto bytes = idx_bytes(kLabels, {5}, labels_);
  bytes.push_back(1);
  testing::write_bytes(dir_.file("long"), bytes);
  expect_error<DataError>([&] { read_idx(dir_.file("img"), dir_.file("long")); },
                          {dir_.file("long"), "1 unexpected bytes"});
}

TEST_F(IdxReaderTest, RejectsCountMismatch) {
  write_valid(dir_.file("img"), dir_.file("lab"), false);
  testing::write_bytes(dir_.file("four"), idx_bytes(kLabels, {4}, {0, 1, 2, 3}));
  expect_error<DataError>([&] { read_idx(dir_.file("img"), dir_.file("four")); },
                          {dir_.file("four"), "4 labels", dir_.file("img"), "5 images"});
}

TEST_F(IdxReaderTest, RejectsMissingFile) {
  write_valid(dir_.file("img"), dir_.file("lab"), false);
  expect_error<DataError>([&] { read_idx(dir_.file("img"), dir_.file("nope")); }, {dir_.file("nope"), "no such file"});
}

TEST_F(IdxReaderTest, LoadsAFolderOfGzipAndPlainFiles) {
  write_valid(dir_.file("train-images-idx3-ubyte.gz"), dir_.file("train-labels-idx1-ubyte.gz"), true);
  testing::write_bytes(dir_.file("t10k-images-idx3-ubyte"), idx_bytes(kImages, {2, 3, 4}, image_payload(2, 3, 4)));
  testing::write_bytes(dir_.file("t10k-labels-idx1-ubyte"), idx_bytes(kLabels, {2}, {1, 0}));
  const Split split = load_idx_dir(dir_.str());
  EXPECT_EQ(split.train.size(), 5);
  EXPECT_EQ(split.test.size(), 2);
  // Train's label range wins for both splits.
  EXPECT_EQ(split.train.num_classes, 4);
  EXPECT_EQ(split.test.num_classes, 4);
  EXPECT_TRUE(torch::equal(split.test.labels, torch::tensor({1, 0}, torch::kInt64)));
}

TEST_F(IdxReaderTest, FolderRejectsTestClassUnseenInTrain) {
  write_valid(dir_.file("train-images-idx3-ubyte"), dir_.file("train-labels-idx1-ubyte"), false);
  testing::write_bytes(dir_.file("t10k-images-idx3-ubyte"), idx_bytes(kImages, {2, 3, 4}, image_payload(2, 3, 4)));
  testing::write_bytes(dir_.file("t10k-labels-idx1-ubyte"), idx_bytes(kLabels, {2}, {1, 7}));
  expect_error<DataError>([&] { load_idx_dir(dir_.str()); }, {"t10k-labels-idx1-ubyte", "label 7", "never occurs"});
}

TEST_F(IdxReaderTest, FolderNamesTheMissingFile) {
  write_valid(dir_.file("train-images-idx3-ubyte"), dir_.file("train-labels-idx1-ubyte"), false);
  expect_error<DataError>([&] { load_idx_dir(dir_.str()); }, {dir_.str(), "t10k-labels-idx1-ubyte"});
}

}  // namespace
}  // namespace harness

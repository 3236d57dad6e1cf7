// Tests of harness/data/cifar_reader.cpp on generated CIFAR-10/100 binary files.
#include "harness/data/cifar_reader.h"

#include <torch/torch.h>

#include "harness/errors.h"
#include "tests/data/fixtures.h"

namespace harness {
namespace {

using testing::expect_error;

constexpr int kImageBytes = 3072;

// Byte k of image `id`: a pattern that differs across channels, rows and columns.
uint8_t pixel(int id, int k) { return static_cast<uint8_t>((id * 31 + k * 5 + k / 1024) % 256); }

// Records with the given label bytes (1 per record for CIFAR-10, coarse+fine for 100).
std::vector<uint8_t> records(const std::vector<std::vector<uint8_t>>& labels, int first_id) {
  std::vector<uint8_t> out;
  for (size_t r = 0; r < labels.size(); ++r) {
    out.insert(out.end(), labels[r].begin(), labels[r].end());
    for (int k = 0; k < kImageBytes; ++k) out.push_back(pixel(first_id + static_cast<int>(r), k));
  }
  return out;
}

class CifarReaderTest : public ::testing::Test {
 protected:
  testing::TempDir dir_;
};

TEST_F(CifarReaderTest, ReadsCifar10RecordsAsChw) {
  testing::write_bytes(dir_.file("a.bin"), records({{3}, {9}, {0}}, 0));
  const Dataset data = read_cifar({dir_.file("a.bin")}, CifarKind::Cifar10);
  EXPECT_EQ(data.images.sizes(), torch::IntArrayRef({3, 3, 32, 32}));
  EXPECT_EQ(data.num_classes, 10);
  EXPECT_TRUE(torch::equal(data.labels, torch::tensor({3, 9, 0}, torch::kInt64)));
  // Channel c, row y, column x is byte c*1024 + y*32 + x of the image.
  for (int id : {0, 2}) {
    for (auto [c, y, x] : {std::array<int, 3>{0, 0, 0}, {1, 2, 3}, {2, 31, 30}}) {
      EXPECT_EQ(data.images[id][c][y][x].item<float>(), pixel(id, c * 1024 + y * 32 + x) / 255.0f);
    }
  }
  EXPECT_LE(data.images.max().item<float>(), 1.0f);
  EXPECT_GE(data.images.min().item<float>(), 0.0f);
}

TEST_F(CifarReaderTest, ConcatenatesFilesInOrder) {
  testing::write_bytes(dir_.file("a.bin"), records({{1}, {2}}, 0));
  testing::write_bytes(dir_.file("b.bin"), records({{5}}, 2));
  const Dataset data = read_cifar({dir_.file("a.bin"), dir_.file("b.bin")}, CifarKind::Cifar10);
  EXPECT_TRUE(torch::equal(data.labels, torch::tensor({1, 2, 5}, torch::kInt64)));
  EXPECT_EQ(data.images[2][1][0][0].item<float>(), pixel(2, 1024) / 255.0f);
}

TEST_F(CifarReaderTest, Cifar100UsesFineOrCoarseLabel) {
  testing::write_bytes(dir_.file("c.bin"), records({{3, 42}, {19, 99}}, 0));
  const Dataset fine = read_cifar({dir_.file("c.bin")}, CifarKind::Cifar100Fine);
  const Dataset coarse = read_cifar({dir_.file("c.bin")}, CifarKind::Cifar100Coarse);
  EXPECT_TRUE(torch::equal(fine.labels, torch::tensor({42, 99}, torch::kInt64)));
  EXPECT_TRUE(torch::equal(coarse.labels, torch::tensor({3, 19}, torch::kInt64)));
  EXPECT_EQ(fine.num_classes, 100);
  EXPECT_EQ(coarse.num_classes, 20);
  EXPECT_EQ(fine.images[1][2][5][7].item<float>(), pixel(1, 2048 + 5 * 32 + 7) / 255.0f);
}

TEST_F(CifarReaderTest, RejectsPartialRecord) {
  auto bytes = records({{1}, {2}}, 0);
  bytes.pop_back();
  testing::write_bytes(dir_.file("cut.bin"), bytes);
  expect_error<DataError>([&] { read_cifar({dir_.file("cut.bin")}, CifarKind::Cifar10); },
                          {dir_.file("cut.bin"), "not a multiple", "3073"});
  // A CIFAR-10 file read as CIFAR-100 is caught the same way.
  testing::write_bytes(dir_.file("ten.bin"), records({{1}, {2}}, 0));
  expect_error<DataError>([&] { read_cifar({dir_.file("ten.bin")}, CifarKind::Cifar100Fine); },
                          {dir_.file("ten.bin"), "3074"});
}

TEST_F(CifarReaderTest, RejectsLabelOutOfRange) {
  testing::write_bytes(dir_.file("bad.bin"), records({{1}, {10}}, 0));
  expect_error<DataError>([&] { read_cifar({dir_.file("bad.bin")}, CifarKind::Cifar10); },
                          {dir_.file("bad.bin"), "record 1", "label 10"});
  testing::write_bytes(dir_.file("bad100.bin"), records({{20, 5}}, 0));
  expect_error<DataError>([&] { read_cifar({dir_.file("bad100.bin")}, CifarKind::Cifar100Coarse); },
                          {dir_.file("bad100.bin"), "label 20"});
}

TEST_F(CifarReaderTest, RejectsEmptyAndMissingFiles) {
  testing::write_bytes(dir_.file("empty.bin"), {});
  expect_error<DataError>([&] { read_cifar({dir_.file("empty.bin")}, CifarKind::Cifar10); },
                          {dir_.file("empty.bin"), "empty"});
  expect_error<DataError>([&] { read_cifar({dir_.file("none.bin")}, CifarKind::Cifar10); },
                          {dir_.file("none.bin"), "no such file"});
}

TEST_F(CifarReaderTest, LoadsCifar10FolderAndArchiveSubfolder) {
  const std::string folder = dir_.file("cifar-10-batches-bin");
  for (int b = 1; b <= 5; ++b) {
    testing::write_bytes(folder + "/data_batch_" + std::to_string(b) + ".bin", records({{uint8_t(b)}, {0}}, b * 2));
  }
  testing::write_bytes(folder + "/test_batch.bin", records({{7}}, 100));
  for (const std::string& dir : {folder, dir_.str()}) {
    const Split split = load_cifar_dir(dir, CifarKind::Cifar10);
    EXPECT_EQ(split.train.size(), 10);
    EXPECT_EQ(split.test.size(), 1);
    EXPECT_TRUE(torch::equal(split.train.labels, torch::tensor({1, 0, 2, 0, 3, 0, 4, 0, 5, 0}, torch::kInt64)));
    EXPECT_EQ(split.test.labels[0].item<int64_t>(), 7);
  }
  std::filesystem::remove(folder + "/data_batch_3.bin");
  expect_error<DataError>([&] { load_cifar_dir(folder, CifarKind::Cifar10); }, {"data_batch_3.bin"});
}

TEST_F(CifarReaderTest, LoadsCifar100Folder) {
  testing::write_bytes(dir_.file("train.bin"), records({{1, 11}, {2, 22}, {3, 33}}, 0));
  testing::write_bytes(dir_.file("test.bin"), records({{4, 44}}, 3));
  const Split fine = load_cifar_dir(dir_.str(), CifarKind::Cifar100Fine);
  EXPECT_EQ(fine.train.size(), 3);
  EXPECT_TRUE(torch::equal(fine.test.labels, torch::tensor({44}, torch::kInt64)));
  const Split coarse = load_cifar_dir(dir_.str(), CifarKind::Cifar100Coarse);
  EXPECT_TRUE(torch::equal(coarse.train.labels, torch::tensor({1, 2, 3}, torch::kInt64)));
}

}  // namespace
}  // namespace harness

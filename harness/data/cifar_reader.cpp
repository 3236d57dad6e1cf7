// CIFAR binary reader: fixed-size records of label byte(s) followed by a 32x32x3 CHW image.
#include "harness/data/cifar_reader.h"

#include <array>
#include <cstring>

#include "harness/data/file_bytes.h"
#include "harness/errors.h"

namespace harness {
namespace {

constexpr int64_t kSide = 32;
constexpr int64_t kChannels = 3;
constexpr int64_t kImageBytes = kChannels * kSide * kSide;  // 3072

struct Layout {
  int64_t label_bytes;   // label bytes in front of each image
  int64_t label_offset;  // which of them is the label we keep
  int64_t classes;
};

Layout layout_of(CifarKind kind) {
  switch (kind) {
    case CifarKind::Cifar10:
      return {1, 0, 10};
    case CifarKind::Cifar100Fine:
      return {2, 1, 100};
    case CifarKind::Cifar100Coarse:
      return {2, 0, 20};
  }
  throw DataError("unknown CIFAR kind");
}

}  // namespace

std::string cifar_kind_name(CifarKind kind) {
  switch (kind) {
    case CifarKind::Cifar10:
      return "cifar10";
    case CifarKind::Cifar100Fine:
      return "cifar100";
    case CifarKind::Cifar100Coarse:
      return "cifar100-coarse";
  }
  return "cifar";
}

Dataset read_cifar(const std::vector<std::string>& files, CifarKind kind) {
  if (files.empty()) throw DataError("read_cifar: no files given for " + cifar_kind_name(kind));
  const Layout layout = layout_of(kind);
  const int64_t record = layout.label_bytes + kImageBytes;

  std::vector<std::vector<uint8_t>> contents;
  int64_t n = 0;
  for (const std::string& path : files) {
    contents.push_back(read_file_bytes(path));
    const int64_t size = static_cast<int64_t>(contents.back().size());
    if (size == 0) throw DataError(path + ": empty file, expected " + cifar_kind_name(kind) + " records");
    if (size % record != 0) {
      throw DataError(path + ": size " + std::to_string(size) + " bytes is not a multiple of the " +
                      cifar_kind_name(kind) + " record size " + std::to_string(record) + " (" +
                      std::to_string(layout.label_bytes) + " label byte(s) + 3072 image bytes)");
    }
    n += size / record;
  }

  std::array<float, 256> scale{};
  for (int b = 0; b < 256; ++b) scale[b] = static_cast<float>(b) / 255.0f;
  Dataset data;
  data.images = torch::empty({n, kChannels, kSide, kSide}, torch::kFloat32);
  data.labels = torch::empty({n}, torch::kInt64);
  data.num_classes = layout.classes;
  data.origin =
      files.size() == 1 ? files.front() : files.front() + " (+" + std::to_string(files.size() - 1) + " files)";
  float* image = data.images.data_ptr<float>();
  int64_t* label = data.labels.data_ptr<int64_t>();
  int64_t item = 0;
  for (size_t f = 0; f < files.size(); ++f) {
    const std::vector<uint8_t>& bytes = contents[f];
    const int64_t records = static_cast<int64_t>(bytes.size()) / record;
    for (int64_t r = 0; r < records; ++r, ++item) {
      const uint8_t* rec = bytes.data() + r * record;
      const int64_t value = rec[layout.label_offset];
      if (value >= layout.classes) {
        throw DataError(files[f] + ": record " + std::to_string(r) + " has label " + std::to_string(value) +
                        " (expected 0.." + std::to_string(layout.classes - 1) + " for " + cifar_kind_name(kind) + ")");
      }
      label[item] = value;
      const uint8_t* pixels = rec + layout.label_bytes;
      float* out = image + item * kImageBytes;
      for (int64_t i = 0; i < kImageBytes; ++i) out[i] = scale[pixels[i]];
    }
  }
  return data;
}

Split load_cifar_dir(const std::string& dir, CifarKind kind) {
  const bool ten = kind == CifarKind::Cifar10;
  const std::vector<std::string> train_names =
      ten ? std::vector<std::string>{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin",
                                     "data_batch_5.bin"}
          : std::vector<std::string>{"train.bin"};
  const std::string test_name = ten ? "test_batch.bin" : "test.bin";
  std::string folder = dir;
  const std::string archive_folder = dir + (ten ? "/cifar-10-batches-bin" : "/cifar-100-binary");
  if (!file_exists(dir + "/" + test_name) && file_exists(archive_folder + "/" + test_name)) folder = archive_folder;

  std::vector<std::string> train_files;
  for (const std::string& name : train_names) train_files.push_back(folder + "/" + name);
  Split split;
  split.train = read_cifar(train_files, kind);
  split.test = read_cifar({folder + "/" + test_name}, kind);
  split.train.origin = folder + " (train)";
  split.test.origin = folder + " (test)";
  return split;
}

}  // namespace harness

// IDX reader: parses the big-endian header, validates it against the payload, and
// converts unsigned bytes to float images in [0, 1] and int64 labels.
#include "harness/data/idx_reader.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <vector>

#include "harness/data/file_bytes.h"
#include "harness/errors.h"

namespace harness {
namespace {

constexpr uint32_t kImagesMagic = 0x00000803;  // unsigned byte, 3 dimensions
constexpr uint32_t kLabelsMagic = 0x00000801;  // unsigned byte, 1 dimension
// Bounds that keep N * H * W far from overflow; real IDX sets are far below them.
constexpr uint64_t kMaxSide = 1u << 16;
constexpr uint64_t kMaxCount = 1u << 28;

std::string hex32(uint32_t value) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08X", value);
  return text;
}

uint32_t big_endian_u32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

// The parsed header and the payload bytes behind it.
struct IdxFile {
  std::vector<uint8_t> bytes;
  std::vector<uint64_t> dims;
  size_t payload_offset = 0;
  const uint8_t* payload() const { return bytes.data() + payload_offset; }
};

IdxFile read_idx_file(const std::string& path, uint32_t expected_magic, const char* kind) {
  IdxFile file;
  file.bytes = read_file_bytes(path);
  const size_t ndims = expected_magic & 0xff;
  const size_t header = 4 + 4 * ndims;
  if (file.bytes.size() < 4) {
    throw DataError(path + ": file too short for an IDX header (" + std::to_string(file.bytes.size()) + " bytes)");
  }
  const uint32_t magic = big_endian_u32(file.bytes.data());
  if (magic != expected_magic) {
    throw DataError(path + ": bad magic number " + hex32(magic) + " (expected " + hex32(expected_magic) + " for IDX " +
                    kind + ")");
  }
  if (file.bytes.size() < header) {
    throw DataError(path + ": truncated IDX header (" + std::to_string(file.bytes.size()) + " bytes, expected " +
                    std::to_string(header) + ")");
  }
  uint64_t expected = 1;
  for (size_t d = 0; d < ndims; ++d) {
    const uint64_t dim = big_endian_u32(file.bytes.data() + 4 + 4 * d);
    const uint64_t limit = d == 0 ? kMaxCount : kMaxSide;
    if (dim == 0 || dim > limit) {
      throw DataError(path + ": dimension " + std::to_string(d) + " is " + std::to_string(dim) + " (expected 1.." +
                      std::to_string(limit) + ")");
    }
    file.dims.push_back(dim);
    expected *= dim;
  }
  file.payload_offset = header;
  const uint64_t actual = file.bytes.size() - header;
  if (actual < expected) {
    throw DataError(path + ": truncated file: header promises " + std::to_string(expected) + " data bytes, found " +
                    std::to_string(actual));
  }
  if (actual > expected) {
    throw DataError(path + ": " + std::to_string(actual - expected) + " unexpected bytes after the " +
                    std::to_string(expected) + " data bytes the header promises");
  }
  return file;
}

std::string first_existing(const std::string& dir, const std::string& name) {
  const std::string gz = dir + "/" + name + ".gz";
  if (file_exists(gz)) return gz;
  const std::string plain = dir + "/" + name;
  if (file_exists(plain)) return plain;
  throw DataError(dir + ": neither " + name + ".gz nor " + name + " found");
}

}  // namespace

Dataset read_idx(const std::string& images_path, const std::string& labels_path) {
  const IdxFile images = read_idx_file(images_path, kImagesMagic, "images");
  const IdxFile labels = read_idx_file(labels_path, kLabelsMagic, "labels");
  const int64_t n = static_cast<int64_t>(images.dims[0]);
  if (labels.dims[0] != images.dims[0]) {
    throw DataError(labels_path + ": " + std::to_string(labels.dims[0]) + " labels but " + images_path + " has " +
                    std::to_string(n) + " images");
  }
  const int64_t h = static_cast<int64_t>(images.dims[1]), w = static_cast<int64_t>(images.dims[2]);

  // A table lookup gives exactly byte / 255.0f, the value torchvision's ToTensor yields.
  std::array<float, 256> scale{};
  for (int b = 0; b < 256; ++b) scale[b] = static_cast<float>(b) / 255.0f;
  Dataset data;
  data.images = torch::empty({n, 1, h, w}, torch::kFloat32);
  float* out = data.images.data_ptr<float>();
  const uint8_t* in = images.payload();
  const int64_t count = n * h * w;
  for (int64_t i = 0; i < count; ++i) out[i] = scale[in[i]];

  data.labels = torch::empty({n}, torch::kInt64);
  int64_t* label = data.labels.data_ptr<int64_t>();
  int64_t max_label = 0;
  for (int64_t i = 0; i < n; ++i) {
    label[i] = labels.payload()[i];
    max_label = std::max(max_label, label[i]);
  }
  data.num_classes = max_label + 1;
  data.origin = images_path;
  return data;
}

Split load_idx_dir(const std::string& dir) {
  Split split;
  const std::string train_labels_path = first_existing(dir, "train-labels-idx1-ubyte");
  const std::string test_labels_path = first_existing(dir, "t10k-labels-idx1-ubyte");
  split.train = read_idx(first_existing(dir, "train-images-idx3-ubyte"), train_labels_path);
  split.test = read_idx(first_existing(dir, "t10k-images-idx3-ubyte"), test_labels_path);
  if (split.train.images.sizes().slice(1) != split.test.images.sizes().slice(1)) {
    throw DataError(dir + ": train images are " + std::to_string(split.train.images.size(2)) + "x" +
                    std::to_string(split.train.images.size(3)) + " but test images are " +
                    std::to_string(split.test.images.size(2)) + "x" + std::to_string(split.test.images.size(3)));
  }
  // A class seen only in test cannot be learned: the label files do not belong together.
  std::vector<bool> in_train(static_cast<size_t>(split.train.num_classes), false);
  const int64_t* train_labels = split.train.labels.data_ptr<int64_t>();
  for (int64_t i = 0; i < split.train.size(); ++i) in_train[static_cast<size_t>(train_labels[i])] = true;
  const int64_t* test_labels = split.test.labels.data_ptr<int64_t>();
  for (int64_t i = 0; i < split.test.size(); ++i) {
    const int64_t c = test_labels[i];
    if (c >= split.train.num_classes || !in_train[static_cast<size_t>(c)]) {
      throw DataError(test_labels_path + ": label " + std::to_string(c) + " (item " + std::to_string(i) +
                      ") never occurs in " + train_labels_path);
    }
  }
  const int64_t classes = std::max(split.train.num_classes, split.test.num_classes);
  split.train.num_classes = classes;
  split.test.num_classes = classes;
  split.train.origin = dir + " (train)";
  split.test.origin = dir + " (test)";
  return split;
}

}  // namespace harness

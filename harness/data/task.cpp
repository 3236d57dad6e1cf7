// Task loading: dispatch on the data set name, class selection, train-statistics normalization.
#include "harness/data/task.h"

#include <torch/torch.h>

#include <cstdlib>
#include <vector>

#include "harness/data/cifar_reader.h"
#include "harness/data/file_bytes.h"
#include "harness/data/idx_reader.h"
#include "harness/data/image_folder.h"
#include "harness/data/mnist_digits.h"
#include "harness/data/seeded_split.h"
#include "harness/errors.h"

#ifndef HARNESS_DEFAULT_DATA_DIR
#define HARNESS_DEFAULT_DATA_DIR "data"
#endif

namespace harness {
namespace {

constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

std::string joined_names() {
  std::string out;
  for (const std::string& name : dataset_names()) out += (out.empty() ? "" : " | ") + name;
  return out;
}

void check_known(const std::string& dataset) {
  for (const std::string& name : dataset_names()) {
    if (name == dataset) return;
  }
  throw ConfigError("data.dataset '" + dataset + "' is unknown (expected " + joined_names() + ")");
}

}  // namespace

const std::vector<std::string>& dataset_names() {
  static const std::vector<std::string> kNames = {"fashion-mnist", "mnist-digits", "idx",
                                                  "cifar10",       "cifar100",     "cifar100-coarse",
                                                  "image-folder"};
  return kNames;
}

ImageFolderOptions image_folder_options(const DataSpec& spec, int threads) {
  ImageFolderOptions options;
  options.channels = spec.channels;
  options.resize = spec.resize;
  options.image_size = spec.image_size;
  options.unknown_files = spec.unknown_files;
  options.test_fraction = spec.test_fraction;
  options.split_seed = spec.split_seed;
  options.threads = threads;
  return options;
}

std::string default_data_dir() { return HARNESS_DEFAULT_DATA_DIR; }

std::string resolve_data_path(const DataSpec& spec, const std::string& default_data_dir) {
  check_known(spec.dataset);
  if (!spec.path.empty()) return spec.path;
  if (spec.dataset == "fashion-mnist") return kFashionMnistDir;
  if (spec.dataset == "mnist-digits") {
    const char* env = std::getenv("HARNESS_DATA_DIR");
    if (env == nullptr || *env == '\0') return default_data_dir + "/mnist-digits";
    const std::string direct = std::string(env) + "/mnist-digits";
    const std::string nested = std::string(env) + "/data/mnist-digits";
    return !file_exists(direct + "/0.json") && file_exists(nested + "/0.json") ? nested : direct;
  }
  throw ConfigError("data.path is required for data set '" + spec.dataset + "' (a folder holding its files)");
}

Dataset split_off_validation(Dataset& train, double fraction, uint64_t split_seed) {
  const torch::Tensor labels = train.labels.to(torch::kCPU).contiguous();
  const int64_t* label = labels.data_ptr<int64_t>();
  const std::vector<bool> mask =
      seeded_validation_mask(std::vector<int64_t>(label, label + labels.numel()), fraction, split_seed);
  std::vector<int64_t> keep, held_out;
  for (std::size_t i = 0; i < mask.size(); ++i) (mask[i] ? held_out : keep).push_back(static_cast<int64_t>(i));
  const auto index = [&](const std::vector<int64_t>& rows) {
    return torch::tensor(rows, torch::kLong).to(train.labels.device());
  };
  Dataset validation;
  validation.images = train.images.index_select(0, index(held_out));
  validation.labels = train.labels.index_select(0, index(held_out));
  validation.num_classes = train.num_classes;
  validation.origin = train.origin + " (validation)";
  validation.class_names = train.class_names;
  train.images = train.images.index_select(0, index(keep));
  train.labels = train.labels.index_select(0, index(keep));
  return validation;
}

Split load_task(const DataSpec& spec, const std::string& default_data_dir) {
  const std::string path = resolve_data_path(spec, default_data_dir);
  Split split;
  if (spec.dataset == "fashion-mnist" || spec.dataset == "idx") {
    split = load_idx_dir(path);
  } else if (spec.dataset == "mnist-digits") {
    split = load_mnist_digits(path, spec.test_fraction, spec.split_seed);
  } else if (spec.dataset == "cifar10") {
    split = load_cifar_dir(path, CifarKind::Cifar10);
  } else if (spec.dataset == "image-folder") {
    split = load_image_folder(path, image_folder_options(spec));
    if (!spec.class_names.empty() && split.train.class_names != spec.class_names) {
      std::string recorded, found;
      for (const std::string& name : spec.class_names) recorded += (recorded.empty() ? "" : ", ") + name;
      for (const std::string& name : split.train.class_names) found += (found.empty() ? "" : ", ") + name;
      throw DataError(path + ": class folders are now [" + found + "] but the configuration recorded [" + recorded +
                      "]; the labels would mean other classes");
    }
  } else if (spec.dataset == "cifar100") {
    split = load_cifar_dir(path, CifarKind::Cifar100Fine);
  } else {
    split = load_cifar_dir(path, CifarKind::Cifar100Coarse);
  }

  if (!spec.classes.empty()) {
    split.train = select_classes(split.train, spec.classes);
    // An empty test split (mnist-digits with test_fraction 0) has nothing to select.
    if (split.test.size() > 0) {
      split.test = select_classes(split.test, spec.classes);
    } else {
      split.test.num_classes = split.train.num_classes;
    }
  }
  if (spec.validation_fraction > 0.0) {
    split.validation = split_off_validation(split.train, spec.validation_fraction, spec.split_seed);
  }
  if (spec.normalize) {
    // Test and validation images are normalized with the train statistics: neither may leak in.
    const Normalization stats = channel_stats(split.train);
    normalize(split.train, stats);
    normalize(split.test, stats);
    if (split.validation.size() > 0) normalize(split.validation, stats);
  }
  return split;
}

}  // namespace harness

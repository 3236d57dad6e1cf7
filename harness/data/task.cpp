// Task loading: dispatch on the data set name, class selection, train-statistics normalization.
#include "harness/data/task.h"

#include <cstdlib>

#include "harness/data/cifar_reader.h"
#include "harness/data/file_bytes.h"
#include "harness/data/idx_reader.h"
#include "harness/data/image_folder.h"
#include "harness/data/mnist_digits.h"
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
  if (spec.normalize) {
    // Test images are normalized with the train statistics: the test set must not leak in.
    const Normalization stats = channel_stats(split.train);
    normalize(split.train, stats);
    normalize(split.test, stats);
  }
  return split;
}

}  // namespace harness

// The data of one task as the CLI names it: which set, which classes, which split,
// normalized with the training split's statistics.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "harness/data/dataset.h"
#include "harness/data/image_folder.h"
#include "harness/data/transforms.h"

namespace harness {

// What the [data] section of an experiment (or `harness pretrain`) asks for.
struct DataSpec {
  std::string dataset;  // one of dataset_names()
  // Folder of the files; empty = the data set's default (see resolve_data_path).
  std::string path;
  std::vector<int64_t> classes;  // subset relabeled 0..k-1 in this order; empty = all
  double test_fraction = 0.2;    // mnist-digits, image-folder without train/test: test share of each class
  uint64_t split_seed = 0;       // and the seed of that split
  bool normalize = true;         // per-channel, with the TRAIN split's statistics
  // image-folder only:
  int64_t channels = 3;          // 1 | 3, every image converted to it
  int64_t resize = 0;            // shorter side to this; 0 = native size
  int64_t image_size = 0;        // center crop to this square; 0 = no crop
  UnknownFiles unknown_files = UnknownFiles::Skip;
  // Share of each class of the training split held out as the validation split (0 = none),
  // drawn by split_seed: the same images for every strategy and trial seed of an experiment.
  double validation_fraction = 0.0;
  // The class folders as the configuration recorded them (label i = class_names[i]); when set,
  // load_task refuses a folder whose classes differ. Empty = take whatever the folder holds.
  std::vector<std::string> class_names{};  // braces: aggregate initializers may leave it out without a warning
};

// The image-folder settings of a spec (threads: decoding threads, 0 = default).
ImageFolderOptions image_folder_options(const DataSpec& spec, int threads = 0);

// "fashion-mnist", "mnist-digits", "idx", "cifar10", "cifar100", "cifar100-coarse", "image-folder".
const std::vector<std::string>& dataset_names();

// The folder a spec reads: spec.path if given; else /usr/share/datasets/fashion-mnist for
// fashion-mnist; for mnist-digits, $HARNESS_DATA_DIR/mnist-digits (or
// $HARNESS_DATA_DIR/data/mnist-digits, whichever holds 0.json) when that variable is set,
// else <default_data_dir>/mnist-digits. Throws ConfigError for an unknown data set (listing
// the valid names) or for idx / cifar / image-folder without a path.
std::string resolve_data_path(const DataSpec& spec, const std::string& default_data_dir);

// The data folder compiled in: <source tree>/data, where scripts/setup.sh puts the digits.
std::string default_data_dir();

// Reads the data set, keeps spec.classes on both splits (relabeled in the order given),
// carves the validation split out of the training split (spec.validation_fraction > 0:
// stratified per class, seeded by spec.split_seed; the test split is never touched), then
// normalizes every split with the (remaining) train split's per-channel mean and std.
// Throws ConfigError for a bad spec, DataError for bad or missing files.
Split load_task(const DataSpec& spec, const std::string& default_data_dir = harness::default_data_dir());

// Moves a stratified share `fraction` of each class of `train` into the returned validation set
// (seeded_validation_mask over its labels); both keep their images in their original order.
Dataset split_off_validation(Dataset& train, double fraction, uint64_t split_seed);

}  // namespace harness

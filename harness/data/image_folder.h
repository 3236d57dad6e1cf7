// Image folders in the `root/CLASS/IMAGE.png` layout of torchvision's ImageFolder: an index of
// (file, label) entries, a decode-one-image function, and in-memory loading built on the two,
// so a streamed reader can later decode the same entries batch by batch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

#include "harness/data/dataset.h"

namespace harness {

// What to do with a file that is not named .png, .jpg or .jpeg.
enum class UnknownFiles { Skip, Refuse };

// "skip" | "refuse"; throws ConfigError naming `where` otherwise.
UnknownFiles parse_unknown_files(const std::string& text, const std::string& where);
const char* unknown_files_name(UnknownFiles mode);

struct ImageFolderOptions {
  int64_t channels = 3;    // 1 or 3: every image is converted to this
  int64_t resize = 0;      // > 0: shorter side to this (bilinear); 0: native size
  int64_t image_size = 0;  // > 0: center crop to image_size x image_size; 0: no crop
  UnknownFiles unknown_files = UnknownFiles::Skip;
  double test_fraction = 0.2;  // without train/ and test/: test share of each class
  uint64_t split_seed = 0;     // and the seed of that split
  int threads = 0;             // decoding threads; 0 = hardware threads (at most 8). No effect on results.
};

struct ImageEntry {
  std::string file;
  int64_t label = 0;
};

// The files of a folder, labelled and split; nothing decoded yet.
struct ImageFolderIndex {
  std::string root;
  std::vector<std::string> class_names;  // label i = class_names[i], sorted by name (byte order)
  std::vector<ImageEntry> train, test;   // class-then-file order (files sorted by relative path)
  bool has_split_folders = false;        // root/train and root/test were used
  int64_t skipped = 0;                   // files of unknown type left out
  std::string first_skipped;             // one of them, for the message
};

// The class folder names of `root` (of root/train when root has train/ and test/), sorted.
// Throws DataError naming the folder when it is missing or holds no class folder.
std::vector<std::string> image_folder_classes(const std::string& root);

// Lists and labels every image under root. With root/train and root/test, each is a class
// folder tree (test classes must be train classes); otherwise root's class folders are split
// per class by options.test_fraction and split_seed (the digits' seeded stratified split).
// Files are searched recursively in each class folder; names starting with '.' are ignored.
// Throws DataError naming the folder or file for: a missing root, no class folder, an empty
// class folder (no image file), a test class unknown to train, or, with UnknownFiles::Refuse,
// a file of unknown type. ConfigError for test_fraction outside [0, 1).
ImageFolderIndex index_image_folder(const std::string& root, const ImageFolderOptions& options);

// Decodes one file into a float32 [C, H, W] image in [0, 1] (byte / 255, as torchvision's
// ToTensor), converted to options.channels, resized (shorter side to options.resize) and
// center-cropped (options.image_size). Throws DataError naming the file: unreadable, corrupt,
// not PNG/JPEG, or smaller than image_size.
torch::Tensor load_image(const std::string& file, const ImageFolderOptions& options);

// Decodes `entries` into one in-memory Dataset, in entry order, on a small thread pool whose
// size does not change the result. All images must end up one size (set resize / image_size
// otherwise). Throws DataError naming the file; the first failing entry in order is reported.
Dataset load_image_entries(const std::vector<ImageEntry>& entries, int64_t num_classes,
                           const ImageFolderOptions& options, const std::string& origin);

// index_image_folder + load_image_entries on both splits; class_names set on both.
Split load_image_folder(const std::string& root, const ImageFolderOptions& options);

}  // namespace harness

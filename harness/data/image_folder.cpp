// Image folders: a sorted walk of the class folders, a seeded stratified split, and
// decoding on a small thread pool into preallocated slots (so the thread count cannot
// change the result).
#include "harness/data/image_folder.h"

#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <exception>
#include <filesystem>
#include <sstream>
#include <thread>

#include "harness/data/image_decode.h"
#include "harness/data/seeded_split.h"
#include "harness/data/transforms.h"
#include "harness/errors.h"

namespace harness {
namespace {

namespace fs = std::filesystem;

constexpr int kMaxThreads = 8;

bool has_image_extension(const fs::path& file) {
  std::string ext = file.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

bool is_hidden(const fs::path& path) {
  const std::string name = path.filename().string();
  return !name.empty() && name[0] == '.';
}

bool is_dir(const fs::path& path) {
  std::error_code ec;
  return fs::is_directory(path, ec);
}

// Sorted class folder names directly under `dir`; files there are unknown (counted by the caller).
std::vector<std::string> class_folders(const fs::path& dir) {
  if (!is_dir(dir)) throw DataError(dir.string() + ": no such folder (expected one subfolder per class)");
  std::vector<std::string> names;
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, ec)) {
    if (is_hidden(entry.path())) continue;
    if (is_dir(entry.path())) names.push_back(entry.path().filename().string());
  }
  if (ec) throw DataError(dir.string() + ": cannot list the folder (" + ec.message() + ")");
  std::sort(names.begin(), names.end());
  if (names.empty()) {
    throw DataError(dir.string() + ": no class folders, so no images (expected " + dir.string() +
                    "/CLASS/IMAGE.png or .jpg)");
  }
  return names;
}

struct Walk {
  std::vector<std::vector<std::string>> files;  // per class, sorted
  int64_t skipped = 0;
  std::string first_skipped;
};

void unknown_file(const fs::path& file, const ImageFolderOptions& options, Walk& walk) {
  if (options.unknown_files == UnknownFiles::Refuse) {
    throw DataError(file.string() + ": not an image file (expected .png, .jpg or .jpeg; data.unknown_files = skip "
                                    "leaves such files out)");
  }
  if (walk.skipped++ == 0) walk.first_skipped = file.string();
}

// Every image file under dir/CLASS for each class of `classes`, sorted by relative path.
Walk walk_classes(const fs::path& dir, const std::vector<std::string>& classes, const ImageFolderOptions& options) {
  Walk walk;
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, ec)) {
    if (!is_hidden(entry.path()) && !is_dir(entry.path())) unknown_file(entry.path(), options, walk);
  }
  for (const std::string& name : classes) {
    const fs::path class_dir = dir / name;
    std::vector<std::string> files;
    for (auto it = fs::recursive_directory_iterator(class_dir, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (is_hidden(it->path())) {
        if (it->is_directory()) it.disable_recursion_pending();
        continue;
      }
      if (is_dir(it->path())) continue;
      if (has_image_extension(it->path())) {
        files.push_back(it->path().string());
      } else {
        unknown_file(it->path(), options, walk);
      }
    }
    if (ec) throw DataError(class_dir.string() + ": cannot list the folder (" + ec.message() + ")");
    if (files.empty()) {
      throw DataError(class_dir.string() + ": class folder '" + name + "' holds no image (.png, .jpg or .jpeg)");
    }
    std::sort(files.begin(), files.end());
    walk.files.push_back(std::move(files));
  }
  return walk;
}

void check_options(const ImageFolderOptions& options, const std::string& root) {
  if (options.channels != 1 && options.channels != 3) {
    throw ConfigError(root + ": channels must be 1 or 3, got " + std::to_string(options.channels));
  }
  if (options.resize < 0 || options.image_size < 0) {
    throw ConfigError(root + ": resize and image_size must be >= 0 (0 = native size)");
  }
  if (!(options.test_fraction >= 0.0 && options.test_fraction < 1.0)) {
    std::ostringstream text;
    text << root << ": test_fraction " << options.test_fraction << " is outside [0, 1)";
    throw ConfigError(text.str());
  }
}

}  // namespace

UnknownFiles parse_unknown_files(const std::string& text, const std::string& where) {
  if (text == "skip") return UnknownFiles::Skip;
  if (text == "refuse") return UnknownFiles::Refuse;
  throw ConfigError(where + ": '" + text + "' is not skip or refuse");
}

const char* unknown_files_name(UnknownFiles mode) { return mode == UnknownFiles::Skip ? "skip" : "refuse"; }

std::vector<std::string> image_folder_classes(const std::string& root) {
  const fs::path dir(root);
  if (is_dir(dir / "train") && is_dir(dir / "test")) return class_folders(dir / "train");
  return class_folders(dir);
}

ImageFolderIndex index_image_folder(const std::string& root, const ImageFolderOptions& options) {
  check_options(options, root);
  const fs::path dir(root);
  if (!is_dir(dir)) throw DataError(root + ": no such folder (expected one subfolder per class)");
  ImageFolderIndex index;
  index.root = root;
  const bool has_train = is_dir(dir / "train"), has_test = is_dir(dir / "test");
  if (has_train != has_test) {
    throw DataError(root + ": has " + (has_train ? "train/ but no test/" : "test/ but no train/") +
                    " (give both, or class folders directly in " + root + " split by test_fraction)");
  }
  if (has_train) {
    index.has_split_folders = true;
    index.class_names = class_folders(dir / "train");
    const std::vector<std::string> test_classes = class_folders(dir / "test");
    for (const std::string& name : test_classes) {
      if (!std::binary_search(index.class_names.begin(), index.class_names.end(), name)) {
        throw DataError((dir / "test" / name).string() + ": class '" + name + "' has no folder in " +
                        (dir / "train").string() + " (a class seen only in test cannot be learned)");
      }
    }
    const Walk train = walk_classes(dir / "train", index.class_names, options);
    const Walk test = walk_classes(dir / "test", test_classes, options);
    for (size_t c = 0; c < index.class_names.size(); ++c) {
      for (const std::string& file : train.files[c]) index.train.push_back({file, static_cast<int64_t>(c)});
    }
    for (size_t t = 0; t < test_classes.size(); ++t) {
      const auto c = std::lower_bound(index.class_names.begin(), index.class_names.end(), test_classes[t]) -
                     index.class_names.begin();
      for (const std::string& file : test.files[t]) index.test.push_back({file, static_cast<int64_t>(c)});
    }
    // Files directly in root (a README) are counted as well.
    Walk top;
    std::error_code ec;
    for (const fs::directory_entry& entry : fs::directory_iterator(dir, ec)) {
      if (!is_hidden(entry.path()) && !is_dir(entry.path())) unknown_file(entry.path(), options, top);
    }
    index.skipped = train.skipped + test.skipped + top.skipped;
    index.first_skipped = !top.first_skipped.empty()     ? top.first_skipped
                          : !train.first_skipped.empty() ? train.first_skipped
                                                         : test.first_skipped;
    return index;
  }

  index.class_names = class_folders(dir);
  const Walk walk = walk_classes(dir, index.class_names, options);
  std::vector<ImageEntry> train, test;
  for (size_t c = 0; c < index.class_names.size(); ++c) {
    const std::vector<std::string>& files = walk.files[c];
    const std::vector<bool> is_test = seeded_test_mask(static_cast<int64_t>(files.size()), options.test_fraction,
                                                       options.split_seed, static_cast<int64_t>(c));
    for (size_t i = 0; i < files.size(); ++i) {
      (is_test[i] ? index.test : index.train).push_back({files[i], static_cast<int64_t>(c)});
    }
  }
  index.skipped = walk.skipped;
  index.first_skipped = walk.first_skipped;
  return index;
}

torch::Tensor load_image(const std::string& file, const ImageFolderOptions& options) {
  const DecodedImage image = convert_channels(read_image(file), options.channels);
  // A table lookup gives exactly byte / 255.0f, as the IDX reader and torchvision's ToTensor.
  static const std::array<float, 256> kScale = [] {
    std::array<float, 256> scale{};
    for (int b = 0; b < 256; ++b) scale[b] = static_cast<float>(b) / 255.0f;
    return scale;
  }();
  torch::Tensor hwc = torch::empty({image.height, image.width, image.channels}, torch::kFloat32);
  float* out = hwc.data_ptr<float>();
  for (size_t i = 0; i < image.pixels.size(); ++i) out[i] = kScale[image.pixels[i]];
  torch::Tensor chw = hwc.permute({2, 0, 1}).contiguous();
  if (options.resize > 0) {
    const auto [h, w] = shorter_side_size(chw.size(1), chw.size(2), options.resize);
    chw = resize_bilinear(chw, h, w);
  }
  if (options.image_size > 0) {
    const int64_t h = chw.size(1), w = chw.size(2);
    if (h < options.image_size || w < options.image_size) {
      throw DataError(file + ": image is " + std::to_string(w) + "x" + std::to_string(h) +
                      (options.resize > 0 ? " after resize" : "") + ", smaller than image_size " +
                      std::to_string(options.image_size) + " (set data.resize to at least image_size)");
    }
    const CropBox box = center_crop_box(h, w, options.image_size);
    chw = chw.slice(1, box.top, box.top + box.height).slice(2, box.left, box.left + box.width).contiguous();
  }
  return chw;
}

Dataset load_image_entries(const std::vector<ImageEntry>& entries, int64_t num_classes,
                           const ImageFolderOptions& options, const std::string& origin) {
  const int64_t n = static_cast<int64_t>(entries.size());
  Dataset data;
  data.num_classes = num_classes;
  data.origin = origin;
  data.labels = torch::empty({n}, torch::kInt64);
  int64_t* labels = data.labels.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) labels[i] = entries[static_cast<size_t>(i)].label;
  if (n == 0) {
    data.images = torch::empty({0, options.channels, std::max<int64_t>(options.image_size, 1),
                                std::max<int64_t>(options.image_size, 1)});
    return data;
  }
  std::vector<torch::Tensor> images(static_cast<size_t>(n));
  std::vector<std::exception_ptr> errors(static_cast<size_t>(n));
  std::atomic<int64_t> next{0};
  std::atomic<bool> failed{false};
  auto work = [&] {
    // Each image is decoded alone into its own slot: the thread count changes only the speed.
    for (int64_t i = next++; i < n && !failed; i = next++) {
      try {
        images[static_cast<size_t>(i)] = load_image(entries[static_cast<size_t>(i)].file, options);
      } catch (...) {
        errors[static_cast<size_t>(i)] = std::current_exception();
        failed = true;
      }
    }
  };
  const int hardware = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int threads = static_cast<int>(
      std::min<int64_t>(n, options.threads > 0 ? options.threads : std::min(hardware, kMaxThreads)));
  {
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(work);
    work();
    for (std::thread& thread : pool) thread.join();
  }
  // The first failure in entry order, so the message does not depend on the thread count.
  for (const std::exception_ptr& error : errors) {
    if (error) std::rethrow_exception(error);
  }
  const auto shape = images[0].sizes();
  for (int64_t i = 1; i < n; ++i) {
    if (images[static_cast<size_t>(i)].sizes() != shape) {
      const auto& other = images[static_cast<size_t>(i)];
      throw DataError(entries[static_cast<size_t>(i)].file + ": image is " + std::to_string(other.size(2)) + "x" +
                      std::to_string(other.size(1)) + " but " + entries[0].file + " is " +
                      std::to_string(shape[2]) + "x" + std::to_string(shape[1]) +
                      "; set data.resize and data.image_size to bring every image to one size");
    }
  }
  data.images = torch::stack(images);
  return data;
}

Split load_image_folder(const std::string& root, const ImageFolderOptions& options) {
  const ImageFolderIndex index = index_image_folder(root, options);
  const auto classes = static_cast<int64_t>(index.class_names.size());
  Split split;
  split.train = load_image_entries(index.train, classes, options, root + " (train)");
  split.test = load_image_entries(index.test, classes, options, root + " (test)");
  if (split.train.size() > 0 && split.test.size() > 0 &&
      split.train.images.sizes().slice(1) != split.test.images.sizes().slice(1)) {
    throw DataError(index.test.front().file + ": test images are " + std::to_string(split.test.images.size(3)) + "x" +
                    std::to_string(split.test.images.size(2)) + " but train images are " +
                    std::to_string(split.train.images.size(3)) + "x" + std::to_string(split.train.images.size(2)) +
                    "; set data.resize and data.image_size");
  }
  split.train.class_names = index.class_names;
  split.test.class_names = index.class_names;
  if (index.skipped > 0) {
    split.notes.push_back(root + ": skipped " + std::to_string(index.skipped) + " file" +
                          (index.skipped == 1 ? "" : "s") + " of unknown type (e.g. " + index.first_skipped +
                          "; data.unknown_files = refuse stops on them)");
  }
  return split;
}

}  // namespace harness

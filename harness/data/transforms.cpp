// Class selection, class-list parsing, per-channel normalization, resizing, crops and flips.
#include "harness/data/transforms.h"

#include <torch/torch.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <sstream>

#include "harness/errors.h"

namespace harness {
namespace {

// Class ids above this are surely a typo ("0-99999999"), not a data set.
constexpr int64_t kMaxClassId = 1 << 16;

std::string trim(const std::string& text) {
  size_t begin = 0, end = text.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(text[begin]))) ++begin;
  while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  return text.substr(begin, end - begin);
}

int64_t parse_class_id(const std::string& item, const std::string& text) {
  const std::string digits = trim(item);
  if (digits.empty() || digits.size() > 6 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    throw ConfigError("class list '" + text + "': '" + digits +
                      "' is not a class number (expected forms like 5-9, 0,2,4 or 0-2,7)");
  }
  const int64_t value = std::stoll(digits);
  if (value > kMaxClassId) {
    throw ConfigError("class list '" + text + "': class " + digits + " is above " + std::to_string(kMaxClassId));
  }
  return value;
}

}  // namespace

std::string format_class_list(const std::vector<int64_t>& classes) {
  std::string out;
  for (size_t i = 0; i < classes.size(); ++i) out += (i ? "," : "") + std::to_string(classes[i]);
  return out;
}

std::vector<int64_t> parse_class_list(const std::string& text) {
  std::vector<int64_t> classes;
  if (trim(text).empty()) return classes;
  std::stringstream items(text);
  std::string item;
  // getline drops a trailing empty item, so "1," is caught by counting the commas.
  size_t count = 0;
  while (std::getline(items, item, ',')) {
    ++count;
    const size_t dash = item.find('-');
    if (dash == std::string::npos) {
      classes.push_back(parse_class_id(item, text));
      continue;
    }
    const int64_t first = parse_class_id(item.substr(0, dash), text);
    const int64_t last = parse_class_id(item.substr(dash + 1), text);
    if (first > last) {
      throw ConfigError("class list '" + text + "': range '" + trim(item) + "' runs backwards (expected low-high)");
    }
    for (int64_t c = first; c <= last; ++c) classes.push_back(c);
  }
  if (count != static_cast<size_t>(std::count(text.begin(), text.end(), ',')) + 1) {
    throw ConfigError("class list '" + text + "': empty item (expected forms like 5-9, 0,2,4 or 0-2,7)");
  }
  std::vector<int64_t> sorted = classes;
  std::sort(sorted.begin(), sorted.end());
  const auto repeat = std::adjacent_find(sorted.begin(), sorted.end());
  if (repeat != sorted.end()) {
    throw ConfigError("class list '" + text + "': class " + std::to_string(*repeat) + " appears twice");
  }
  return classes;
}

Dataset select_classes(const Dataset& data, const std::vector<int64_t>& classes) {
  const std::string what = "classes [" + format_class_list(classes) + "] of " + data.origin;
  if (classes.empty()) throw DataError("empty class list for " + data.origin);
  std::vector<int64_t> new_label(static_cast<size_t>(std::max<int64_t>(data.num_classes, 0)), -1);
  for (size_t i = 0; i < classes.size(); ++i) {
    const int64_t c = classes[i];
    if (c < 0 || c >= data.num_classes) {
      throw DataError(what + ": class " + std::to_string(c) + " is out of range (the data set has " +
                      std::to_string(data.num_classes) + " classes, 0.." + std::to_string(data.num_classes - 1) + ")");
    }
    if (new_label[static_cast<size_t>(c)] >= 0)
      throw DataError(what + ": class " + std::to_string(c) + " appears twice");
    new_label[static_cast<size_t>(c)] = static_cast<int64_t>(i);
  }

  const torch::Tensor lookup = torch::tensor(new_label, torch::kInt64).to(data.labels.device());
  const torch::Tensor mapped = lookup.index_select(0, data.labels);
  const torch::Tensor keep = mapped.ge(0).nonzero().squeeze(1);
  if (keep.numel() == 0) throw DataError(what + ": no image has any of these classes");

  Dataset out;
  out.images = data.images.index_select(0, keep);
  out.labels = mapped.index_select(0, keep);
  out.num_classes = static_cast<int64_t>(classes.size());
  out.origin = data.origin + " classes [" + format_class_list(classes) + "]";
  if (static_cast<int64_t>(data.class_names.size()) == data.num_classes) {
    for (const int64_t c : classes) out.class_names.push_back(data.class_names[static_cast<size_t>(c)]);
  }
  return out;
}

Normalization channel_stats(const Dataset& train) {
  if (train.size() == 0) throw DataError(train.origin + ": no images to compute channel statistics from");
  torch::NoGradGuard no_grad;
  // ATen's CPU var_mean runs Welford with a double accumulator, accurate over 47M pixels.
  const auto [var, mean] = torch::var_mean(train.images, {0, 2, 3}, /*unbiased=*/false);
  torch::Tensor std = var.sqrt();
  std = torch::where(std.gt(0), std, torch::ones_like(std));
  return {mean.to(torch::kFloat32), std.to(torch::kFloat32)};
}

void normalize(Dataset& data, const Normalization& stats) {
  const int64_t channels = data.images.size(1);
  if (stats.mean.numel() != channels || stats.std.numel() != channels) {
    throw DataError(data.origin + ": images have " + std::to_string(channels) + " channels but the normalization has " +
                    std::to_string(stats.mean.numel()));
  }
  torch::NoGradGuard no_grad;
  const auto device = data.images.device();
  const auto mean = stats.mean.to(device, torch::kFloat32).view({1, channels, 1, 1});
  const auto std = stats.std.to(device, torch::kFloat32).view({1, channels, 1, 1});
  data.images = (data.images - mean) / std;
}

torch::Tensor draw_flip_mask(int64_t n, torch::Generator& gen) {
  const auto probs = torch::full({n}, 0.5, torch::TensorOptions(torch::kFloat32).device(gen.device()));
  return torch::bernoulli(probs, gen).to(torch::kBool);
}

torch::Tensor random_hflip(const torch::Tensor& batch, torch::Generator& gen) {
  TORCH_CHECK(batch.dim() == 4, "random_hflip expects an [N, C, H, W] batch, got ", batch.sizes());
  const auto flip = draw_flip_mask(batch.size(0), gen).to(batch.device()).view({-1, 1, 1, 1});
  return torch::where(flip, batch.flip({3}), batch);
}

torch::Tensor resize_bilinear(const torch::Tensor& images, int64_t height, int64_t width) {
  TORCH_CHECK(images.dim() == 3 || images.dim() == 4, "resize_bilinear expects [C, H, W] or [N, C, H, W], got ",
              images.sizes());
  const bool single = images.dim() == 3;
  const torch::Tensor batch = single ? images.unsqueeze(0) : images;
  if (batch.size(2) == height && batch.size(3) == width) return images;
  namespace F = torch::nn::functional;
  const torch::Tensor out = F::interpolate(batch, F::InterpolateFuncOptions()
                                                      .size(std::vector<int64_t>{height, width})
                                                      .mode(torch::kBilinear)
                                                      .align_corners(false));
  return single ? out.squeeze(0) : out;
}

std::pair<int64_t, int64_t> shorter_side_size(int64_t height, int64_t width, int64_t size) {
  if (height <= width) return {size, static_cast<int64_t>(static_cast<double>(size) * width / height)};
  return {static_cast<int64_t>(static_cast<double>(size) * height / width), size};
}

CropBox center_crop_box(int64_t height, int64_t width, int64_t size) {
  CropBox box;
  box.height = box.width = size;
  // nearbyint rounds half to even, as Python's round() in torchvision does.
  box.top = static_cast<int64_t>(std::nearbyint((height - size) / 2.0));
  box.left = static_cast<int64_t>(std::nearbyint((width - size) / 2.0));
  return box;
}

CropBox draw_crop_box(int64_t height, int64_t width, SplitMix64& rng) {
  const double area = static_cast<double>(height) * static_cast<double>(width);
  const double log_min = std::log(kCropRatioMin), log_max = std::log(kCropRatioMax);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target = area * (kCropScaleMin + (kCropScaleMax - kCropScaleMin) * rng.uniform());
    const double ratio = std::exp(log_min + (log_max - log_min) * rng.uniform());
    const auto w = static_cast<int64_t>(std::nearbyint(std::sqrt(target * ratio)));
    const auto h = static_cast<int64_t>(std::nearbyint(std::sqrt(target / ratio)));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      CropBox box;
      box.height = h;
      box.width = w;
      box.top = static_cast<int64_t>(rng.below(static_cast<uint64_t>(height - h + 1)));
      box.left = static_cast<int64_t>(rng.below(static_cast<uint64_t>(width - w + 1)));
      return box;
    }
  }
  // torchvision's fallback: the largest centered crop whose ratio is in range.
  const double in_ratio = static_cast<double>(width) / static_cast<double>(height);
  CropBox box;
  if (in_ratio < kCropRatioMin) {
    box.width = width;
    box.height = static_cast<int64_t>(std::nearbyint(width / kCropRatioMin));
  } else if (in_ratio > kCropRatioMax) {
    box.height = height;
    box.width = static_cast<int64_t>(std::nearbyint(height * kCropRatioMax));
  } else {
    box.width = width;
    box.height = height;
  }
  box.top = (height - box.height) / 2;
  box.left = (width - box.width) / 2;
  return box;
}

torch::Tensor random_resized_crop(const torch::Tensor& batch, SplitMix64& rng) {
  TORCH_CHECK(batch.dim() == 4, "random_resized_crop expects an [N, C, H, W] batch, got ", batch.sizes());
  const int64_t height = batch.size(2), width = batch.size(3);
  std::vector<torch::Tensor> out;
  out.reserve(static_cast<size_t>(batch.size(0)));
  for (int64_t i = 0; i < batch.size(0); ++i) {
    const CropBox box = draw_crop_box(height, width, rng);
    const torch::Tensor crop =
        batch[i].slice(1, box.top, box.top + box.height).slice(2, box.left, box.left + box.width);
    out.push_back(resize_bilinear(crop, height, width));
  }
  return torch::stack(out);
}

Augment parse_augment(const std::string& text, const std::string& where) {
  if (text == "none") return Augment::None;
  if (text == "flip") return Augment::Flip;
  if (text == "crop_flip") return Augment::CropFlip;
  throw ConfigError(where + ": '" + text + "' is not an augmentation (expected none | flip | crop_flip)");
}

const char* augment_name(Augment augment) {
  switch (augment) {
    case Augment::None:
      return "none";
    case Augment::Flip:
      return "flip";
    case Augment::CropFlip:
      return "crop_flip";
  }
  return "none";
}

}  // namespace harness

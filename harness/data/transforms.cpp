// Class selection, class-list parsing, per-channel normalization and random flips.
#include "harness/data/transforms.h"

#include <torch/torch.h>

#include <algorithm>
#include <cctype>
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

}  // namespace harness

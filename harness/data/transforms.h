// Transforms on in-memory data sets: class subsets, per-channel normalization, resizing,
// crops and flips.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "harness/data/dataset.h"
#include "harness/data/seeded_split.h"

namespace harness {

// Keeps the images of `classes` and relabels them 0..k-1 in the order given
// (classes {7, 5} make 7 -> 0 and 5 -> 1); image order is kept. num_classes becomes k.
// Throws DataError naming the class list and data.origin for an empty or repeated list,
// a class outside [0, num_classes), or a selection holding no image.
Dataset select_classes(const Dataset& data, const std::vector<int64_t>& classes);

// Parses "5-9", "0,2,4", "0-2,7" (spaces allowed around items) into classes in the order
// written. Empty text gives an empty list (meaning all classes). Throws ConfigError naming
// the text for anything else: non-numbers, negative or reversed ranges, repeats.
std::vector<int64_t> parse_class_list(const std::string& text);

// "0,2,4" form of a class list, for messages.
std::string format_class_list(const std::vector<int64_t>& classes);

// Per-channel statistics, each a float32 [C] tensor.
struct Normalization {
  torch::Tensor mean;
  torch::Tensor std;
};

// Mean and population standard deviation of each channel over all images and pixels of
// `train`. A constant channel gets std 1, so normalizing it cannot divide by zero.
// Throws DataError naming the origin if `train` is empty.
Normalization channel_stats(const Dataset& train);

// images <- (images - mean) / std per channel. The images are replaced, not written in
// place, so tensors shared with another Dataset stay untouched. Throws DataError if the
// channel counts differ.
void normalize(Dataset& data, const Normalization& stats);

// Draws one flip decision per image (true with probability 1/2) from `gen`, as a bool [n]
// tensor on the generator's device. random_hflip uses exactly this draw.
torch::Tensor draw_flip_mask(int64_t n, torch::Generator& gen);

// Mirrors each image of an [N, C, H, W] batch left-right with probability 1/2; the same
// generator state gives the same flips. The result is on the batch's device.
torch::Tensor random_hflip(const torch::Tensor& batch, torch::Generator& gen);

// Bilinear resize of an [N, C, H, W] or [C, H, W] float batch to height x width: exactly
// torch.nn.functional.interpolate(x, size, mode='bilinear', align_corners=False, antialias=False)
// (ATen's upsample_bilinear2d). Deterministic on the CPU. Without antialiasing a large
// downscale aliases, unlike PIL's or torchvision's antialiased Resize.
torch::Tensor resize_bilinear(const torch::Tensor& images, int64_t height, int64_t width);

// The size torchvision's Resize(size) gives an h x w image: the shorter side becomes `size`,
// the longer one int(size * long / short) (truncated), so the aspect ratio is kept.
std::pair<int64_t, int64_t> shorter_side_size(int64_t height, int64_t width, int64_t size);

// A crop: rows [top, top + height), columns [left, left + width).
struct CropBox {
  int64_t top = 0, left = 0, height = 0, width = 0;
};

// The centered size x size crop of torchvision's CenterCrop: top = round((h - size) / 2),
// left = round((w - size) / 2), halves to even as Python rounds. Needs size <= h and size <= w.
CropBox center_crop_box(int64_t height, int64_t width, int64_t size);

// torchvision's RandomResizedCrop ranges: area share and aspect ratio (w / h) of the crop.
constexpr double kCropScaleMin = 0.08, kCropScaleMax = 1.0;
constexpr double kCropRatioMin = 3.0 / 4.0, kCropRatioMax = 4.0 / 3.0;

// torchvision's RandomResizedCrop.get_params with its default ranges, drawn from `rng`: up to
// 10 tries of area ~ U(scale) * h * w and log ratio ~ U(log 3/4, log 4/3),
// w = round(sqrt(area * ratio)), h = round(sqrt(area / ratio)) (halves to even, as Python),
// accepted when it fits, at a
// uniform position; else the whole image cut to the ratio range, centered. The numbers come
// from SplitMix64, not torch's generator, so a seed gives the same boxes everywhere.
CropBox draw_crop_box(int64_t height, int64_t width, SplitMix64& rng);

// Per image of an [N, C, H, W] batch: a draw_crop_box crop resized back to H x W with
// resize_bilinear. The boxes are drawn in image order, so the same rng state gives the same
// batch. The result is on the batch's device.
torch::Tensor random_resized_crop(const torch::Tensor& batch, SplitMix64& rng);

// Training augmentation of the step loop: none, a random horizontal flip, or
// random_resized_crop followed by the flip.
enum class Augment { None, Flip, CropFlip };

// "none" | "flip" | "crop_flip"; throws ConfigError naming `where` for anything else.
Augment parse_augment(const std::string& text, const std::string& where);
const char* augment_name(Augment augment);

}  // namespace harness

// Transforms on in-memory data sets: class subsets, per-channel normalization, flips.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "harness/data/dataset.h"

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

}  // namespace harness

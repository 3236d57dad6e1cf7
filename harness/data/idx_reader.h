// Reader for IDX files (the MNIST / Fashion-MNIST format), gzip-compressed or plain.
#pragma once

#include <string>

#include "harness/data/dataset.h"

namespace harness {

// Reads an IDX image file (magic 0x00000803, unsigned bytes [N, H, W]) and its IDX label
// file (magic 0x00000801, unsigned bytes [N]); gzip is detected by its magic 1f 8b.
// Images become float32 [N, 1, H, W] in [0, 1] (byte / 255), labels int64;
// num_classes = max label + 1. Throws DataError naming the file and the problem: missing
// file, bad magic, zero dimensions, truncated or oversized payload, count mismatch.
Dataset read_idx(const std::string& images_path, const std::string& labels_path);

// Reads the standard four files of an MNIST-like folder: train-images-idx3-ubyte,
// train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each with or
// without a .gz suffix (the .gz file wins when both exist). Both splits get the larger
// num_classes of the two; a test label that never occurs in train is a DataError.
Split load_idx_dir(const std::string& dir);

}  // namespace harness

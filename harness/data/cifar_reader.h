// Reader for the CIFAR-10 / CIFAR-100 binary formats ("binary version" of the archives).
#pragma once

#include <string>
#include <vector>

#include "harness/data/dataset.h"

namespace harness {

// Which label a record carries and how many classes it has.
enum class CifarKind {
  Cifar10,         // record: 1 label byte (0..9) + 3072 image bytes
  Cifar100Fine,    // record: coarse byte (0..19) + fine byte (0..99) + 3072 image bytes; uses fine
  Cifar100Coarse,  // same record; uses the coarse (superclass) label
};

// Reads and concatenates CIFAR binary files: images (stored CHW, R then G then B planes)
// become float32 [N, 3, 32, 32] in [0, 1], labels int64; num_classes is the format's
// (10, 100 or 20), not the largest label seen. Throws DataError naming the file if it is
// missing, empty, not a whole number of records, or has a label out of range.
Dataset read_cifar(const std::vector<std::string>& files, CifarKind kind);

// Reads a folder with the standard names: data_batch_1.bin .. data_batch_5.bin and
// test_batch.bin (CIFAR-10), train.bin and test.bin (CIFAR-100). The archives' own
// subfolder (cifar-10-batches-bin, cifar-100-binary) is looked into when `dir` holds it.
Split load_cifar_dir(const std::string& dir, CifarKind kind);

// "cifar10", "cifar100" or "cifar100-coarse", for messages.
std::string cifar_kind_name(CifarKind kind);

}  // namespace harness

// Run-time device selection: the same source serves CPU and CUDA LibTorch builds.
#pragma once

#include <torch/types.h>

#include <string>

namespace harness {

// "auto" (CUDA when available, else CPU), "cpu", "cuda" or "cuda:K".
// Throws ConfigError when CUDA is asked for and not available.
torch::Device select_device(const std::string& spec);

// Deterministic algorithms where LibTorch offers them (cuDNN deterministic, no benchmark).
void set_deterministic(bool on);

// Threads for intra-op parallelism; 0 = all cores.
void set_threads(int threads);

// Human-readable LibTorch version, e.g. "1.13.0".
std::string torch_version();

}  // namespace harness

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

// Keeps the memory of freed tensors in the process instead of returning it to the
// kernel after every step. glibc serves blocks above its mmap threshold with fresh
// mmap() pages and unmaps them on free, so each training step of a CNN page-faults
// its activations in again: ~25,000 minor faults a step for convnet at batch 256,
// 10-25% of the step (bench/README.md). Raises the threshold to glibc's maximum
// (32 MiB) and stops heap trimming. Call once at start-up, before the first tensor;
// no effect on CUDA memory (LibTorch caches that itself) or outside glibc.
// HARNESS_KEEP_FREED_MEMORY=0 in the environment keeps glibc's defaults (less memory held).
void keep_freed_memory();
// The glibc settings keep_freed_memory applies (bench/step_bench gives them to Python too).
inline constexpr int kKeptMmapThreshold = 32 * 1024 * 1024;  // glibc's maximum on 64-bit systems
inline constexpr int kKeptTrimThreshold = 1 << 30;

// Human-readable LibTorch version, e.g. "1.13.0".
std::string torch_version();

}  // namespace harness

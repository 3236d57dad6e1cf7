// Run-time device selection: the same source serves CPU and CUDA LibTorch builds.
#pragma once

#include <torch/types.h>

#include <string>
#include <vector>

namespace harness {

// "auto" (CUDA when available, else CPU), "cpu", "cuda" or "cuda:K".
// Throws ConfigError when CUDA is asked for and not available.
torch::Device select_device(const std::string& spec);

// Deterministic algorithms where LibTorch offers them (cuDNN deterministic, no benchmark).
// On CUDA, cuBLAS needs a fixed workspace to be deterministic, set before its first use:
// when `on`, CUBLAS_WORKSPACE_CONFIG is set to kDeterministicCublasWorkspace unless the
// environment already gives it. Call before any tensor reaches the GPU.
void set_deterministic(bool on);
inline constexpr const char* kDeterministicCublasWorkspace = ":4096:8";
// The cuBLAS workspace setting in force ("" when none), for the experiment's record.
std::string cublas_workspace_config();

// Floating-point precision of training and evaluation (an experiment setting).
//   fp32: IEEE float32 everywhere; TF32 off for cuBLAS and cuDNN (LibTorch turns it on for
//         cuDNN convolutions by default)
//   tf32: float32 tensors, TF32 tensor-core maths in cuBLAS and cuDNN (CUDA only; same as fp32 on CPU)
//   bf16: fp32 parameters, forward passes under autocast to bfloat16
enum class Precision { Fp32, Tf32, Bf16 };
// Throws ConfigError naming `where` for anything but fp32, tf32 and bf16.
Precision parse_precision(const std::string& text, const std::string& where);
const char* precision_name(Precision precision);
// Applies the process-wide part (TF32 switches). Call once before training.
void set_precision(Precision precision);

// Memory layout of the backbone's convolutions (an experiment setting).
//   contiguous:    NCHW, LibTorch's default, and the layout of every study recorded before this setting
//   channels_last: NHWC for the 4-D parameters, the training batches and the evaluation images: the
//                  layout oneDNN's and cuDNN's fastest convolutions want (bench/README.md: step_bench).
// The two give different floating-point results (other kernels), so it is part of the experiment.
enum class MemoryFormat { Contiguous, ChannelsLast };
// Throws ConfigError naming `where` for anything but contiguous and channels_last.
MemoryFormat parse_memory_format(const std::string& text, const std::string& where);
const char* memory_format_name(MemoryFormat format);
torch::MemoryFormat torch_memory_format(MemoryFormat format);
// Puts every 4-D tensor of `tensors` (parameters: their data is replaced in place, so modules and
// optimizers holding them see the new layout) into `format`.
void to_memory_format(const std::vector<torch::Tensor>& tensors, MemoryFormat format);

// Autocast to bfloat16 on `device` while alive when precision is bf16; otherwise nothing.
class AutocastScope {
 public:
  AutocastScope(Precision precision, const torch::Device& device);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_ = false;
  torch::DeviceType device_type_ = torch::kCPU;
  bool was_enabled_ = false;
};

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

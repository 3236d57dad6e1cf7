// Device selection and determinism settings.
#include "harness/device.h"

#include "harness/errors.h"

#include <ATen/autocast_mode.h>
#include <torch/torch.h>
#include <torch/version.h>

#if defined(HARNESS_WITH_CUDA)
#include <cuda_runtime_api.h>
#endif

#include <cstdlib>
#include <string>
#include <thread>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#define HARNESS_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

namespace harness {
namespace {

// Why no GPU can be used, in words: what is missing and what to do about it.
std::string why_no_cuda() {
#if defined(HARNESS_WITH_CUDA)
  int count = 0;
  const cudaError_t rc = cudaGetDeviceCount(&count);
  const char* visible = std::getenv("CUDA_VISIBLE_DEVICES");
  return std::string("LibTorch " TORCH_VERSION " has CUDA but the CUDA runtime finds no usable GPU: ") +
         (rc != cudaSuccess ? cudaGetErrorString(rc) : "no device") +
         " (is an NVIDIA driver installed and a GPU visible? CUDA_VISIBLE_DEVICES=" + (visible ? visible : "(unset)") +
         ")";
#else
  return "this harness is built against a LibTorch without CUDA (LibTorch " TORCH_VERSION
         "; Debian's libtorch-dev is CPU-only): build it against a CUDA LibTorch such as the pip torch "
         "wheel's (README, 'Building by hand, and for a GPU')";
#endif
}

}  // namespace

torch::Device select_device(const std::string& spec) {
  if (spec == "auto") return torch::cuda::is_available() ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  if (spec == "cpu") return torch::Device(torch::kCPU);
  if (spec == "cuda" || spec.rfind("cuda:", 0) == 0) {
    if (!torch::cuda::is_available()) {
      throw ConfigError("device '" + spec + "': CUDA is not available: " + why_no_cuda() +
                        "; or use --experiment.device cpu or auto");
    }
    int index = 0;
    if (spec.size() > 5) {
      try {
        index = std::stoi(spec.substr(5));
      } catch (const std::exception&) {
        throw ConfigError("device '" + spec + "': expected cuda:K with K a GPU index");
      }
    }
    if (index < 0 || index >= static_cast<int>(torch::cuda::device_count())) {
      throw ConfigError("device '" + spec + "': only " + std::to_string(torch::cuda::device_count()) + " GPU(s) visible");
    }
    return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  throw ConfigError("device '" + spec + "': expected auto, cpu, cuda or cuda:K");
}

void set_deterministic(bool on) {
  // cuBLAS reads this once, when its first handle is made.
  if (on) ::setenv("CUBLAS_WORKSPACE_CONFIG", kDeterministicCublasWorkspace, /*overwrite=*/0);
  at::globalContext().setDeterministicAlgorithms(on, /*warn_only=*/true);
  at::globalContext().setDeterministicCuDNN(on);
  at::globalContext().setBenchmarkCuDNN(!on);
}

std::string cublas_workspace_config() {
  const char* value = std::getenv("CUBLAS_WORKSPACE_CONFIG");
  return value ? value : "";
}

Precision parse_precision(const std::string& text, const std::string& where) {
  if (text == "fp32") return Precision::Fp32;
  if (text == "tf32") return Precision::Tf32;
  if (text == "bf16") return Precision::Bf16;
  throw ConfigError(where + ": '" + text + "' is not a precision; expected fp32, tf32 or bf16");
}

MemoryFormat parse_memory_format(const std::string& text, const std::string& where) {
  if (text == "contiguous") return MemoryFormat::Contiguous;
  if (text == "channels_last") return MemoryFormat::ChannelsLast;
  throw ConfigError(where + ": '" + text + "' is not a memory format; expected contiguous or channels_last");
}

const char* memory_format_name(MemoryFormat format) {
  return format == MemoryFormat::ChannelsLast ? "channels_last" : "contiguous";
}

torch::MemoryFormat torch_memory_format(MemoryFormat format) {
  return format == MemoryFormat::ChannelsLast ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous;
}

void to_memory_format(const std::vector<torch::Tensor>& tensors, MemoryFormat format) {
  torch::NoGradGuard no_grad;
  for (const torch::Tensor& t : tensors) {
    if (t.dim() != 4) continue;
    // A copy with the layout's strides, not contiguous(): a weight with one input channel (the
    // first convolution on grey images) already counts as contiguous in both layouts, keeps its
    // NCHW strides under contiguous(), and oneDNN then runs that layer, and the largest
    // activations after it, in NCHW with a reorder at the next layer (step_bench, bench/README.md).
    torch::Tensor laid_out = torch::empty_like(t, t.options(), torch_memory_format(format));
    laid_out.copy_(t);
    t.set_data(laid_out);
  }
}

const char* precision_name(Precision precision) {
  switch (precision) {
    case Precision::Fp32: return "fp32";
    case Precision::Tf32: return "tf32";
    case Precision::Bf16: return "bf16";
  }
  return "?";
}

void set_precision(Precision precision) {
  const bool tf32 = precision == Precision::Tf32;
#if HARNESS_TORCH_AT_LEAST(2, 10)
  // The per-backend API; mixing it with the legacy switches makes LibTorch warn.
  const auto p = tf32 ? at::Float32Precision::TF32 : at::Float32Precision::IEEE;
  auto& context = at::globalContext();
  context.setFloat32Precision(at::Float32Backend::CUDA, at::Float32Op::MATMUL, p);
  context.setFloat32Precision(at::Float32Backend::CUDA, at::Float32Op::CONV, p);
  context.setFloat32Precision(at::Float32Backend::CUDA, at::Float32Op::RNN, p);
#else
  at::globalContext().setAllowTF32CuBLAS(tf32);
  at::globalContext().setAllowTF32CuDNN(tf32);
#endif
}

namespace {

bool autocast_enabled(torch::DeviceType type) {
#if HARNESS_TORCH_AT_LEAST(2, 4)
  return at::autocast::is_autocast_enabled(type);
#else
  return type == torch::kCUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
#endif
}

void set_autocast(torch::DeviceType type, bool on) {
#if HARNESS_TORCH_AT_LEAST(2, 4)
  if (on) at::autocast::set_autocast_dtype(type, at::kBFloat16);
  at::autocast::set_autocast_enabled(type, on);
#else
  if (type == torch::kCUDA) {
    if (on) at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
    at::autocast::set_enabled(on);
  } else {
    if (on) at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
    at::autocast::set_cpu_enabled(on);
  }
#endif
}

}  // namespace

AutocastScope::AutocastScope(Precision precision, const torch::Device& device) {
  if (precision != Precision::Bf16) return;
  device_type_ = device.type();
  was_enabled_ = autocast_enabled(device_type_);
  set_autocast(device_type_, true);
  active_ = true;
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  set_autocast(device_type_, was_enabled_);
  // Autocast caches the bf16 copies of the weights while enabled; they are stale after the step.
  if (!was_enabled_) at::autocast::clear_cache();
}

void set_threads(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(threads);
}

void keep_freed_memory() {
#if defined(__GLIBC__)
  const char* opt_out = std::getenv("HARNESS_KEEP_FREED_MEMORY");
  if (opt_out && std::string(opt_out) == "0") return;
  // 32 MiB is the largest mmap threshold glibc accepts on 64-bit systems; blocks
  // above it (large VGG/ResNet activations) are still mapped per allocation.
  ::mallopt(M_MMAP_THRESHOLD, kKeptMmapThreshold);
  ::mallopt(M_TRIM_THRESHOLD, kKeptTrimThreshold);
#endif
}

std::string torch_version() { return TORCH_VERSION; }

}  // namespace harness

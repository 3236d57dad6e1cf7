// Device selection and determinism settings.
#include "harness/device.h"

#include "harness/errors.h"

#include <torch/torch.h>
#include <torch/version.h>

#include <cstdlib>
#include <string>
#include <thread>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace harness {

torch::Device select_device(const std::string& spec) {
  if (spec == "auto") return torch::cuda::is_available() ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  if (spec == "cpu") return torch::Device(torch::kCPU);
  if (spec == "cuda" || spec.rfind("cuda:", 0) == 0) {
    if (!torch::cuda::is_available()) {
      throw ConfigError("device '" + spec + "': CUDA is not available (this LibTorch build has no CUDA, or no GPU is visible); use --experiment.device cpu or auto");
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
  at::globalContext().setDeterministicAlgorithms(on, /*warn_only=*/true);
  at::globalContext().setDeterministicCuDNN(on);
  at::globalContext().setBenchmarkCuDNN(!on);
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

// Device selection and determinism settings.
#include "harness/device.h"

#include "harness/errors.h"

#include <torch/torch.h>
#include <torch/version.h>

#include <thread>

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

std::string torch_version() { return TORCH_VERSION; }

}  // namespace harness

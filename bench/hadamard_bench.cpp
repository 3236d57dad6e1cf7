// hadamard_bench: median time of the fixed_hadamard head (fast Walsh-Hadamard transform)
// Usage: hadamard_bench [plugin.so (default: the build's fixed_hadamard.so)] [threads (default 1)]
// against the same head as a dense matmul, K = 2048, C = 1000, batch 256 (see bench/README.md).
#include "harness/loader/loaded_strategy.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

namespace {

constexpr int64_t kFeatures = 2048;
constexpr int64_t kClasses = 1000;
constexpr int64_t kBatch = 256;
constexpr int kWarmup = 5;
constexpr int kRepeats = 31;

double median_ms(const std::function<void()>& run) {
  for (int i = 0; i < kWarmup; ++i) run();
  std::vector<double> ms;
  for (int i = 0; i < kRepeats; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    run();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::nth_element(ms.begin(), ms.begin() + ms.size() / 2, ms.end());
  return ms[ms.size() / 2];
}

torch::Tensor sylvester(int64_t p) {
  auto h = torch::ones({1, 1});
  while (h.size(0) < p) h = torch::cat({torch::cat({h, h}, 1), torch::cat({h, -h}, 1)}, 0);
  return h;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string plugin = argc > 1 && argv[1][0] != 0 ? argv[1] : std::string(HARNESS_DEFAULT_STRATEGY_DIR) + "/fixed_hadamard.so";
  const int threads = argc > 2 ? std::atoi(argv[2]) : 1;
  at::set_num_threads(threads);
  auto strategy = harness::LoadedStrategy::load(plugin);
  harness::sdk::HeadSpec spec;
  spec.features = kFeatures;
  spec.classes = kClasses;
  torch::manual_seed(0);
  auto head = strategy->make_head(spec, harness::sdk::Params(std::map<std::string, std::string>{{"alpha_init", "10"}}));
  auto params = head->named_parameters();
  const auto alpha = params["alpha"], bias = params["bias"];
  const int64_t p = 2048;  // next power of two >= max(K, C)
  const auto dense = sylvester(p).narrow(0, 0, kClasses).narrow(1, 0, kFeatures).contiguous();  // [C, K] +-1
  const auto dense_head = [&](const torch::Tensor& x) {
    const auto x_hat = x / x.norm(2, {1}, true).clamp_min(1e-12);
    return x_hat.matmul(dense.t()) * (alpha / std::sqrt(static_cast<double>(p))) + bias;
  };
  const auto x = torch::randn({kBatch, kFeatures});
  {
    torch::NoGradGuard no_grad;
    const double diff = (head->forward(x) - dense_head(x)).abs().max().item<double>();
    std::cout << "max |fwht - dense| = " << diff << "\n";
  }
  double fwht_fwd = 0, dense_fwd = 0;
  {
    torch::NoGradGuard no_grad;
    fwht_fwd = median_ms([&] { head->forward(x); });
    dense_fwd = median_ms([&] { dense_head(x); });
  }
  auto xg = x.clone().requires_grad_(true);
  const double fwht_bwd = median_ms([&] { head->forward(xg).sum().backward(); });
  const double dense_bwd = median_ms([&] { dense_head(xg).sum().backward(); });
  std::cout << "K=" << kFeatures << " C=" << kClasses << " N=" << kBatch << " threads=" << threads
            << " repeats=" << kRepeats << " (median ms)\n"
            << "forward           fwht " << fwht_fwd << "  dense " << dense_fwd << "  dense/fwht "
            << dense_fwd / fwht_fwd << "\n"
            << "forward+backward  fwht " << fwht_bwd << "  dense " << dense_bwd << "  dense/fwht "
            << dense_bwd / fwht_bwd << "\n";
  return 0;
}

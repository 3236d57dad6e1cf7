// hadamard_bench: median time of the fixed_hadamard head (fast Walsh-Hadamard transform)
// against the same head as a dense matmul, K = 2048, C = 1000, batch 256 (see bench/README.md).
// Usage: hadamard_bench [plugin.so (default: the build's fixed_hadamard.so)] [threads (default 1)]
#include "bench/options.h"
#include "harness/loader/loaded_strategy.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
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
  namespace po = bench::po;
  po::options_description options("options");
  options.add_options()
      ("plugin", po::value<std::string>()->default_value(std::string(HARNESS_DEFAULT_STRATEGY_DIR) + "/fixed_hadamard.so"),
       "the fixed_hadamard plugin file")
      ("threads", po::value<int>()->default_value(1), "intra-op threads of LibTorch");
  po::positional_options_description positional;
  positional.add("plugin", 1).add("threads", 1);
  const auto vm = bench::parse_options(
      argc, argv,
      "hadamard_bench [PLUGIN [THREADS]]: forward and backward time of the fixed_hadamard head's FWHT kernel,\n"
      "its tensor-op variant and a dense matmul with the same matrix",
      options, positional);
  const std::string plugin = vm["plugin"].as<std::string>();
  const int threads = bench::at_least(vm, "threads", 1);
  at::set_num_threads(threads);
  auto strategy = harness::LoadedStrategy::load(plugin);
  harness::sdk::HeadSpec spec;
  spec.features = kFeatures;
  spec.classes = kClasses;
  torch::manual_seed(0);
  auto kernel_head = strategy->make_head(spec, harness::sdk::Params(std::map<std::string, std::string>{
                                                    {"alpha_init", "10"}, {"fwht_impl", "auto"}}));
  auto ops_head = strategy->make_head(spec, harness::sdk::Params(std::map<std::string, std::string>{
                                                 {"alpha_init", "10"}, {"fwht_impl", "tensor_ops"}}));
  auto params = kernel_head->named_parameters();
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
    std::cout << "max |kernel - dense| = " << (kernel_head->forward(x) - dense_head(x)).abs().max().item<double>()
              << ", max |tensor_ops - dense| = " << (ops_head->forward(x) - dense_head(x)).abs().max().item<double>()
              << "\n";
  }
  struct Row {
    const char* name;
    std::function<torch::Tensor(const torch::Tensor&)> run;
    double forward = 0, backward = 0;
  };
  std::vector<Row> rows = {{"fwht kernel (default)", [&](const torch::Tensor& in) { return kernel_head->forward(in); }},
                           {"fwht tensor ops", [&](const torch::Tensor& in) { return ops_head->forward(in); }},
                           {"dense matmul", dense_head}};
  auto xg = x.clone().requires_grad_(true);
  for (Row& row : rows) {
    {
      torch::NoGradGuard no_grad;
      row.forward = median_ms([&] { row.run(x); });
    }
    row.backward = median_ms([&] { row.run(xg).sum().backward(); });
  }
  std::cout << "K=" << kFeatures << " C=" << kClasses << " N=" << kBatch << " threads=" << threads
            << ", median of " << kRepeats << " runs (ms)\n";
  std::printf("%-24s %10s %18s %14s\n", "head", "forward", "forward+backward", "dense/this fwd");
  for (const Row& row : rows) {
    std::printf("%-24s %10.3f %18.3f %14.2f\n", row.name, row.forward, row.backward, rows[2].forward / row.forward);
  }
  return 0;
}

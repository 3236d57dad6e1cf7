// Step-loop benchmark: median training-step time of the harness with recording
// on and off, and against a PyTorch (Python) loop doing the same step.
//
// usage: build/bin/step_bench [--threads 2] [--steps 60] [--repeats 5]
// Runs bench/step_bench.py with /usr/bin/python3 side by side in the same run.
#include "db/store.h"
#include "harness/data/dataset.h"
#include "harness/device.h"
#include "harness/loader/strategy_registry.h"
#include "harness/models/builtin_backbone.h"
#include "harness/trial.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::string arg(int argc, char** argv, const char* name, const char* fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (!std::strcmp(argv[i], name)) return argv[i + 1];
  }
  return fallback;
}

// With `keep_freed_memory`, Python gets the settings of harness::keep_freed_memory as glibc tunables.
double python_median(int threads, int steps, bool plain, bool keep_freed_memory = false) {
  const std::string script = std::string(HARNESS_SOURCE_DIR) + "/bench/step_bench.py";
  const std::string tunables = "GLIBC_TUNABLES=glibc.malloc.mmap_threshold=" +
                               std::to_string(harness::kKeptMmapThreshold) +
                               ":glibc.malloc.trim_threshold=" + std::to_string(harness::kKeptTrimThreshold) + " ";
  const std::string cmd = (keep_freed_memory ? tunables : "") + "/usr/bin/python3 " + script + " --threads " +
                          std::to_string(threads) + " --steps " + std::to_string(steps) + (plain ? " --plain" : "");
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (!pipe) return NAN;
  char line[256];
  double value = NAN;
  while (std::fgets(line, sizeof line, pipe)) std::sscanf(line, "python_median_step_seconds %lf", &value);
  ::pclose(pipe);
  return value;
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = std::stoi(arg(argc, argv, "--threads", "2"));
  const int steps = std::stoi(arg(argc, argv, "--steps", "60"));
  const int repeats = std::stoi(arg(argc, argv, "--repeats", "5"));
  harness::keep_freed_memory();  // as the harness command does at start-up
  harness::set_threads(threads);

  harness::Split data;
  torch::manual_seed(0);
  data.train.images = torch::randn({8192, 1, 28, 28});
  data.train.labels = torch::randint(0, 10, {8192}, torch::kLong);
  data.train.num_classes = 10;
  data.test.images = torch::randn({2000, 1, 28, 28});
  data.test.labels = torch::randint(0, 10, {2000}, torch::kLong);
  data.test.num_classes = 10;

  harness::StrategyRegistry registry = harness::StrategyRegistry::discover({HARNESS_DEFAULT_STRATEGY_DIR});
  const auto& strategy = registry.get("he_base");

  auto run = [&](bool record, bool eval, std::vector<double>* step_times) {
    harness::TrainConfig train;
    train.steps = steps;
    train.batch_size = 256;
    train.lr = 1e-4;
    train.dense_eval_steps = eval ? steps : 0;
    train.eval_every = eval ? 1 : steps;
    harness::TrialInput input;
    input.train = &train;
    input.data = &data;
    input.strategy = &strategy;
    input.params = harness::resolve_params(strategy.strategy(), {});
    input.seed = 0;
    input.make_backbone = [] { return harness::make_backbone({"convnet", 1, 28}); };
    const auto path = std::filesystem::temp_directory_path() / "step_bench.db";
    std::filesystem::remove(path);
    harness::db::Store store = harness::db::Store::open(path.string());
    std::optional<harness::db::StepRecorder> recorder;
    if (record) {
      harness::db::ExperimentRecord rec;
      rec.name = "bench";
      rec.config_text = "bench";
      rec.config_hash = "0";
      rec.harness_version = rec.git_revision = rec.torch_version = rec.host = "bench";
      rec.device = "cpu";
      const int64_t id = store.ensure_experiment(rec);
      store.ensure_trials(id, {{"he_base", 0, "{}", steps}});
      const auto claimed = store.claim_next_trial(id, "bench:0");
      recorder.emplace(store.recorder(claimed->trial_id));
    }
    const auto t0 = std::chrono::steady_clock::now();
    harness::run_trial(input, [&](const harness::db::StepRow& row, const std::vector<harness::db::MetricRow>& m) {
      if (step_times) step_times->push_back(row.step_seconds + row.eval_seconds.value_or(0.0));
      if (recorder) recorder->add(row, m);
    });
    if (recorder) recorder->finish(0.0);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / steps;
  };

  // Every repeat runs all four side by side, so a change in the machine's load hits each alike;
  // the ratios are taken within a repeat, then their median is reported.
  std::vector<double> on, off, py, py_plain, py_kept, step_medians, overhead, ratio, ratio_plain, ratio_kept;
  run(false, false, nullptr);  // warm-up
  for (int r = 0; r < repeats; ++r) {
    std::vector<double> step_times;
    off.push_back(run(false, false, nullptr));
    on.push_back(run(true, false, &step_times));
    py.push_back(python_median(threads, steps, false));
    py_plain.push_back(python_median(threads, steps, true));
    py_kept.push_back(python_median(threads, steps, false, true));
    step_medians.push_back(median(step_times));
    overhead.push_back(on.back() / off.back() - 1.0);
    ratio.push_back(step_medians.back() / py.back());
    ratio_plain.push_back(step_medians.back() / py_plain.back());
    ratio_kept.push_back(step_medians.back() / py_kept.back());
    std::printf(
        "  repeat %d: off %.4f s, on %.4f s, harness step %.4f s, python %.4f s, python plain %.4f s, "
        "python with the harness's malloc settings %.4f s\n",
        r + 1, off.back(), on.back(), step_medians.back(), py.back(), py_plain.back(), py_kept.back());
  }
  std::vector<double> eval_times;
  run(false, true, &eval_times);

  std::printf("step_bench: convnet, batch 256, 28x28x1, %d threads, %d steps x %d repeats (medians over repeats)\n",
              threads, steps, repeats);
  std::printf("  trial time per step, recording off: %.4f s\n", median(off));
  std::printf("  trial time per step, recording on:  %.4f s\n", median(on));
  std::printf("  recording overhead (per repeat, on/off - 1): %+.2f%%\n", 100.0 * median(overhead));
  std::printf("  harness median training step (measurements included): %.4f s\n", median(step_medians));
  std::printf("  python  median training step (same measurements):     %.4f s  ratio harness/python %.3f\n",
              median(py), median(ratio));
  std::printf("  python  median training step (no measurements):       %.4f s  ratio harness/python %.3f\n",
              median(py_plain), median(ratio_plain));
  std::printf("  python  median training step (harness's malloc settings): %.4f s  ratio harness/python %.3f\n",
              median(py_kept), median(ratio_kept));
  std::printf("  harness median step with test evaluation (2000 images) every step: %.4f s\n", median(eval_times));
  return 0;
}

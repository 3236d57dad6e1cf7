// Step-loop benchmark: median training-step time of the harness with recording
// on and off, and against a PyTorch (Python) loop doing the same step.
//
// usage: build/bin/step_bench [--threads 2] [--steps 60] [--repeats 5]
// Runs bench/step_bench.py with /usr/bin/python3 side by side in the same run.
#include "bench/options.h"
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

// With `keep_freed_memory`, Python gets the settings of harness::keep_freed_memory as glibc tunables.
double python_median(int threads, int steps, bool plain, bool keep_freed_memory, bool channels_last = false) {
  const std::string script = std::string(HARNESS_SOURCE_DIR) + "/bench/step_bench.py";
  const std::string tunables = "GLIBC_TUNABLES=glibc.malloc.mmap_threshold=" +
                               std::to_string(harness::kKeptMmapThreshold) +
                               ":glibc.malloc.trim_threshold=" + std::to_string(harness::kKeptTrimThreshold) + " ";
  const std::string cmd = (keep_freed_memory ? tunables : "") + "/usr/bin/python3 " + script + " --threads " +
                          std::to_string(threads) + " --steps " + std::to_string(steps) + (plain ? " --plain" : "") +
                          (channels_last ? " --channels-last" : "");
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (!pipe) return NAN;
  char line[256];
  double value = NAN;
  while (std::fgets(line, sizeof line, pipe)) std::sscanf(line, "python_median_step_seconds %lf", &value);
  ::pclose(pipe);
  return value;
}

template <class F>
double median_seconds(int repeats, F&& f) {
  std::vector<double> t;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return median(t);
}

// The machine's own floor for the step's arithmetic: the three convolutions of convnet at batch
// 256 (28x28x1 -> 32, 14x14x32 -> 64, 7x7x64 -> 128, 3x3, padding 1), forward and both backward
// passes, each timed bare, in the faster of the two layouts; and the same work as the three
// GEMMs per layer of its im2col form ([NHW, 9 Cin] x [9 Cin, Cout] forward, and the two
// backward products), which leaves out im2col itself and so bounds the arithmetic from below.
struct Floor {
  double conv = 0, gemm = 0;
};

Floor step_floor() {
  struct Layer {
    int64_t cin, cout, size;
  };
  const Layer layers[] = {{1, 32, 28}, {32, 64, 14}, {64, 128, 7}};
  const int64_t n = 256;
  Floor floor;
  for (const Layer& l : layers) {
    double best = INFINITY;
    for (const auto format : {torch::MemoryFormat::Contiguous, torch::MemoryFormat::ChannelsLast}) {
      const auto x = torch::randn({n, l.cin, l.size, l.size}).contiguous(format).requires_grad_(true);
      const auto w = torch::randn({l.cout, l.cin, 3, 3}).contiguous(format).requires_grad_(true);
      const auto grad = torch::randn({n, l.cout, l.size, l.size}).contiguous(format);
      auto once = [&] {
        const auto y = torch::conv2d(x, w, {}, 1, 1);
        const auto g = torch::autograd::grad({y}, {x, w}, {grad});
      };
      once();
      best = std::min(best, median_seconds(7, once));
    }
    floor.conv += best;
    const int64_t rows = n * l.size * l.size, k = 9 * l.cin;
    const auto cols = torch::randn({rows, k}), w = torch::randn({k, l.cout}), g = torch::randn({rows, l.cout});
    auto gemms = [&] {
      const auto y = cols.mm(w);           // forward
      const auto dx = g.mm(w.t());         // backward, data
      const auto dw = cols.t().mm(g);      // backward, weight
    };
    gemms();
    floor.gemm += median_seconds(7, gemms);
  }
  return floor;
}

}  // namespace

int main(int argc, char** argv) {
  namespace po = bench::po;
  po::options_description options("options");
  options.add_options()
      ("threads", po::value<int>()->default_value(2), "intra-op threads of LibTorch (and of the Python step)")
      ("steps", po::value<int>()->default_value(60), "training steps per timed run")
      ("repeats", po::value<int>()->default_value(5), "repeats; medians of per-repeat ratios are reported");
  const auto vm = bench::parse_options(
      argc, argv,
      "step_bench: median training-step time of the harness (recording on and off) against the same step\n"
      "in PyTorch (bench/step_bench.py), side by side in each repeat (figures in bench/README.md)",
      options);
  const int threads = bench::at_least(vm, "threads", 1);
  const int steps = bench::at_least(vm, "steps", 1);
  const int repeats = bench::at_least(vm, "repeats", 1);
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

  // `recorder_seconds`: time spent inside the recorder (add, its flushes, finish) in this trial.
  auto run = [&](bool record, bool eval, harness::MemoryFormat format, std::vector<double>* step_times,
                 double* recorder_seconds = nullptr) {
    harness::TrainConfig train;
    train.steps = steps;
    train.batch_size = 256;
    train.lr = 1e-4;
    train.dense_eval_steps = eval ? steps : 0;
    train.eval_every = eval ? 1 : steps;
    train.memory_format = format;
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
    double in_recorder = 0;
    auto timed = [&](auto&& f) {
      const auto r0 = std::chrono::steady_clock::now();
      f();
      in_recorder += std::chrono::duration<double>(std::chrono::steady_clock::now() - r0).count();
    };
    const auto t0 = std::chrono::steady_clock::now();
    harness::run_trial(input, [&](const harness::db::StepRow& row, const std::vector<harness::db::MetricRow>& m) {
      if (step_times) step_times->push_back(row.step_seconds + row.eval_seconds.value_or(0.0));
      if (recorder) timed([&] { recorder->add(row, m); });
    });
    if (recorder) timed([&] { recorder->finish(0.0); });
    const double trial = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (recorder_seconds) *recorder_seconds = in_recorder / trial;
    return trial / steps;
  };
  using harness::MemoryFormat;

  // Every repeat runs everything side by side, so a change in the machine's load hits each alike;
  // the ratios are taken within a repeat, then their median is reported. "Equal terms" is Python
  // with the harness's allocator settings (glibc tunables), the same measurements and threads.
  std::vector<double> on, off, step_nchw, step_nhwc, py, py_kept, py_kept_nhwc, overhead, ratio_kept, ratio_nhwc,
      ratio_nhwc_default, ratio_nhwc_both, conv_floor, gemm_floor, recorder_share;
  run(false, false, MemoryFormat::Contiguous, nullptr);  // warm-up
  run(false, false, MemoryFormat::ChannelsLast, nullptr);
  for (int r = 0; r < repeats; ++r) {
    std::vector<double> nchw_times, nhwc_times;
    off.push_back(run(false, false, MemoryFormat::Contiguous, nullptr));
    double share = 0;
    on.push_back(run(true, false, MemoryFormat::Contiguous, &nchw_times, &share));
    recorder_share.push_back(share);
    run(true, false, MemoryFormat::ChannelsLast, &nhwc_times);
    py.push_back(python_median(threads, steps, false, false));
    py_kept.push_back(python_median(threads, steps, false, true));
    py_kept_nhwc.push_back(python_median(threads, steps, false, true, true));
    const Floor f = step_floor();
    step_nchw.push_back(median(nchw_times));
    step_nhwc.push_back(median(nhwc_times));
    conv_floor.push_back(step_nhwc.back() / f.conv);
    gemm_floor.push_back(step_nhwc.back() / f.gemm);
    overhead.push_back(on.back() / off.back() - 1.0);
    ratio_kept.push_back(step_nchw.back() / py_kept.back());
    ratio_nhwc.push_back(step_nhwc.back() / py_kept.back());
    ratio_nhwc_default.push_back(step_nhwc.back() / py.back());
    ratio_nhwc_both.push_back(step_nhwc.back() / py_kept_nhwc.back());
    std::printf(
        "  repeat %d: trial/step off %.4f s, on %.4f s; harness step nchw %.4f s, nhwc %.4f s; python %.4f s, "
        "python (harness malloc) %.4f s, python nhwc (harness malloc) %.4f s; floor conv %.4f s, gemm %.4f s\n",
        r + 1, off.back(), on.back(), step_nchw.back(), step_nhwc.back(), py.back(), py_kept.back(),
        py_kept_nhwc.back(), f.conv, f.gemm);
  }
  std::vector<double> eval_nchw, eval_nhwc;
  run(false, true, MemoryFormat::Contiguous, &eval_nchw);
  run(false, true, MemoryFormat::ChannelsLast, &eval_nhwc);

  std::printf("step_bench: convnet, batch 256, 28x28x1, %d threads, %d steps x %d repeats (medians over repeats)\n",
              threads, steps, repeats);
  std::printf("  trial time per step, recording off: %.4f s, on: %.4f s; on/off - 1: %+.2f%% (two runs' noise)\n",
              median(off), median(on), 100.0 * median(overhead));
  std::printf("  recording overhead: time inside the recorder (add, flushes, finish) / trial time: %.3f%% (target < 1%%)\n",
              100.0 * median(recorder_share));
  std::printf("  harness step, contiguous:    %.4f s\n", median(step_nchw));
  std::printf("  harness step, channels_last: %.4f s\n", median(step_nhwc));
  std::printf("  python step (same measurements): %.4f s; with the harness's malloc settings: %.4f s; "
              "and channels_last: %.4f s\n", median(py), median(py_kept), median(py_kept_nhwc));
  std::printf("  ratio harness contiguous / python, equal terms:    %.3f\n", median(ratio_kept));
  std::printf("  ratio harness channels_last / python, equal terms: %.3f (target <= 0.8)\n", median(ratio_nhwc));
  std::printf("  ratio harness channels_last / python, python's default malloc: %.3f\n", median(ratio_nhwc_default));
  std::printf("  ratio harness channels_last / python channels_last, equal terms: %.3f\n", median(ratio_nhwc_both));
  std::printf("  harness channels_last step / the step's bare convolutions: %.2f; / their im2col GEMMs: %.2f\n",
              median(conv_floor), median(gemm_floor));
  std::printf("  harness step with test evaluation (2000 images) every step: contiguous %.4f s, channels_last %.4f s\n",
              median(eval_nchw), median(eval_nhwc));
  return 0;
}

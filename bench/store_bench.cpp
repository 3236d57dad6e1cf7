// Store benchmark: bulk insert rate of step rows through StepRecorder into a temporary
// database file (WAL, synchronous=NORMAL), median of several repeats.
//
// usage: build/bin/store_bench [--rows 200000] [--repeats 5] [--flush-rows 512] [--metrics 2]
// Times add() of every row plus finish() (the last batch and the 'done' update),
// first with step rows only, then with `--metrics` metric rows per step.
#include "db/store.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <ctime>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

long arg(int argc, char** argv, const char* name, long fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (!std::strcmp(argv[i], name)) return std::strtol(argv[i + 1], nullptr, 10);
  }
  return fallback;
}

double cpu_seconds() {
  timespec t{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

struct Timing {
  double wall = 0;
  double cpu = 0;  // this process's CPU time: less sensitive to other load on a shared machine
};

// Time to record `rows` steps (each with `metrics` metric rows) into a fresh file.
Timing record_once(const std::string& path, int64_t rows, std::size_t flush_rows, int metrics) {
  std::filesystem::remove(path);
  std::filesystem::remove(path + "-wal");
  std::filesystem::remove(path + "-shm");
  harness::db::Store store = harness::db::Store::open(path);
  harness::db::ExperimentRecord record;
  record.name = "bench";
  record.config_hash = "bench";
  const int64_t e = store.ensure_experiment(record);
  store.ensure_trials(e, {{"he_base", 0, "{}", rows}});
  const auto trial = store.claim_next_trial(e, "bench:" + std::to_string(::getpid()));

  // Rows are built before the clock starts: only the store is timed.
  std::vector<harness::db::StepRow> steps(rows);
  std::vector<std::vector<harness::db::MetricRow>> extra(rows);
  for (int64_t s = 0; s < rows; ++s) {
    harness::db::StepRow& r = steps[s];
    r.step = s + 1;
    r.phase = s < 1 ? "head" : "full";
    r.lr = 1e-4;
    r.train_loss = 2.3 / (1.0 + 0.01 * s);
    r.train_acc = 0.1 + 0.8 * s / rows;
    if (s < 30 || s % 10 == 0) {
      r.test_acc = r.train_acc;
      r.test_loss = r.train_loss;
      r.eval_seconds = 0.05;
    }
    r.zeta = 0.1;
    r.label_energy = 1.0;
    r.cross_energy = 0.2;
    r.phi = 0.9;
    r.noise_fraction = 0.01;
    r.feature_grad_energy = 1e-3 * s;
    r.feature_variance = 0.5;
    r.backbone_drift = 1e-4 * s;
    r.step_seconds = 0.01;
    for (int m = 0; m < metrics; ++m) extra[s].push_back({s + 1, "metric_" + std::to_string(m), 0.5 * m});
  }

  harness::db::RecorderOptions options;
  options.flush_rows = flush_rows;
  harness::db::StepRecorder recorder = store.recorder(trial->trial_id, options);
  const auto start = std::chrono::steady_clock::now();
  const double cpu_start = cpu_seconds();
  for (int64_t s = 0; s < rows; ++s) recorder.add(steps[s], extra[s]);
  recorder.finish(1.0);
  return {std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), cpu_seconds() - cpu_start};
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t rows = arg(argc, argv, "--rows", 200000);
  const int repeats = static_cast<int>(arg(argc, argv, "--repeats", 5));
  const auto flush_rows = static_cast<std::size_t>(arg(argc, argv, "--flush-rows", 512));
  const int metrics = static_cast<int>(arg(argc, argv, "--metrics", 2));
  const std::string dir = (std::filesystem::temp_directory_path() / ("store_bench_" + std::to_string(::getpid()))).string();
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/bench.db";

  std::printf("store_bench: %lld step rows per repeat, %d repeats, flush every %zu rows, file %s\n",
              static_cast<long long>(rows), repeats, flush_rows, path.c_str());
  int status = 0;
  for (int m : {0, metrics}) {
    std::vector<double> seconds, cpu;
    for (int r = 0; r < repeats; ++r) {
      const Timing timing = record_once(path, rows, flush_rows, m);
      seconds.push_back(timing.wall);
      cpu.push_back(timing.cpu);
    }
    const double t = median(seconds), c = median(cpu);
    const auto [lo, hi] = std::minmax_element(seconds.begin(), seconds.end());
    std::printf("  %d metric rows/step: wall median %.3f s -> %.0f step rows/s (%.0f rows/s incl. metrics) "
                "[min %.3f s, max %.3f s]; CPU median %.3f s -> %.0f step rows/s\n",
                m, t, rows / t, rows * (1.0 + m) / t, *lo, *hi, c, rows / c);
    if (m == 0 && rows / t < 200000) status = 1;  // the target of the store
    if (m == metrics) break;
  }
  std::filesystem::remove_all(dir);
  if (status) std::printf("  below the target of 200,000 step rows/s\n");
  return status;
}

// Store benchmark: bulk insert rate of step rows through StepRecorder into a temporary
// database file (WAL, synchronous=NORMAL), median of several repeats.
//
// usage: build/bin/store_bench [--rows 200000] [--repeats 5] [--flush-rows 512] [--metrics 2]
// Times add() of every row plus finish() (the last batch and the 'done' update),
// first with step rows only, then with `--metrics` metric rows per step. Each repeat also
// times a plain C loop (bench_plain_loop below: sqlite3 calls only, one prepared one-row INSERT
// per table, BEGIN IMMEDIATE/COMMIT every --flush-rows rows) that writes the same rows into a
// database of the same schema opened with the same settings, side by side with the recorder.
#include "bench/options.h"
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

#include <sqlite3.h>

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
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

struct Rows {
  std::vector<harness::db::StepRow> steps;
  std::vector<std::vector<harness::db::MetricRow>> metrics;  // per step
};

// The rows of one trial of `n` steps, each with `metrics` metric rows; built before any clock starts.
Rows make_rows(int64_t n, int metrics) {
  Rows rows;
  rows.steps.resize(n);
  rows.metrics.resize(n);
  for (int64_t s = 0; s < n; ++s) {
    harness::db::StepRow& r = rows.steps[s];
    r.step = s + 1;
    r.phase = s < 1 ? "head" : "full";
    r.lr = 1e-4;
    r.train_loss = 2.3 / (1.0 + 0.01 * s);
    r.train_acc = 0.1 + 0.8 * s / n;
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
    for (int m = 0; m < metrics; ++m) rows.metrics[s].push_back({s + 1, "metric_" + std::to_string(m), 0.5 * m});
  }
  return rows;
}

// A fresh database at `path` with one claimed trial of `n` planned steps; returns its id.
int64_t fresh_trial(const std::string& path, int64_t n) {
  std::filesystem::remove(path);
  std::filesystem::remove(path + "-wal");
  std::filesystem::remove(path + "-shm");
  harness::db::Store store = harness::db::Store::open(path);
  harness::db::ExperimentRecord record;
  record.name = "bench";
  record.config_hash = "bench";
  const int64_t e = store.ensure_experiment(record);
  store.ensure_trials(e, {{"he_base", 0, "{}", n}});
  return store.claim_next_trial(e, "bench:" + std::to_string(::getpid()))->trial_id;
}

template <class F>
Timing timed(F&& f) {
  const auto start = std::chrono::steady_clock::now();
  const double cpu_start = cpu_seconds();
  f();
  return {std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), cpu_seconds() - cpu_start};
}

// The harness: every row through StepRecorder::add, then finish().
Timing record_once(const std::string& path, const Rows& rows, std::size_t flush_rows) {
  const int64_t trial = fresh_trial(path, static_cast<int64_t>(rows.steps.size()));
  harness::db::Store store = harness::db::Store::open(path);
  harness::db::RecorderOptions options;
  options.flush_rows = flush_rows;
  harness::db::StepRecorder recorder = store.recorder(trial, options);
  return timed([&] {
    for (std::size_t s = 0; s < rows.steps.size(); ++s) recorder.add(rows.steps[s], rows.metrics[s]);
    recorder.finish(1.0);
  });
}

void check(sqlite3* db, int rc, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE) {
    std::fprintf(stderr, "store_bench: plain loop: %s: %s\n", what, sqlite3_errmsg(db));
    std::exit(1);
  }
}

void bind_optional(sqlite3_stmt* st, int index, const std::optional<double>& v) {
  if (v) {
    sqlite3_bind_double(st, index, *v);
  } else {
    sqlite3_bind_null(st, index);
  }
}

// The floor: what a hand-written loop of sqlite3 calls costs for the same rows, schema (the
// store's own file, so its indexes and constraints too), settings (WAL, synchronous = NORMAL,
// foreign keys on) and transaction size, closed by the same 'done' update.
Timing plain_loop_once(const std::string& path, const Rows& rows, std::size_t flush_rows) {
  static_assert(std::size(harness::db::kStepColumns) == 19, "bind the new step column in plain_loop_once too");
  const int64_t trial = fresh_trial(path, static_cast<int64_t>(rows.steps.size()));
  sqlite3* db = nullptr;
  check(db, sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr), "open");
  check(db, sqlite3_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON",
                         nullptr, nullptr, nullptr), "pragmas");
  std::string sql = "INSERT INTO steps (trial_id", values = "?";
  for (const auto& column : harness::db::kStepColumns) {
    sql.append(", ").append(column.name);
    values += ", ?";
  }
  sql += ") VALUES (" + values + ")";
  sqlite3_stmt* step = nullptr;
  sqlite3_stmt* metric = nullptr;
  check(db, sqlite3_prepare_v2(db, sql.c_str(), -1, &step, nullptr), "prepare steps");
  check(db, sqlite3_prepare_v2(db, "INSERT INTO metrics (trial_id, step, name, value) VALUES (?, ?, ?, ?)", -1,
                               &metric, nullptr), "prepare metrics");
  const Timing timing = timed([&] {
    std::size_t in_transaction = 0;
    check(db, sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), "begin");
    for (std::size_t s = 0; s < rows.steps.size(); ++s) {
      const harness::db::StepRow& r = rows.steps[s];
      sqlite3_bind_int64(step, 1, trial);
      sqlite3_bind_int64(step, 2, r.step);
      sqlite3_bind_text(step, 3, r.phase.c_str(), static_cast<int>(r.phase.size()), SQLITE_STATIC);
      sqlite3_bind_double(step, 4, r.lr);
      sqlite3_bind_double(step, 5, r.train_loss);
      sqlite3_bind_double(step, 6, r.train_acc);
      bind_optional(step, 7, r.test_acc);
      bind_optional(step, 8, r.test_loss);
      sqlite3_bind_double(step, 9, r.zeta);
      sqlite3_bind_double(step, 10, r.label_energy);
      sqlite3_bind_double(step, 11, r.cross_energy);
      sqlite3_bind_double(step, 12, r.phi);
      sqlite3_bind_double(step, 13, r.noise_fraction);
      sqlite3_bind_double(step, 14, r.feature_grad_energy);
      sqlite3_bind_double(step, 15, r.feature_variance);
      sqlite3_bind_double(step, 16, r.backbone_drift);
      sqlite3_bind_double(step, 17, r.step_seconds);
      bind_optional(step, 18, r.eval_seconds);
      bind_optional(step, 19, r.val_acc);
      bind_optional(step, 20, r.val_loss);
      check(db, sqlite3_step(step), "insert step");
      sqlite3_reset(step);
      for (const harness::db::MetricRow& m : rows.metrics[s]) {
        sqlite3_bind_int64(metric, 1, trial);
        sqlite3_bind_int64(metric, 2, m.step);
        sqlite3_bind_text(metric, 3, m.name.c_str(), static_cast<int>(m.name.size()), SQLITE_STATIC);
        sqlite3_bind_double(metric, 4, m.value);
        check(db, sqlite3_step(metric), "insert metric");
        sqlite3_reset(metric);
      }
      in_transaction += 1 + rows.metrics[s].size();
      if (in_transaction >= flush_rows) {
        check(db, sqlite3_exec(db, "COMMIT; BEGIN IMMEDIATE", nullptr, nullptr, nullptr), "commit");
        in_transaction = 0;
      }
    }
    const std::string done = "UPDATE trials SET status = 'done', wall_seconds = 1.0 WHERE id = " + std::to_string(trial);
    check(db, sqlite3_exec(db, done.c_str(), nullptr, nullptr, nullptr), "done");
    check(db, sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), "commit");
  });
  sqlite3_finalize(step);
  sqlite3_finalize(metric);
  sqlite3_close(db);
  return timing;
}

}  // namespace

int main(int argc, char** argv) {
  namespace po = bench::po;
  po::options_description options("options");
  options.add_options()
      ("rows", po::value<int64_t>()->default_value(200000), "step rows per repeat (one trial)")
      ("repeats", po::value<int>()->default_value(5), "repeats; medians are reported")
      ("flush-rows", po::value<std::size_t>()->default_value(512), "rows per transaction (RecorderOptions::flush_rows)")
      ("metrics", po::value<int>()->default_value(2), "metric rows per step in the second round");
  const auto vm = bench::parse_options(
      argc, argv,
      "store_bench: step-row ingest through StepRecorder against a plain C loop of sqlite3 calls, same rows,\n"
      "schema, settings and transaction size, side by side in each repeat (medians; figures in bench/README.md)",
      options);
  const int64_t rows = bench::at_least<int64_t>(vm, "rows", 1);
  const int repeats = bench::at_least(vm, "repeats", 1);
  const std::size_t flush_rows = bench::at_least<std::size_t>(vm, "flush-rows", 1);
  const int metrics = bench::at_least(vm, "metrics", 0);
  const std::string dir = (std::filesystem::temp_directory_path() / ("store_bench_" + std::to_string(::getpid()))).string();
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/bench.db";

  std::printf("store_bench: %lld step rows per repeat, %d repeats, flush every %zu rows, file %s\n",
              static_cast<long long>(rows), repeats, flush_rows, path.c_str());
  int status = 0;
  for (int m : {0, metrics}) {
    const Rows data = make_rows(rows, m);
    std::vector<double> wall, cpu, plain_wall, plain_cpu, ratio_wall, ratio_cpu;
    for (int r = 0; r < repeats; ++r) {
      const Timing harness = record_once(path, data, flush_rows);
      const Timing plain = plain_loop_once(path, data, flush_rows);
      wall.push_back(harness.wall);
      cpu.push_back(harness.cpu);
      plain_wall.push_back(plain.wall);
      plain_cpu.push_back(plain.cpu);
      ratio_wall.push_back(plain.wall / harness.wall);  // rate of the harness / rate of the loop
      ratio_cpu.push_back(plain.cpu / harness.cpu);
    }
    const double total = static_cast<double>(rows) * (1.0 + m);
    std::printf("  %d metric rows/step:\n", m);
    std::printf("    recorder:   wall median %.3f s -> %.0f step rows/s (%.0f rows/s incl. metrics); CPU median %.3f s\n",
                median(wall), rows / median(wall), total / median(wall), median(cpu));
    std::printf("    plain loop: wall median %.3f s -> %.0f step rows/s (%.0f rows/s incl. metrics); CPU median %.3f s\n",
                median(plain_wall), rows / median(plain_wall), total / median(plain_wall), median(plain_cpu));
    std::printf("    recorder rate / plain loop rate, median of per-repeat ratios: wall %.3f, CPU %.3f (target >= 0.90)\n",
                median(ratio_wall), median(ratio_cpu));
    if (median(ratio_wall) < 0.90) status = 1;
    if (m == metrics) break;
  }
  std::filesystem::remove_all(dir);
  if (status) std::printf("  below the target: the recorder under 90%% of the plain loop's rate\n");
  return status;
}

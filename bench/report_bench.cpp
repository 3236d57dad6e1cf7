// Times write_report on a generated database of 200,000 step rows (4 strategies x 25 seeds x 2000 steps).
//
// Usage: report_bench [--keep DIR] [--no-figures]
// Prints the time to generate the database, to write the report with and without
// figures, and where the files are. Target: under 3 s for the full report.
#include "bench/options.h"
#include "reports/report.h"
#include "tests/reports/synthetic_db.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <unistd.h>

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  namespace hr = harness::reports;
  fs::path dir = fs::temp_directory_path() / ("report_bench_" + std::to_string(::getpid()));
  namespace po = bench::po;
  po::options_description options("options");
  options.add_options()
      ("keep", po::value<std::string>(), "write the database and the report into DIR and keep them")
      ("no-figures", "skip the figures");
  const auto vm = bench::parse_options(
      argc, argv,
      "report_bench: time of harness report on a generated database of 200,000 step rows\n"
      "(4 strategies x 25 seeds x 2000 steps), with and without figures (target: under 3 s)",
      options);
  const bool keep = vm.count("keep") > 0;
  if (keep) dir = vm["keep"].as<std::string>();
  const bool figures = vm.count("no-figures") == 0;
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string db = (dir / "bench.sqlite").string();

  hr::testing::SyntheticSpec spec;
  spec.experiment = "bench";
  spec.strategies = {{"he_base", 0.0, 0.6, 1.0}, {"warmup", 0.0, 0.5, 1.2}, {"mei", 0.03, 0.05, 2.0},
                     {"mei_fn", 0.04, 0.04, 2.5}};
  spec.seeds = 25;
  spec.steps = 2000;
  spec.dense_eval_steps = 30;
  spec.eval_every = 10;
  auto t0 = std::chrono::steady_clock::now();
  hr::testing::make_synthetic_db(db, spec);
  const double generate = seconds_since(t0);
  std::printf("database: %zu strategies x %d seeds x %d steps = %d step rows, generated in %.2f s\n",
              spec.strategies.size(), spec.seeds, spec.steps,
              static_cast<int>(spec.strategies.size()) * spec.seeds * spec.steps, generate);

  hr::ReportOptions o;
  o.db_path = db;
  o.experiment = "bench";
  o.out_dir = (dir / "tables_only").string();
  o.gnuplot_command = "false";  // a command that fails: figures skipped
  t0 = std::chrono::steady_clock::now();
  hr::write_report(o);
  std::printf("write_report without figures: %.3f s\n", seconds_since(t0));

  if (figures) {
    o.out_dir = (dir / "report").string();
    o.gnuplot_command = "gnuplot";
    t0 = std::chrono::steady_clock::now();
    hr::ReportSummary s = hr::write_report(o);
    const double full = seconds_since(t0);
    std::printf("write_report with figures:    %.3f s (target < 3 s) %s\n", full, full < 3.0 ? "OK" : "SLOW");
    std::cout << s.describe();
  }
  if (!keep) fs::remove_all(dir);
  return 0;
}

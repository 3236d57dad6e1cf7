// What a study report reads beyond an experiment report's data (report_data.h): each
// experiment's progress (trials, seeds, wall time) and the means of per-step measurements at
// chosen steps over its complete seeds. Read once; the study's tables format these.
#pragma once

#include "db/database.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace harness::reports {

namespace sql {
// A seed is complete when every trial of it is done; the means at steps use those seeds only, so
// every strategy of a row's experiment is averaged over the same seeds.
inline constexpr const char* kStatus =
    "SELECT COUNT(*) AS trials,\n"
    "       TOTAL(status = 'done') AS done,\n"
    "       TOTAL(status = 'failed') AS failed,\n"
    "       COUNT(DISTINCT seed) AS seeds,\n"
    "       COUNT(DISTINCT seed) - COUNT(DISTINCT CASE WHEN status <> 'done' THEN seed END) AS complete_seeds,\n"
    "       MIN(planned_steps) AS min_steps, MAX(planned_steps) AS max_steps,\n"
    "       TOTAL(CASE WHEN status = 'done' THEN wall_seconds END) AS done_wall_seconds\n"
    "FROM trials WHERE experiment_id = ?1";
}  // namespace sql

struct ExperimentStatus {
  int64_t trials = 0, done = 0, failed = 0;
  int64_t seeds = 0, complete_seeds = 0;
  int64_t min_steps = 0, max_steps = 0;
  double done_wall_seconds = 0.0;  // sum of the done trials' wall times
};

ExperimentStatus read_status(const db::Database& db, int64_t experiment_id);

// One measurement of `steps` (a REAL column: test_acc, zeta, train_loss, ...) at the given steps.
struct Measurement {
  std::string column;
  std::vector<int64_t> steps;  // ascending, distinct, >= 1
};

// The query that averages `m` over the complete seeds, per strategy and step (?1: experiment id).
std::string step_means_sql(const Measurement& m);

struct StepMean {
  int64_t n = 0;  // seeds with a value at that step
  std::optional<double> mean;
};
using StepMeans = std::map<std::string, std::map<int64_t, StepMean>>;  // strategy -> step -> mean

StepMeans read_step_means(const db::Database& db, int64_t experiment_id, const Measurement& m);

// The measurement columns of `steps` in this database (its REAL columns), in schema order.
std::vector<std::string> measurement_columns(const db::Database& db);

// "zeta@30,60,150" -> {zeta, {30, 60, 150}}; "150,300" -> {150, 300} (parse_steps). Throws
// ConfigError naming `option` and the text for anything else (steps not positive whole numbers,
// repeated, or not ascending).
Measurement parse_measurement(const std::string& text, const std::string& option);
std::vector<int64_t> parse_steps(const std::string& text, const std::string& option);

}  // namespace harness::reports

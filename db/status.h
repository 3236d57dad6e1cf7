// `harness status`: a running or finished study at a glance, from its database alone.
#pragma once

#include "db/database.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace harness::db {

struct StrategyProgress {
  std::string strategy;
  int64_t pending = 0, running = 0, done = 0, failed = 0;
};

struct RunningLine {
  std::string strategy;
  int64_t seed = 0;
  std::string worker;      // host:pid that claimed it
  std::string started_at;  // UTC
  double seconds = 0.0;    // since it started, as of `now`
  int64_t latest_step = 0;  // last step row recorded (0: none yet)
  int64_t planned_steps = 0;
};

struct FailureLine {
  std::string strategy;
  int64_t seed = 0;
  std::string error;
};

struct ExperimentProgress {
  std::string name;
  std::vector<StrategyProgress> strategies;  // by name
  StrategyProgress total;                    // strategy "all"
  std::vector<RunningLine> running;         // oldest first
  std::vector<FailureLine> failed;
  std::optional<double> median_trial_seconds;  // wall time of the finished trials' last attempt
  int64_t done_last_hour = 0;                  // trials finished within the hour before `now`
  // Time left: the pending trials at the median wall time plus what the running ones have left
  // (their step share), shared by as many workers as trials are running now (at least one).
  std::optional<double> seconds_left;
};

// Every experiment of the database (or the named one; ConfigError listing those present when
// unknown). `now` is an ISO-8601 UTC time ("2026-12-01T13:30:00Z"); empty: the current time.
std::vector<ExperimentProgress> read_progress(const Database& db, const std::string& experiment,
                                              const std::string& now = "");

// A few lines per experiment: the table of counts, the running trials, failures, rate and time left.
std::string format_progress(const ExperimentProgress& p);

// "1h05m", "4m10s", "12s".
std::string format_duration(double seconds);

}  // namespace harness::db

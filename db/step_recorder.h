// Buffers one trial's per-step rows and writes them in batches, off the training loop's critical path.
#pragma once

#include "db/database.h"
#include "db/statement.h"
#include "db/step_row.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

struct sqlite3;

namespace harness::db {

// One row of table `metrics`: an extra per-step value a plugin reports.
struct MetricRow {
  int64_t step = 0;
  std::string name;
  double value = 0;
};

struct RecorderOptions {
  // Buffered rows (steps + metrics) that trigger a write. One transaction per
  // 512 rows costs ~1 ms, far below the time of 512 training steps.
  std::size_t flush_rows = 512;
  // Longest time rows wait in memory, so a running trial is visible to queries.
  double flush_seconds = 2.0;
  // How long a write keeps retrying while other processes hold the lock.
  std::chrono::milliseconds max_busy_wait = kDefaultMaxBusyWait;
};

// Records the steps of one claimed trial (status 'running'). Owns its prepared
// INSERTs; must not outlive the Store/Database it came from. Rows go to the
// database in one transaction per batch. finish() writes the rest and marks the
// trial 'done' in the same transaction: a process killed at any point leaves
// either a 'done' trial with all its rows or a 'running' one that the next run
// reclaims (deleting its partial rows). Destroying a recorder without finish()
// or fail() drops the rows still buffered and leaves the trial 'running'.
// Throws DbError.
class StepRecorder {
 public:
  StepRecorder(const Database& db, int64_t trial_id, const RecorderOptions& options = {});
  StepRecorder(StepRecorder&&) noexcept = default;
  StepRecorder& operator=(StepRecorder&&) noexcept = default;
  StepRecorder(const StepRecorder&) = delete;
  StepRecorder& operator=(const StepRecorder&) = delete;
  ~StepRecorder() = default;

  // Buffers a step and its metrics; writes the buffer when it is full or old.
  void add(const StepRow& row, const std::vector<MetricRow>& metrics = {});
  // Writes the buffered rows now.
  void flush();
  // Writes the remaining rows and marks the trial 'done' with finished_at and
  // wall_seconds, atomically. Refuses (DbError, nothing written) when the trial
  // is no longer 'running' or its step rows do not number planned_steps.
  void finish(double wall_seconds);
  // Writes the buffered rows (if they can be written) and marks the trial
  // 'failed' with `error`; rows already written stay for diagnosis.
  void fail(const std::string& error);

  int64_t trial_id() const noexcept { return trial_id_; }
  std::size_t buffered_rows() const noexcept { return steps_.size() + metrics_.size(); }
  int64_t written_steps() const noexcept { return written_steps_; }

 private:
  void write_buffer();  // inside the caller's transaction
  void check_open(const char* what) const;

  sqlite3* db_ = nullptr;
  std::string path_;
  int64_t trial_id_ = 0;
  RecorderOptions options_;
  Statement insert_step_;     // one row
  Statement insert_steps_;    // kRowsPerInsert rows
  Statement insert_metric_;
  Statement insert_metrics_;
  std::vector<StepRow> steps_;
  std::vector<MetricRow> metrics_;
  std::chrono::steady_clock::time_point last_flush_;
  int64_t written_steps_ = 0;
  bool closed_ = false;
};

}  // namespace harness::db

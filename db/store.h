// The trial store: experiments, plugins and trials in the results database, shared by worker processes.
#pragma once

#include "db/database.h"
#include "db/step_recorder.h"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace harness::db {

// What `experiments` records about one experiment (db/schema.sql).
struct ExperimentRecord {
  std::string name;
  std::string config_text;
  std::string config_hash;
  std::string harness_version;
  std::string git_revision;
  std::string torch_version;
  std::string host;
  std::string device;
  bool deterministic = false;
};

// A trial to create: (strategy, seed) within an experiment.
struct TrialSpec {
  std::string strategy;
  int64_t seed = 0;
  std::string params_json = "{}";
  int64_t planned_steps = 0;
};

// A trial this process now owns (status 'running', worker = this process).
struct ClaimedTrial {
  int64_t trial_id = 0;
  std::string strategy;
  int64_t seed = 0;
  std::string params_json;
  int64_t planned_steps = 0;
  int64_t attempt = 0;  // 1 for a first run, more when a dead worker's trial is resumed
};

struct StatusCounts {
  int64_t pending = 0;
  int64_t running = 0;
  int64_t done = 0;
  int64_t failed = 0;
  int64_t total() const noexcept { return pending + running + done + failed; }
};

// Who holds an experiment's 'running' trials, judged as claim_next_trial judges them.
struct RunningTrials {
  int64_t live = 0;  // by a process of this host that exists: another run, or one of its workers
  int64_t dead = 0;  // by a process of this host that no longer exists: the next claim resumes them
  std::map<std::string, int64_t> other_hosts;  // host -> trials: never checked or taken over from here
  int64_t other_host_total() const noexcept {
    int64_t n = 0;
    for (const auto& [host, count] : other_hosts) n += count;
    return n;
  }
};

struct FailedTrial {
  int64_t trial_id = 0;
  std::string strategy;
  int64_t seed = 0;
  int64_t attempts = 0;
  std::string error;
  std::string worker;
};

// What claiming a trial does with the rows of its earlier attempt (a killed or failed run).
enum class EarlierRows {
  Delete,  // the trial starts again from step 1
  Keep,    // the caller resumes it from a checkpoint and calls truncate_trial() first
};

struct StoreOptions {
  int busy_timeout_ms = Database::kDefaultBusyTimeoutMs;  // one wait for the lock (sqlite3_busy_timeout)
  std::chrono::milliseconds max_busy_wait = kDefaultMaxBusyWait;  // retries of a whole transaction
  RecorderOptions recorder;  // defaults for recorder()
};

// Owns a read-write connection (WAL). Several processes may each open their own
// Store on one file: every write is one BEGIN IMMEDIATE transaction, retried
// while another process holds the lock, so no row is lost and each trial is
// claimed by exactly one process. One Store per thread. Throws DbError.
class Store {
 public:
  // Opens (creating if needed) with the same retries as a write: a lock held by another
  // process longer than one busy timeout is waited for up to options.max_busy_wait.
  static Store open(const std::string& path, const StoreOptions& options = {});

  // Inserts the experiment or returns the id of the one with this name. The same
  // name with another config_hash is refused: results of two configurations
  // must not mix under one name.
  int64_t ensure_experiment(const ExperimentRecord& record);
  // Inserts the plugin or returns the id of the row with the same name, version and hash.
  int64_t ensure_plugin(const std::string& name, const std::string& version, const std::string& file_path,
                        const std::string& file_hash);
  // Creates the trials that do not exist yet (idempotent across reruns).
  void ensure_trials(int64_t experiment_id, const std::vector<TrialSpec>& trials);

  // Claims the next trial to run, in seed order then strategy (so the first
  // results are paired): a 'pending' one, or a 'running' one left by a process
  // of this host that no longer exists (a killed run). Deletes the rows of any
  // earlier attempt (unless `earlier` is Keep), then marks it 'running' by `worker`
  // ("host:pid"). Returns nothing when no trial is left to claim.
  std::optional<ClaimedTrial> claim_next_trial(int64_t experiment_id, const std::string& worker,
                                               EarlierRows earlier = EarlierRows::Delete);
  // Deletes a claimed trial's step and metric rows after `step` (0: all of them), so a trial
  // resumed from its checkpoint at `step` keeps exactly the rows up to it. Returns how many step
  // rows are left (`step` when every step up to it was recorded).
  int64_t truncate_trial(int64_t trial_id, int64_t step);
  void set_trial_plugin(int64_t trial_id, int64_t plugin_id);
  // A recorder for a claimed trial; it must not outlive this Store.
  StepRecorder recorder(int64_t trial_id) const;
  StepRecorder recorder(int64_t trial_id, const RecorderOptions& options) const;

  // Puts the experiment's failed trials back to 'pending' (their rows are
  // deleted when claimed again); returns how many.
  int64_t reset_failed_trials(int64_t experiment_id);

  StatusCounts status_counts(int64_t experiment_id) const;
  // The 'running' trials of the experiment by holder, as seen from `worker`'s host ("host:pid").
  RunningTrials running_trials(int64_t experiment_id, const std::string& worker) const;
  std::vector<FailedTrial> failed_trials(int64_t experiment_id) const;

  Database& database() noexcept { return db_; }
  const Database& database() const noexcept { return db_; }

 private:
  Store(Database db, const StoreOptions& options);

  Database db_;
  StoreOptions options_;
};

}  // namespace harness::db

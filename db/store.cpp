// The trial store: idempotent records, exactly-once claims across processes, status readers.
#include "db/store.h"

#include "db/busy_retry.h"
#include "db/config_text.h"
#include "db/statement.h"
#include "db/transaction.h"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <sys/types.h>
#include <utility>

namespace harness::db {
namespace {

constexpr const char* kNow = "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')";

// "host:pid" -> host. A worker string without ':' is all host.
std::string worker_host(const std::string& worker) {
  const auto colon = worker.rfind(':');
  return colon == std::string::npos ? worker : worker.substr(0, colon);
}

// The pid of "host:pid", or nothing when it does not end in a positive number.
std::optional<pid_t> worker_pid(const std::string& worker) {
  const auto colon = worker.rfind(':');
  if (colon == std::string::npos || colon + 1 >= worker.size()) return std::nullopt;
  char* end = nullptr;
  const long pid = std::strtol(worker.c_str() + colon + 1, &end, 10);
  if (*end != '\0' || pid <= 0) return std::nullopt;
  return static_cast<pid_t>(pid);
}

// Only ESRCH proves the process is gone; EPERM means it exists under another user.
bool process_gone(pid_t pid) { return ::kill(pid, 0) != 0 && errno == ESRCH; }

}  // namespace

Store::Store(Database db, const StoreOptions& options) : db_(std::move(db)), options_(options) {}

Store Store::open(const std::string& path, const StoreOptions& options) {
  // Opening writes too (the switch to WAL, the schema check under BEGIN IMMEDIATE), so another
  // process's long write transaction is waited out here just as for every later write.
  return Store(retry_on_busy(path, options.max_busy_wait,
                             [&] { return Database::open(path, OpenMode::ReadWrite, options.busy_timeout_ms); }),
               options);
}

int64_t Store::ensure_experiment(const ExperimentRecord& r) {
  return retry_on_busy(db_.path(), options_.max_busy_wait, [&] {
    Transaction transaction(db_, TransactionMode::Immediate);
    Statement find(db_, "SELECT id, config_hash, config_text FROM experiments WHERE name = ?1");
    find.bind(1, r.name);
    if (find.step()) {
      const int64_t id = find.column_int64(0);
      const std::string stored_hash = find.column_text(1);
      if (stored_hash != r.config_hash) {
        throw DbError(db_.path() + ": experiment '" + r.name + "' already exists with configuration hash " +
                      stored_hash + ", but this configuration hashes to " + r.config_hash + " (first difference, " +
                      first_difference(find.column_text(2), r.config_text) +
                      "): its results would mix two configurations. Give the experiment a new name (e.g. '" +
                      r.name + "-2') or use another database file");
      }
      find.reset();
      transaction.commit();
      return id;
    }
    Statement insert(db_, std::string("INSERT INTO experiments (name, config_text, config_hash, created_at, "
                                      "harness_version, git_revision, torch_version, host, device, deterministic) "
                                      "VALUES (?1, ?2, ?3, ") +
                              kNow + ", ?4, ?5, ?6, ?7, ?8, ?9)");
    insert.bind(1, r.name);
    insert.bind(2, r.config_text);
    insert.bind(3, r.config_hash);
    insert.bind(4, r.harness_version);
    insert.bind(5, r.git_revision);
    insert.bind(6, r.torch_version);
    insert.bind(7, r.host);
    insert.bind(8, r.device);
    insert.bind(9, int64_t{r.deterministic ? 1 : 0});
    insert.exec();
    const int64_t id = db_.last_insert_rowid();
    transaction.commit();
    return id;
  });
}

int64_t Store::ensure_plugin(const std::string& name, const std::string& version, const std::string& file_path,
                             const std::string& file_hash) {
  return retry_on_busy(db_.path(), options_.max_busy_wait, [&] {
    Transaction transaction(db_, TransactionMode::Immediate);
    Statement insert(db_,
                     "INSERT OR IGNORE INTO plugins (name, version, file_path, file_hash) VALUES (?1, ?2, ?3, ?4)");
    insert.bind(1, name);
    insert.bind(2, version);
    insert.bind(3, file_path);
    insert.bind(4, file_hash);
    insert.exec();
    Statement find(db_, "SELECT id FROM plugins WHERE name = ?1 AND version = ?2 AND file_hash = ?3");
    find.bind(1, name);
    find.bind(2, version);
    find.bind(3, file_hash);
    if (!find.step()) throw DbError(db_.path() + ": plugin '" + name + "' vanished after its insert");
    const int64_t id = find.column_int64(0);
    find.reset();
    transaction.commit();
    return id;
  });
}

void Store::ensure_trials(int64_t experiment_id, const std::vector<TrialSpec>& trials) {
  retry_on_busy(db_.path(), options_.max_busy_wait, [&] {
    Transaction transaction(db_, TransactionMode::Immediate);
    Statement insert(db_,
                     "INSERT OR IGNORE INTO trials (experiment_id, strategy, seed, params_json, planned_steps) "
                     "VALUES (?1, ?2, ?3, ?4, ?5)");
    for (const TrialSpec& t : trials) {
      insert.bind(1, experiment_id);
      insert.bind(2, t.strategy);
      insert.bind(3, t.seed);
      insert.bind(4, t.params_json);
      insert.bind(5, t.planned_steps);
      insert.exec();
    }
    transaction.commit();
  });
}

std::optional<ClaimedTrial> Store::claim_next_trial(int64_t experiment_id, const std::string& worker,
                                                    EarlierRows earlier) {
  const std::string host_prefix = worker_host(worker) + ":";
  return retry_on_busy(db_.path(), options_.max_busy_wait, [&]() -> std::optional<ClaimedTrial> {
    // The write lock is held from BEGIN: no other process can pick the same row
    // between our SELECT and UPDATE.
    Transaction transaction(db_, TransactionMode::Immediate);
    Statement candidates(db_,
                         "SELECT id, status, worker FROM trials WHERE experiment_id = ?1 AND "
                         "(status = 'pending' OR (status = 'running' AND substr(worker, 1, length(?2)) = ?2)) "
                         "ORDER BY seed, strategy, id");
    candidates.bind(1, experiment_id);
    candidates.bind(2, host_prefix);
    std::optional<int64_t> chosen;
    while (!chosen && candidates.step()) {
      if (candidates.column_text(1) == "pending") {
        chosen = candidates.column_int64(0);
      } else if (const auto pid = worker_pid(candidates.column_text(2)); pid && process_gone(*pid)) {
        chosen = candidates.column_int64(0);  // its worker was killed: resume it
      }
    }
    candidates.reset();
    if (!chosen) return std::nullopt;

    if (earlier == EarlierRows::Delete) {
      for (const char* sql : {"DELETE FROM metrics WHERE trial_id = ?1", "DELETE FROM steps WHERE trial_id = ?1"}) {
        Statement erase(db_, sql);
        erase.bind(1, *chosen);
        erase.exec();
      }
    }
    Statement claim(db_, std::string("UPDATE trials SET status = 'running', worker = ?2, attempts = attempts + 1, "
                                     "error = NULL, finished_at = NULL, wall_seconds = NULL, started_at = ") +
                             kNow + " WHERE id = ?1");
    claim.bind(1, *chosen);
    claim.bind(2, worker);
    claim.exec();
    Statement read(db_, "SELECT strategy, seed, params_json, planned_steps, attempts FROM trials WHERE id = ?1");
    read.bind(1, *chosen);
    read.step();
    ClaimedTrial trial;
    trial.trial_id = *chosen;
    trial.strategy = read.column_text(0);
    trial.seed = read.column_int64(1);
    trial.params_json = read.column_text(2);
    trial.planned_steps = read.column_int64(3);
    trial.attempt = read.column_int64(4);
    read.reset();
    transaction.commit();
    return trial;
  });
}

int64_t Store::truncate_trial(int64_t trial_id, int64_t step) {
  return retry_on_busy(db_.path(), options_.max_busy_wait, [&] {
    Transaction transaction(db_, TransactionMode::Immediate);
    for (const char* sql : {"DELETE FROM metrics WHERE trial_id = ?1 AND step > ?2",
                            "DELETE FROM steps WHERE trial_id = ?1 AND step > ?2"}) {
      Statement erase(db_, sql);
      erase.bind(1, trial_id);
      erase.bind(2, step);
      erase.exec();
    }
    Statement kept(db_, "SELECT count(*) FROM steps WHERE trial_id = ?1");
    kept.bind(1, trial_id);
    kept.step();
    const int64_t rows = kept.column_int64(0);
    kept.reset();
    transaction.commit();
    return rows;
  });
}

void Store::set_trial_plugin(int64_t trial_id, int64_t plugin_id) {
  retry_on_busy(db_.path(), options_.max_busy_wait, [&] {
    Transaction transaction(db_, TransactionMode::Immediate);
    Statement update(db_, "UPDATE trials SET plugin_id = ?2 WHERE id = ?1");
    update.bind(1, trial_id);
    update.bind(2, plugin_id);
    if (update.exec() != 1) throw DbError(db_.path() + ": no trial with id " + std::to_string(trial_id));
    transaction.commit();
  });
}

StepRecorder Store::recorder(int64_t trial_id) const { return recorder(trial_id, options_.recorder); }

StepRecorder Store::recorder(int64_t trial_id, const RecorderOptions& options) const {
  RecorderOptions o = options;
  o.max_busy_wait = options_.max_busy_wait;
  return StepRecorder(db_, trial_id, o);
}

int64_t Store::reset_failed_trials(int64_t experiment_id) {
  return retry_on_busy(db_.path(), options_.max_busy_wait, [&] {
    Transaction transaction(db_, TransactionMode::Immediate);
    Statement reset(db_, "UPDATE trials SET status = 'pending' WHERE experiment_id = ?1 AND status = 'failed'");
    reset.bind(1, experiment_id);
    const int64_t n = reset.exec();
    transaction.commit();
    return n;
  });
}

StatusCounts Store::status_counts(int64_t experiment_id) const {
  Statement select(db_, "SELECT status, count(*) FROM trials WHERE experiment_id = ?1 GROUP BY status");
  select.bind(1, experiment_id);
  StatusCounts counts;
  while (select.step()) {
    const std::string status = select.column_text(0);
    const int64_t n = select.column_int64(1);
    if (status == "pending") counts.pending = n;
    else if (status == "running") counts.running = n;
    else if (status == "done") counts.done = n;
    else if (status == "failed") counts.failed = n;
  }
  return counts;
}

RunningTrials Store::running_trials(int64_t experiment_id, const std::string& worker) const {
  const std::string host = worker_host(worker);
  Statement select(db_, "SELECT coalesce(worker, '') FROM trials WHERE experiment_id = ?1 AND status = 'running'");
  select.bind(1, experiment_id);
  RunningTrials running;
  while (select.step()) {
    const std::string holder = select.column_text(0);
    if (worker_host(holder) != host) {
      ++running.other_hosts[worker_host(holder)];
    } else if (const auto pid = worker_pid(holder); pid && process_gone(*pid)) {
      ++running.dead;
    } else {
      ++running.live;  // as claim_next_trial: only a pid proven gone is dead
    }
  }
  return running;
}

std::vector<FailedTrial> Store::failed_trials(int64_t experiment_id) const {
  Statement select(db_,
                   "SELECT id, strategy, seed, attempts, coalesce(error, ''), coalesce(worker, '') FROM trials "
                   "WHERE experiment_id = ?1 AND status = 'failed' ORDER BY seed, strategy, id");
  select.bind(1, experiment_id);
  std::vector<FailedTrial> failed;
  while (select.step()) {
    failed.push_back({select.column_int64(0), select.column_text(1), select.column_int64(2), select.column_int64(3),
                      select.column_text(4), select.column_text(5)});
  }
  return failed;
}

}  // namespace harness::db

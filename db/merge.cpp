// Merging results databases: every input is checked first, then copied in one transaction each with ids remapped.
#include "db/merge.h"

#include "db/busy_retry.h"
#include "db/config_text.h"
#include "db/statement.h"
#include "db/transaction.h"
#include "harness/replacing_file.h"

#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <utility>

namespace harness::db {
namespace {

namespace fs = std::filesystem;

constexpr const char* kInput = "merge_input";  // schema name of the attached input

// What the checks compare of one experiment, and the file it was first seen in.
struct SeenExperiment {
  std::string file;
  std::string config_text;
  std::string config_hash;
  std::string device;
  std::string torch_version;
  std::string git_revision;
};

// Checks the experiments of `db` (read from `file`) against those seen so far, then adds the new ones.
void check_experiments(const Database& db, const std::string& file, std::map<std::string, SeenExperiment>& seen,
                       std::vector<std::string>& warnings) {
  const Table t = db.query(
      "SELECT name, config_text, config_hash, device, torch_version, git_revision FROM experiments ORDER BY id");
  for (const auto& row : t.rows) {
    const std::string name = std::get<std::string>(row[0]);
    SeenExperiment e{file,
                     std::get<std::string>(row[1]),
                     std::get<std::string>(row[2]),
                     std::get<std::string>(row[3]),
                     std::get<std::string>(row[4]),
                     std::get<std::string>(row[5])};
    const auto it = seen.find(name);
    if (it == seen.end()) {
      seen.emplace(name, std::move(e));
      continue;
    }
    const SeenExperiment& s = it->second;
    if (s.config_hash != e.config_hash) {
      throw DbError("cannot merge " + file + ": experiment '" + name + "' has configuration hash " + e.config_hash +
                    " there but " + s.config_hash + " in " + s.file + " (first difference, " +
                    first_difference(e.config_text, s.config_text) +
                    "): the results of two configurations must not mix under one name. Merge only the shard "
                    "databases of one run, or give one of the experiments another name");
    }
    const std::pair<const char*, std::pair<std::string, std::string>> recorded[] = {
        {"device", {e.device, s.device}},
        {"LibTorch version", {e.torch_version, s.torch_version}},
        {"git revision", {e.git_revision, s.git_revision}}};
    for (const auto& [what, values] : recorded) {
      if (values.first == values.second) continue;
      warnings.push_back("experiment '" + name + "': " + what + " is " + values.first + " in " + file + " but " +
                         values.second + " in " + s.file + "; the merged database records " + values.second);
    }
  }
}

bool same_file(const std::string& a, const std::string& b) {
  std::error_code ec;
  return fs::exists(a, ec) && fs::exists(b, ec) && fs::equivalent(a, b, ec);
}

// The columns of main.`table` that the attached input has too, except `skip`, comma-separated.
// An input of an older schema version lacks the columns added since: they stay NULL in the output.
std::string columns_except(const Database& db, const std::string& table, const std::set<std::string>& skip) {
  std::set<std::string> in_input;
  for (const auto& row : db.query(std::string("PRAGMA ") + kInput + ".table_info(" + table + ")").rows) {
    in_input.insert(std::get<std::string>(row.at(1)));
  }
  std::string out;
  for (const auto& row : db.query("PRAGMA main.table_info(" + table + ")").rows) {
    const std::string name = std::get<std::string>(row.at(1));
    if (skip.count(name) || !in_input.count(name)) continue;
    out += (out.empty() ? "" : ", ") + name;
  }
  return out;
}

// done beats failed beats pending (a 'running' trial of an input arrives as pending).
int rank(const std::string& status) {
  if (status == "done") return 2;
  if (status == "failed") return 1;
  return 0;
}

// Detaches the input when the merge of one input ends, however it ends.
class AttachedInput {
 public:
  AttachedInput(const Database& db, const std::string& path) : db_(db) {
    db_.query(std::string("ATTACH DATABASE ?1 AS ") + kInput, {path});
  }
  AttachedInput(const AttachedInput&) = delete;
  AttachedInput& operator=(const AttachedInput&) = delete;
  ~AttachedInput() {
    sqlite3_exec(db_.handle(), (std::string("DETACH DATABASE ") + kInput).c_str(), nullptr, nullptr, nullptr);
  }

 private:
  const Database& db_;
};

struct InputTrial {
  int64_t id = 0;
  int64_t experiment_id = 0;
  std::string strategy;
  int64_t seed = 0;
  std::string status;
  std::optional<int64_t> plugin_id;
};

// Copies one input into `out` inside one transaction; returns what it contributed.
InputMerge merge_input(Database& out, const std::string& path) {
  const std::string in = std::string(kInput) + ".";
  InputMerge result;
  result.path = path;

  std::map<int64_t, int64_t> experiment_ids;  // input id -> output id
  std::map<int64_t, std::size_t> entry_of;    // input experiment id -> index in result.experiments
  const std::string experiment_columns = columns_except(out, "experiments", {"id"});
  for (const auto& row : out.query("SELECT id, name FROM " + in + "experiments ORDER BY id").rows) {
    const int64_t input_id = std::get<int64_t>(row[0]);
    const std::string name = std::get<std::string>(row[1]);
    const Table found = out.query("SELECT id FROM main.experiments WHERE name = ?1", {name});
    if (!found.rows.empty()) {
      experiment_ids[input_id] = std::get<int64_t>(found.rows[0][0]);
    } else {
      Statement insert(out, "INSERT INTO main.experiments (" + experiment_columns + ") SELECT " + experiment_columns +
                                " FROM " + in + "experiments WHERE id = ?1");
      insert.bind(1, input_id);
      insert.exec();
      experiment_ids[input_id] = out.last_insert_rowid();
    }
    entry_of[input_id] = result.experiments.size();
    result.experiments.push_back({name});
  }

  std::map<int64_t, int64_t> plugin_ids;  // input id -> output id
  Statement add_plugin(out,
                       "INSERT OR IGNORE INTO main.plugins (name, version, file_path, file_hash) "
                       "SELECT name, version, file_path, file_hash FROM " +
                           in + "plugins WHERE id = ?1");
  Statement find_plugin(out, "SELECT o.id FROM main.plugins o JOIN " + in +
                                 "plugins i ON o.name = i.name AND o.version = i.version AND o.file_hash = i.file_hash "
                                 "WHERE i.id = ?1");
  for (const auto& row : out.query("SELECT id FROM " + in + "plugins").rows) {
    const int64_t input_id = std::get<int64_t>(row[0]);
    add_plugin.bind(1, input_id);
    add_plugin.exec();
    find_plugin.bind(1, input_id);
    if (!find_plugin.step()) {
      throw DbError(out.path() + ": plugin " + std::to_string(input_id) + " of " + path + " vanished after its insert");
    }
    plugin_ids[input_id] = find_plugin.column_int64(0);
    find_plugin.reset();
  }

  std::vector<InputTrial> trials;
  for (const auto& row : out.query("SELECT id, experiment_id, strategy, seed, status, plugin_id FROM " + in +
                                   "trials ORDER BY experiment_id, seed, strategy, id")
                             .rows) {
    InputTrial t;
    t.id = std::get<int64_t>(row[0]);
    t.experiment_id = std::get<int64_t>(row[1]);
    t.strategy = std::get<std::string>(row[2]);
    t.seed = std::get<int64_t>(row[3]);
    t.status = std::get<std::string>(row[4]);
    if (const auto* p = std::get_if<int64_t>(&row[5])) t.plugin_id = plugin_ids.at(*p);
    trials.push_back(std::move(t));
  }

  const std::string trial_columns = columns_except(out, "trials", {"id", "experiment_id", "plugin_id"});
  const std::string step_columns = columns_except(out, "steps", {"trial_id"});
  const std::string metric_columns = columns_except(out, "metrics", {"trial_id"});
  Statement find_trial(out,
                       "SELECT id, status FROM main.trials WHERE experiment_id = ?1 AND strategy = ?2 AND seed = ?3");
  Statement insert_trial(out, "INSERT INTO main.trials (experiment_id, plugin_id, " + trial_columns +
                                  ") SELECT ?1, ?2, " + trial_columns + " FROM " + in + "trials WHERE id = ?3");
  Statement update_trial(out, "UPDATE main.trials SET plugin_id = ?2, (" + trial_columns + ") = (SELECT " +
                                  trial_columns + " FROM " + in + "trials WHERE id = ?3) WHERE id = ?1");
  Statement as_pending(out,
                       "UPDATE main.trials SET status = 'pending', error = NULL, started_at = NULL, "
                       "finished_at = NULL, wall_seconds = NULL WHERE id = ?1");
  Statement delete_steps(out, "DELETE FROM main.steps WHERE trial_id = ?1");
  Statement delete_metrics(out, "DELETE FROM main.metrics WHERE trial_id = ?1");
  Statement copy_steps(out, "INSERT INTO main.steps (trial_id, " + step_columns + ") SELECT ?1, " + step_columns +
                                " FROM " + in + "steps WHERE trial_id = ?2");
  Statement copy_metrics(out, "INSERT INTO main.metrics (trial_id, " + metric_columns + ") SELECT ?1, " +
                                  metric_columns + " FROM " + in + "metrics WHERE trial_id = ?2");

  for (const InputTrial& t : trials) {
    ExperimentMerge& counts = result.experiments.at(entry_of.at(t.experiment_id));
    const int64_t experiment_id = experiment_ids.at(t.experiment_id);
    find_trial.bind(1, experiment_id);
    find_trial.bind(2, t.strategy);
    find_trial.bind(3, t.seed);
    std::optional<int64_t> existing;
    std::string existing_status;
    if (find_trial.step()) {
      existing = find_trial.column_int64(0);
      existing_status = find_trial.column_text(1);
    }
    find_trial.reset();
    if (existing && rank(t.status) <= rank(existing_status)) {
      ++counts.kept;
      continue;
    }

    int64_t out_id = 0;
    Statement& write = existing ? update_trial : insert_trial;
    write.bind(1, existing ? *existing : experiment_id);
    write.bind(2, t.plugin_id ? Value{*t.plugin_id} : Value{});
    write.bind(3, t.id);
    write.exec();
    if (existing) {
      out_id = *existing;
      for (Statement* erase : {&delete_metrics, &delete_steps}) {
        erase->bind(1, out_id);
        erase->exec();
      }
      ++counts.replaced;
    } else {
      out_id = out.last_insert_rowid();
      ++counts.added;
    }
    if (rank(t.status) == 0) {  // pending, or running in a shard that stopped: nothing to copy
      as_pending.bind(1, out_id);
      as_pending.exec();
      continue;
    }
    for (Statement* copy : {&copy_steps, &copy_metrics}) {
      copy->bind(1, out_id);
      copy->bind(2, t.id);
      copy->exec();
    }
  }
  return result;
}

// Copies the database at `from` into the new file `to` with SQLite's backup API: a consistent
// snapshot including its WAL. `from` is opened for writing so that its last close folds the
// WAL into it and removes it: a WAL left beside it would be replayed onto the file renamed there.
// An older schema version is left as it is in `from`; the copy is migrated when it is opened.
void copy_database(const std::string& from, const std::string& to, const MergeOptions& options) {
  const Database source = retry_on_busy(from, options.max_busy_wait, [&] {
    return Database::open(from, OpenMode::ReadWriteAsIs, options.busy_timeout_ms);
  });
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(to.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  const std::unique_ptr<sqlite3, int (*)(sqlite3*)> destination(raw, sqlite3_close_v2);
  if (rc != SQLITE_OK) throw_sqlite_error(raw, rc, "cannot create the copy of " + from);
  sqlite3_backup* backup = sqlite3_backup_init(raw, "main", source.handle(), "main");
  if (!backup) throw_sqlite_error(raw, sqlite3_errcode(raw), "cannot copy " + from);
  const int step = sqlite3_backup_step(backup, -1);
  sqlite3_backup_finish(backup);
  if (step != SQLITE_DONE) throw_sqlite_error(raw, step, "cannot copy " + from);
}

}  // namespace

MergeResult merge_databases(const std::string& out_path, const std::vector<std::string>& inputs,
                            const MergeOptions& options) {
  MergeResult result;
  std::map<std::string, SeenExperiment> seen;
  std::map<std::string, int64_t> input_versions;
  std::error_code ec;
  if (fs::exists(out_path, ec) && fs::file_size(out_path, ec) > 0) {
    check_experiments(Database::open(out_path, OpenMode::ReadOnly, options.busy_timeout_ms), out_path, seen,
                      result.warnings);
  }
  for (const std::string& input : inputs) {
    if (same_file(input, out_path)) {
      throw DbError("cannot merge " + input + " into itself: it is both the output and an input");
    }
    const Database db = Database::open(input, OpenMode::ReadOnly, options.busy_timeout_ms);
    input_versions[input] = db.version();  // an older one is read as it is: its new columns stay NULL
    check_experiments(db, input, seen, result.warnings);
  }

  // Everything is written into a copy beside the output, renamed onto it at the end.
  ReplacingFile staged(out_path);
  if (fs::exists(out_path, ec) && fs::file_size(out_path, ec) > 0) {
    copy_database(out_path, staged.temp_path(), options);
  }
  {
    Database out = Database::open(staged.temp_path(), OpenMode::ReadWrite, options.busy_timeout_ms);
    for (const std::string& input : inputs) {
      AttachedInput attached(out, input);
      const Table version = out.query(std::string("PRAGMA ") + kInput + ".user_version");
      const int64_t input_version = std::get<int64_t>(version.rows.at(0).at(0));
      if (input_version != input_versions.at(input)) {
        throw DbError("cannot merge " + input + ": its schema version changed while merging (from " +
                      std::to_string(input_versions.at(input)) + " to " + std::to_string(input_version) + ")");
      }
      result.inputs.push_back(retry_on_busy(out_path, options.max_busy_wait, [&] {
        Transaction transaction(out, TransactionMode::Immediate);
        InputMerge merged = merge_input(out, input);
        transaction.commit();
        return merged;
      }));
    }
    // Back to a rollback journal: the WAL is folded in and removed, so the one file is the whole
    // database. A failed fold (disk full) keeps WAL mode, and renaming the file alone would lose data.
    const Table mode = out.query("PRAGMA journal_mode = DELETE");
    if (mode.rows.empty() || mode.rows[0].empty() || mode.rows[0][0] != Value{std::string("delete")}) {
      throw DbError("cannot finish the merged database " + staged.temp_path() +
                    ": its write-ahead log could not be folded into it (disk full?); " + out_path + " is unchanged");
    }
  }
  if (fs::exists(out_path + "-wal", ec)) {
    throw DbError("cannot write the merge onto " + out_path + ": another process has it open (" + out_path +
                  "-wal exists); nothing was written");
  }
  if (const std::error_code rename_ec = staged.commit()) {
    throw DbError("cannot move the merged database " + staged.temp_path() + " onto " + out_path + ": " +
                  rename_ec.message());
  }
  return result;
}

}  // namespace harness::db

// Tests of db/merge.cpp: shard databases combined with remapped ids, idempotence, best state wins, refusals.
#include "db/merge.h"

#include "db/store.h"
#include "store_fixture.h"
#include "temp_dir.h"
#include "tests/file_size_limit.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <tuple>

namespace harness::db {
namespace {

using ::testing::HasSubstr;
using namespace testing;  // NOLINT: test helpers

constexpr int64_t kSteps = 6;

enum class Outcome { Done, Failed, Running, Pending };

struct FakeTrial {
  std::string strategy;
  int64_t seed = 0;
  Outcome outcome = Outcome::Done;
};

// Step values that depend on (strategy, seed, step) only, as real trials do: the same trial recorded
// in two shards has the same values.
StepRow fake_step(const std::string& strategy, int64_t seed, int64_t step) {
  StepRow r = step_row(0, step, step % 2 == 1);
  r.train_loss = 1.0 / static_cast<double>(step + seed) + 0.01 * static_cast<double>(strategy.size());
  r.zeta = 0.001 * static_cast<double>(seed) + 1e-5 * static_cast<double>(step);
  if (r.test_acc) r.test_acc = 0.5 + 0.01 * static_cast<double>(seed);
  return r;
}

struct ShardSpec {
  std::vector<FakeTrial> trials;
  std::string hash = "hash-a";
  std::string device = "cpu";
  bool other_experiment_first = false;  // so the experiment and plugin ids differ from other shards
};

// Records a shard database as `harness run --shard` leaves it: its trials with rows, in the outcome asked.
void write_shard(const std::string& path, const ShardSpec& spec) {
  Store store = Store::open(path);
  if (spec.other_experiment_first) {
    store.ensure_experiment(experiment("other", "hash-other"));
    store.ensure_plugin("unused", "1", "/lib/unused.so", "sha-unused");
  }
  ExperimentRecord record = experiment("main", spec.hash);
  record.config_text += "# configuration " + spec.hash + "\n";
  record.device = spec.device;
  const int64_t e = store.ensure_experiment(record);
  const int64_t plugin = store.ensure_plugin("he_base", "1.0", "/lib/he_base.so", "sha-he");
  std::map<std::pair<std::string, int64_t>, Outcome> outcome;
  std::vector<TrialSpec> claimed, pending;
  for (const FakeTrial& t : spec.trials) {
    outcome[{t.strategy, t.seed}] = t.outcome;
    (t.outcome == Outcome::Pending ? pending : claimed).push_back({t.strategy, t.seed, "{\"k\":\"v\"}", kSteps});
  }
  store.ensure_trials(e, claimed);
  while (auto trial = store.claim_next_trial(e, this_worker())) {
    store.set_trial_plugin(trial->trial_id, plugin);
    StepRecorder recorder = store.recorder(trial->trial_id);
    const Outcome o = outcome.at({trial->strategy, trial->seed});
    const int64_t steps = o == Outcome::Done ? kSteps : kSteps / 2;
    for (int64_t step = 1; step <= steps; ++step) {
      recorder.add(fake_step(trial->strategy, trial->seed, step),
                   {{step, "weight_norm", 0.1 * static_cast<double>(step + trial->seed)}});
    }
    if (o == Outcome::Done) recorder.finish(1.5);
    if (o == Outcome::Failed) recorder.fail("CUDA out of memory (test)");
    if (o == Outcome::Running) recorder.flush();  // left running, as by a shard stopped by its time limit
  }
  store.ensure_trials(e, pending);
}

using TrialKey = std::tuple<std::string, std::string, int64_t>;  // experiment, strategy, seed

// Every recorded value of every trial, by trial key, with the trial's status and plugin first.
std::map<TrialKey, std::vector<std::vector<Value>>> contents(const std::string& path) {
  const Database db = Database::open(path, OpenMode::ReadOnly);
  std::map<TrialKey, std::vector<std::vector<Value>>> out;
  const Table trials = db.query(
      "SELECT e.name, t.strategy, t.seed, t.status, t.error, t.params_json, t.planned_steps, t.attempts, "
      "p.name, p.file_hash FROM trials t JOIN experiments e ON e.id = t.experiment_id "
      "LEFT JOIN plugins p ON p.id = t.plugin_id");
  for (const auto& r : trials.rows) {
    out[{std::get<std::string>(r[0]), std::get<std::string>(r[1]), std::get<int64_t>(r[2])}].push_back(
        std::vector<Value>(r.begin() + 3, r.end()));
  }
  const Table steps = db.query(
      "SELECT e.name, t.strategy, t.seed, s.* FROM steps s JOIN trials t ON t.id = s.trial_id "
      "JOIN experiments e ON e.id = t.experiment_id ORDER BY s.step");
  for (auto r : steps.rows) {
    r.erase(r.begin() + 3);  // trial_id: it differs between databases
    out[{std::get<std::string>(r[0]), std::get<std::string>(r[1]), std::get<int64_t>(r[2])}].push_back(
        std::vector<Value>(r.begin() + 3, r.end()));
  }
  const Table metrics = db.query(
      "SELECT e.name, t.strategy, t.seed, m.step, m.name, m.value FROM metrics m JOIN trials t ON t.id = m.trial_id "
      "JOIN experiments e ON e.id = t.experiment_id ORDER BY m.step, m.name");
  for (const auto& r : metrics.rows) {
    out[{std::get<std::string>(r[0]), std::get<std::string>(r[1]), std::get<int64_t>(r[2])}].push_back(
        std::vector<Value>(r.begin() + 3, r.end()));
  }
  return out;
}

int64_t count(const std::string& path, const std::string& sql) {
  return scalar(Database::open(path, OpenMode::ReadOnly), sql);
}

const ExperimentMerge& only_experiment(const MergeResult& r, std::size_t input, const std::string& name = "main") {
  for (const ExperimentMerge& e : r.inputs.at(input).experiments) {
    if (e.experiment == name) return e;
  }
  throw std::runtime_error("no experiment " + name + " in the merge result");
}

template <class F>
std::string error_of(F&& body) {
  try {
    body();
  } catch (const DbError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a DbError";
  return "";
}

TEST(Merge, CombinesShardsWithRemappedIdsAndEveryValue) {
  TempDir dir;
  write_shard(dir.file("s0.db"), {{{"he_base", 0}, {"mei", 0}, {"he_base", 1}}});
  write_shard(dir.file("s1.db"), {{{"mei", 1}, {"he_base", 2}, {"mei", 2}}, "hash-a", "cpu", true});
  const MergeResult r = merge_databases(dir.file("out.db"), {dir.file("s0.db"), dir.file("s1.db")});
  ASSERT_EQ(r.inputs.size(), 2u);
  EXPECT_EQ(only_experiment(r, 0).added, 3);
  EXPECT_EQ(only_experiment(r, 1).added, 3);
  EXPECT_EQ(only_experiment(r, 1, "other").added, 0);
  EXPECT_TRUE(r.warnings.empty());

  auto expected = contents(dir.file("s0.db"));
  for (auto& [key, rows] : contents(dir.file("s1.db"))) expected[key] = rows;
  const auto merged = contents(dir.file("out.db"));
  EXPECT_EQ(merged, expected);
  EXPECT_EQ(merged.size(), 6u);
  EXPECT_EQ(count(dir.file("out.db"), "SELECT count(*) FROM steps"), 6 * kSteps);
  EXPECT_EQ(count(dir.file("out.db"), "SELECT count(*) FROM metrics"), 6 * kSteps);
  // One row per plugin file and per experiment, whatever their ids were in the shards.
  EXPECT_EQ(count(dir.file("out.db"), "SELECT count(*) FROM plugins"), 2);
  EXPECT_EQ(count(dir.file("out.db"), "SELECT count(*) FROM experiments"), 2);
  EXPECT_EQ(count(dir.file("out.db"), "SELECT count(*) FROM trials WHERE status = 'done'"), 6);
}

// The files in the folder of `out` that belong to it: itself, SQLite's companions, temporary copies.
std::vector<std::string> files_of(const std::string& out) {
  const std::filesystem::path path(out);
  const std::string name = path.filename().string();
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(path.parent_path())) {
    const std::string file = entry.path().filename().string();
    if (file.rfind(name, 0) == 0 || file.rfind("." + name, 0) == 0) names.push_back(file);
  }
  std::sort(names.begin(), names.end());
  return names;
}

TEST(Merge, AFailingWriteLeavesTheOutputAsItWasAndNoOtherFile) {
  TempDir dir;
  const std::string out = dir.file("out.db");
  write_shard(dir.file("s0.db"), {{{"he_base", 0}, {"mei", 0}}});
  ShardSpec big;
  for (int64_t seed = 1; seed <= 40; ++seed) {
    big.trials.push_back({"he_base", seed});
    big.trials.push_back({"mei", seed});
  }
  write_shard(dir.file("s1.db"), big);
  {
    harness::testing::FileSizeLimit limit(16 * 1024);  // the write fails part way, as on a full disk
    EXPECT_THROW(merge_databases(out, {dir.file("s0.db"), dir.file("s1.db")}), DbError);
  }
  EXPECT_EQ(files_of(out), std::vector<std::string>{}) << "a failed merge left a file";

  merge_databases(out, {dir.file("s0.db")});
  EXPECT_EQ(files_of(out), std::vector<std::string>{"out.db"}) << "the merged database is one file";
  const auto before = contents(out);
  {
    // Room for the copy of the output, not for what merging 80 more trials adds to it.
    harness::testing::FileSizeLimit limit(std::filesystem::file_size(out) + 4096);
    EXPECT_THROW(merge_databases(out, {dir.file("s1.db")}), DbError);
  }
  EXPECT_EQ(files_of(out), std::vector<std::string>{"out.db"});
  EXPECT_EQ(contents(out), before);
  EXPECT_EQ(count(out, "SELECT count(*) FROM trials"), 2);
  // Without the limit the same merge goes through.
  merge_databases(out, {dir.file("s1.db")});
  EXPECT_EQ(count(out, "SELECT count(*) FROM trials WHERE status = 'done'"), 82);
}

TEST(Merge, MergingTheSameShardAgainAddsNothing) {
  TempDir dir;
  write_shard(dir.file("s0.db"), {{{"he_base", 0}, {"mei", 0}}});
  write_shard(dir.file("s1.db"), {{{"he_base", 1}, {"mei", 1}}, "hash-a", "cpu", true});
  merge_databases(dir.file("out.db"), {dir.file("s0.db"), dir.file("s1.db")});
  const auto once = contents(dir.file("out.db"));
  const int64_t rows = count(dir.file("out.db"),
                             "SELECT (SELECT count(*) FROM steps) + (SELECT count(*) FROM "
                             "metrics) + (SELECT count(*) FROM trials) + (SELECT count(*) FROM "
                             "plugins) + (SELECT count(*) FROM experiments)");

  const MergeResult again =
      merge_databases(dir.file("out.db"), {dir.file("s1.db"), dir.file("s0.db"), dir.file("s1.db")});
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(only_experiment(again, i).added, 0);
    EXPECT_EQ(only_experiment(again, i).replaced, 0);
    EXPECT_EQ(only_experiment(again, i).kept, 2);
  }
  EXPECT_EQ(contents(dir.file("out.db")), once);
  EXPECT_EQ(count(dir.file("out.db"),
                  "SELECT (SELECT count(*) FROM steps) + (SELECT count(*) FROM "
                  "metrics) + (SELECT count(*) FROM trials) + (SELECT count(*) FROM "
                  "plugins) + (SELECT count(*) FROM experiments)"),
            rows);
}

TEST(Merge, ADoneTrialWinsOverAFailedOrUnfinishedOneInEitherOrder) {
  TempDir dir;
  // The first attempt of he_base seed 0 failed, the rerun (another shard database) finished it.
  write_shard(dir.file("failed.db"), {{{"he_base", 0, Outcome::Failed}, {"mei", 0, Outcome::Running}}});
  write_shard(dir.file("done.db"), {{{"he_base", 0}, {"mei", 0}}});
  const auto done = contents(dir.file("done.db"));
  for (const auto& order : {std::vector<std::string>{"failed.db", "done.db"}, {"done.db", "failed.db"}}) {
    const std::string out = dir.file("out-" + order.front());
    const MergeResult r = merge_databases(out, {dir.file(order[0]), dir.file(order[1])});
    EXPECT_EQ(contents(out), done) << "merged " << order[0] << " first";
    EXPECT_EQ(count(out, "SELECT count(*) FROM steps"), 2 * kSteps);
    EXPECT_EQ(count(out, "SELECT count(*) FROM trials WHERE error IS NOT NULL"), 0);
    const ExperimentMerge& second = only_experiment(r, 1);
    if (order.front() == "failed.db") {
      EXPECT_EQ(second.replaced, 2);
    } else {
      EXPECT_EQ(second.kept, 2);
    }
  }
}

TEST(Merge, AFailedTrialKeepsItsRowsAndARunningOneArrivesPendingWithout) {
  TempDir dir;
  write_shard(dir.file("s.db"),
              {{{"he_base", 0, Outcome::Failed}, {"mei", 0, Outcome::Running}, {"he_base", 1, Outcome::Pending}}});
  merge_databases(dir.file("out.db"), {dir.file("s.db")});
  const std::string out = dir.file("out.db");
  EXPECT_EQ(count(out, "SELECT count(*) FROM step_view WHERE strategy = 'he_base' AND seed = 0 AND status = 'failed'"),
            kSteps / 2);
  EXPECT_EQ(count(out, "SELECT count(*) FROM trials WHERE status = 'failed' AND error LIKE 'CUDA out of memory%'"), 1);
  // No process writes the running trial in the output: a later `harness run` there must be able to claim it.
  EXPECT_EQ(count(out, "SELECT count(*) FROM trials WHERE status = 'pending'"), 2);
  EXPECT_EQ(count(out, "SELECT count(*) FROM steps s JOIN trials t ON t.id = s.trial_id WHERE t.status = 'pending'"),
            0);
  Store store = Store::open(out);
  int claimed = 0;
  while (store.claim_next_trial(1, "elsewhere:1")) ++claimed;
  EXPECT_EQ(claimed, 2);
}

TEST(Merge, RefusesAnExperimentOfTheSameNameWithAnotherConfiguration) {
  TempDir dir;
  write_shard(dir.file("a.db"), {{{"he_base", 0}}, "hash-a"});
  write_shard(dir.file("b.db"), {{{"he_base", 1}}, "hash-b"});
  const std::string message = error_of([&] {
    merge_databases(dir.file("out.db"), {dir.file("a.db"), dir.file("b.db")});
  });
  EXPECT_THAT(message, HasSubstr("cannot merge " + dir.file("b.db")));
  EXPECT_THAT(message, HasSubstr("'main'"));
  EXPECT_THAT(message, HasSubstr("hash-a"));
  EXPECT_THAT(message, HasSubstr("hash-b"));
  EXPECT_THAT(message, HasSubstr("line 3: '# configuration hash-b' vs '# configuration hash-a'"));
  EXPECT_FALSE(std::filesystem::exists(dir.file("out.db"))) << "nothing is written when an input is refused";

  // Against what the output already holds: the output is left as it was.
  merge_databases(dir.file("out.db"), {dir.file("a.db")});
  const auto before = contents(dir.file("out.db"));
  const std::string against_out = error_of([&] { merge_databases(dir.file("out.db"), {dir.file("b.db")}); });
  EXPECT_THAT(against_out, HasSubstr(dir.file("out.db")));
  EXPECT_THAT(against_out, HasSubstr(dir.file("b.db")));
  EXPECT_EQ(contents(dir.file("out.db")), before);
}

TEST(Merge, RefusesADatabaseOfAnotherSchemaVersion) {
  TempDir dir;
  write_shard(dir.file("a.db"), {{{"he_base", 0}}});
  write_shard(dir.file("old.db"), {{{"he_base", 1}}});
  Database::open(dir.file("old.db"), OpenMode::ReadWrite).exec("PRAGMA user_version = 99");
  const std::string message = error_of([&] {
    merge_databases(dir.file("out.db"), {dir.file("a.db"), dir.file("old.db")});
  });
  EXPECT_THAT(message, HasSubstr(dir.file("old.db")));
  EXPECT_THAT(message, HasSubstr("schema version 99"));
  EXPECT_THAT(message, HasSubstr("version " + std::to_string(Database::schema_version())));
  EXPECT_FALSE(std::filesystem::exists(dir.file("out.db")));

  // An output of another version is refused too, and left alone.
  const std::string out_message = error_of([&] { merge_databases(dir.file("old.db"), {dir.file("a.db")}); });
  EXPECT_THAT(out_message, HasSubstr(dir.file("old.db")));
  EXPECT_THAT(out_message, HasSubstr("schema version 99"));
}

TEST(Merge, RefusesMissingFilesForeignFilesAndTheOutputAsAnInput) {
  TempDir dir;
  write_shard(dir.file("a.db"), {{{"he_base", 0}}});
  EXPECT_THAT(error_of([&] {
                merge_databases(dir.file("out.db"), {dir.file("a.db"), dir.file("nope.db")});
              }),
              HasSubstr(dir.file("nope.db") + " does not exist"));
  sqlite3* other = nullptr;  // an SQLite database of another program
  sqlite3_open(dir.file("other.db").c_str(), &other);
  sqlite3_exec(other, "CREATE TABLE notes (text TEXT)", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  EXPECT_THAT(error_of([&] { merge_databases(dir.file("out.db"), {dir.file("other.db")}); }),
              HasSubstr(dir.file("other.db") + " is an SQLite database but not a harness results database"));
  {
    std::ofstream text(dir.file("notes.db"));
    text << "not an SQLite file at all, but long enough to fill the hundred bytes of a header.....................";
  }
  EXPECT_THAT(error_of([&] { merge_databases(dir.file("out.db"), {dir.file("notes.db")}); }),
              HasSubstr(dir.file("notes.db")));
  EXPECT_THAT(error_of([&] { merge_databases(dir.file("a.db"), {dir.file("a.db")}); }),
              HasSubstr("both the output and an input"));
  EXPECT_FALSE(std::filesystem::exists(dir.file("out.db")));
}

TEST(Merge, WarnsWhenShardsRanOnDifferentDevices) {
  TempDir dir;
  write_shard(dir.file("gpu.db"), {{{"he_base", 0}}, "hash-a", "cuda:0"});
  write_shard(dir.file("cpu.db"), {{{"he_base", 1}}, "hash-a", "cpu"});
  const MergeResult r = merge_databases(dir.file("out.db"), {dir.file("gpu.db"), dir.file("cpu.db")});
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_THAT(r.warnings[0],
              HasSubstr("device is cpu in " + dir.file("cpu.db") + " but cuda:0 in " + dir.file("gpu.db")));
  EXPECT_EQ(count(dir.file("out.db"), "SELECT count(*) FROM trials WHERE status = 'done'"), 2);
}

}  // namespace
}  // namespace harness::db

namespace harness::db {
namespace {

// A shard written by a harness of schema version 1: the columns added since dropped, version set back.
void make_version_one(const std::string& path) {
  Database::open(path, OpenMode::ReadWrite)
      .exec("ALTER TABLE steps DROP COLUMN val_loss; ALTER TABLE steps DROP COLUMN val_acc; PRAGMA user_version = 1");
}

TEST(Merge, AnOlderInputIsReadAsItIsAndItsNewColumnsArriveNull) {
  TempDir dir;
  write_shard(dir.file("new.db"), {{{"he_base", 0}}});
  write_shard(dir.file("old.db"), {{{"he_base", 1}}});
  make_version_one(dir.file("old.db"));
  const auto old_before = contents(dir.file("old.db"));
  merge_databases(dir.file("out.db"), {dir.file("new.db"), dir.file("old.db")});
  EXPECT_EQ(contents(dir.file("old.db")), old_before) << "an input is only read";
  {
    const Database old = Database::open(dir.file("old.db"), OpenMode::ReadOnly);
    EXPECT_EQ(old.version(), 1);
  }
  const Database out = Database::open(dir.file("out.db"), OpenMode::ReadOnly);
  EXPECT_EQ(out.version(), Database::schema_version());
  const auto count = [&](const std::string& sql) { return std::get<int64_t>(out.query(sql).rows.at(0).at(0)); };
  EXPECT_EQ(count("SELECT count(*) FROM steps"), 2 * kSteps);
  // Seed 0 (the new shard) keeps its validation values; seed 1 (the old one) has none.
  EXPECT_EQ(count("SELECT count(*) FROM step_view WHERE seed = 0 AND val_acc IS NOT NULL"),
            count("SELECT count(*) FROM step_view WHERE seed = 0 AND test_acc IS NOT NULL"));
  EXPECT_GT(count("SELECT count(*) FROM step_view WHERE seed = 0 AND val_acc IS NOT NULL"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM step_view WHERE seed = 1 AND (val_acc IS NOT NULL OR val_loss IS NOT NULL)"),
            0);
  EXPECT_EQ(count("SELECT count(*) FROM step_view WHERE seed = 1 AND test_acc IS NOT NULL"), kSteps / 2);
}

TEST(Merge, AnOlderOutputIsMigratedInTheCopyAndLeftAsItWasWhenTheMergeIsRefused) {
  TempDir dir;
  write_shard(dir.file("out.db"), {{{"he_base", 0}}});
  make_version_one(dir.file("out.db"));
  write_shard(dir.file("b.db"), {{{"he_base", 1}}, "hash-b"});
  const auto before = contents(dir.file("out.db"));
  EXPECT_THROW(merge_databases(dir.file("out.db"), {dir.file("b.db")}), DbError);  // another configuration
  EXPECT_EQ(contents(dir.file("out.db")), before) << "a refused merge leaves the older output unmigrated";

  write_shard(dir.file("a.db"), {{{"he_base", 1}}});
  merge_databases(dir.file("out.db"), {dir.file("a.db")});
  const Database out = Database::open(dir.file("out.db"), OpenMode::ReadOnly);
  EXPECT_EQ(out.version(), Database::schema_version());
  EXPECT_EQ(std::get<int64_t>(out.query("SELECT count(*) FROM steps").rows.at(0).at(0)), 2 * kSteps);
}

}  // namespace
}  // namespace harness::db

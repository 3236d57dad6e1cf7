// End to end: one experiment run whole and as 3 shards (`harness run --shard
// I/3`, each its own database), the shards combined with `harness merge`; every
// step value and every report table must be identical.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "db/merge.h"
#include "reports/report.h"
#include "tests/harness/harness_process.h"

namespace harness {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

using testing::count;
using testing::query;
using testing::read_text;
using testing::recorded_values;
using testing::spawn_harness;
using testing::wait_exit;

constexpr int kSeeds = 3, kStrategies = 3, kSteps = 25, kShards = 3;

// (strategy, seed) of every trial of a database.
std::set<std::pair<std::string, int64_t>> trial_keys(const std::string &db_path) {
  std::set<std::pair<std::string, int64_t>> keys;
  for (const auto &r : query(db_path, "SELECT strategy, seed FROM trials").rows) {
    keys.insert({std::get<std::string>(r[0]), std::get<int64_t>(r[1])});
  }
  return keys;
}

// The CSV tables of a report, by file name. Figures are skipped (no gnuplot):
// they are drawn from the same data.
std::map<std::string, std::string> report_tables(const std::string &db_path, const std::string &out_dir) {
  reports::ReportOptions options;
  options.db_path = db_path;
  options.out_dir = out_dir;
  options.gnuplot_command = "/nonexistent/gnuplot";
  reports::write_report(options);
  std::map<std::string, std::string> tables;
  for (const auto &entry : std::filesystem::directory_iterator(out_dir)) {
    if (entry.path().extension() == ".csv") tables[entry.path().filename().string()] = read_text(entry.path().string());
  }
  return tables;
}

// Generated data, a pretrained checkpoint, an experiment file; the whole run
// and the 3 shard runs.
class ShardMerge : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>();
    testing::write_idx_task(dir_->file("data"), 2024, /*wrong_labels=*/true);
    ASSERT_EQ(wait_exit(spawn_harness({"pretrain", "--arch", "convnet", "--dataset", "idx", "--data-path",
                                       dir_->file("data"), "--epochs", "1", "--batch-size", "32", "--seed", "1",
                                       "--device", "cpu", "--threads", "1", "--out", dir_->file("convnet.pt")},
                                      dir_->file("pretrain.log"))),
              0)
        << read_text(dir_->file("pretrain.log"));
    testing::write_text(
        dir_->file("experiment.ini"),
        testing::small_experiment("sharded", kSeeds, kSteps, dir_->file("convnet.pt"), dir_->file("data")) +
            "[strategy.warmup]\nwarmup_steps = 3\n");
    // The whole experiment and its 3 shards, 2 processes at a time, one thread
    // each (as a reference needs for bit-identical numbers).
    std::vector<std::pair<std::vector<std::string>, std::string>> runs = {{{"--db", whole_db()}, "whole.log"}};
    for (int i = 0; i < kShards; ++i) {
      runs.push_back({{"--db", shard_db(i), "--shard", std::to_string(i) + "/" + std::to_string(kShards)},
                      "shard" + std::to_string(i) + ".log"});
    }
    for (std::size_t first = 0; first < runs.size(); first += 2) {
      std::vector<std::pair<pid_t, std::string>> running;
      for (std::size_t i = first; i < std::min(first + 2, runs.size()); ++i) {
        std::vector<std::string> args = {"run", dir_->file("experiment.ini"), "--threads", "1"};
        args.insert(args.end(), runs[i].first.begin(), runs[i].first.end());
        running.push_back({spawn_harness(args, dir_->file(runs[i].second)), runs[i].second});
      }
      for (const auto &[pid, log] : running) ASSERT_EQ(wait_exit(pid), 0) << read_text(dir_->file(log));
    }
  }
  static void TearDownTestSuite() { dir_.reset(); }

  static std::string whole_db() { return dir_->file("whole.db"); }
  static std::string shard_db(int i) { return dir_->file("shard-" + std::to_string(i) + ".db"); }
  static std::vector<std::string> shard_dbs() {
    std::vector<std::string> dbs;
    for (int i = 0; i < kShards; ++i) dbs.push_back(shard_db(i));
    return dbs;
  }
  // `harness merge OUT IN...`; returns the exit status, the output in `log`.
  static int merge(const std::string &out, const std::vector<std::string> &inputs, const std::string &log) {
    std::vector<std::string> args = {"merge", out};
    args.insert(args.end(), inputs.begin(), inputs.end());
    return wait_exit(spawn_harness(args, dir_->file(log)));
  }

  static std::unique_ptr<TempDir> dir_;
};
std::unique_ptr<TempDir> ShardMerge::dir_;

TEST_F(ShardMerge, EveryTrialRunsInExactlyOneShardOfBalancedSize) {
  std::set<std::pair<std::string, int64_t>> all;
  for (int i = 0; i < kShards; ++i) {
    const auto keys = trial_keys(shard_db(i));
    EXPECT_EQ(keys.size(), static_cast<std::size_t>(kSeeds * kStrategies / kShards)) << "shard " << i;
    for (const auto &key : keys) EXPECT_TRUE(all.insert(key).second) << key.first << " seed " << key.second;
    EXPECT_EQ(count(shard_db(i), "SELECT COUNT(*) FROM trials WHERE status != 'done'"), 0);
    // The same configuration, so the same hash, in every shard.
    EXPECT_EQ(query(shard_db(i), "SELECT config_text, config_hash FROM experiments").rows,
              query(whole_db(), "SELECT config_text, config_hash FROM experiments").rows);
  }
  EXPECT_EQ(all, trial_keys(whole_db()));
  // Blocks of the canonical order: shard 0 holds seed 0 with every strategy.
  EXPECT_EQ(trial_keys(shard_db(0)),
            (std::set<std::pair<std::string, int64_t>>{{"he_base", 0}, {"mei_fn", 0}, {"warmup", 0}}));
  EXPECT_THAT(read_text(dir_->file("shard1.log")), HasSubstr("3 trials (shard 1/3 of 3 strategies x 3 seeds)"));
}

TEST_F(ShardMerge, TheMergedDatabaseHoldsExactlyTheValuesAndReportOfTheWholeRun) {
  const std::string merged = dir_->file("merged.db");
  ASSERT_EQ(merge(merged, shard_dbs(), "merge.log"), 0) << read_text(dir_->file("merge.log"));
  EXPECT_THAT(read_text(dir_->file("merge.log")), HasSubstr("experiment 'sharded': 9 of 9 trials done"));

  const db::Table expected = recorded_values(whole_db());
  const db::Table actual = recorded_values(merged);
  ASSERT_GT(expected.rows.size(),
            static_cast<std::size_t>(kSeeds * kStrategies * kSteps));  // steps, then metrics
  ASSERT_EQ(actual.rows.size(), expected.rows.size());
  for (std::size_t i = 0; i < expected.rows.size(); ++i) ASSERT_EQ(actual.rows[i], expected.rows[i]) << "row " << i;
  EXPECT_EQ(count(merged, "SELECT COUNT(*) FROM steps"), kSeeds * kStrategies * kSteps);

  const auto whole_tables = report_tables(whole_db(), dir_->file("report-whole"));
  const auto merged_tables = report_tables(merged, dir_->file("report-merged"));
  ASSERT_GE(whole_tables.size(), 3u);
  EXPECT_EQ(merged_tables, whole_tables);
}

TEST_F(ShardMerge, TheOrderOfTheInputsDoesNotChangeTheValuesOrTheReport) {
  const std::string merged = dir_->file("reversed.db");
  db::merge_databases(merged, {shard_db(2), shard_db(0), shard_db(1)});
  EXPECT_EQ(recorded_values(merged).rows, recorded_values(whole_db()).rows);
  EXPECT_EQ(report_tables(merged, dir_->file("report-reversed")),
            report_tables(whole_db(), dir_->file("report-whole-2")));
}

TEST_F(ShardMerge, MergingAShardAgainAddsNothing) {
  const std::string merged = dir_->file("again.db");
  db::merge_databases(merged, shard_dbs());
  const db::Table once = recorded_values(merged);
  ASSERT_EQ(merge(merged, {shard_db(1), shard_db(1)}, "again2.log"), 0) << read_text(dir_->file("again2.log"));
  EXPECT_THAT(read_text(dir_->file("again2.log")), HasSubstr("0 trials added, 0 replaced, 3 already in"));
  EXPECT_EQ(recorded_values(merged).rows, once.rows);
  EXPECT_EQ(count(merged, "SELECT COUNT(*) FROM trials"), kSeeds * kStrategies);
}

TEST_F(ShardMerge, AMissingShardIsNamedAndTheExitStatusSaysSo) {
  const std::string partial = dir_->file("partial.db");
  EXPECT_EQ(merge(partial, {shard_db(0), shard_db(2)}, "partial.log"), 1);
  EXPECT_THAT(read_text(dir_->file("partial.log")), HasSubstr("6 of 9 trials done, 3 missing (no shard database with "
                                                              "them was merged: he_base seed 1, "
                                                              "mei_fn seed 1, warmup seed 1)"));
  // The late shard completes it.
  db::merge_databases(partial, {shard_db(1)});
  EXPECT_EQ(recorded_values(partial).rows, recorded_values(whole_db()).rows);
}

TEST_F(ShardMerge, RefusesAnotherConfigurationAndAnotherSchemaVersionNamingTheFile) {
  // A shard of the same experiment name run with fewer steps: another
  // configuration, another hash (the whole run would take a second; the refusal
  // reads only the experiment row).
  const std::string other = dir_->file("other.db");
  std::filesystem::copy_file(shard_db(1), other);
  db::Database::open(other, db::OpenMode::ReadWrite)
      .exec(
          "UPDATE experiments SET config_text = replace(config_text, 'steps "
          "= 25', 'steps = 2'), "
          "config_hash = 'hash-of-steps-2'");
  const std::string out = dir_->file("refused.db");
  EXPECT_EQ(merge(out, {shard_db(0), other}, "refused.log"), 2);
  EXPECT_THAT(read_text(dir_->file("refused.log")),
              ::testing::AllOf(HasSubstr("cannot merge " + other +
                                         ": experiment 'sharded' has configuration hash "
                                         "hash-of-steps-2 there but "),
                               HasSubstr(": 'steps = 2' vs 'steps = 25'")));
  EXPECT_FALSE(std::filesystem::exists(out));

  const std::string old = dir_->file("old.db");
  std::filesystem::copy_file(shard_db(2), old);
  db::Database::open(old, db::OpenMode::ReadWrite).exec("PRAGMA user_version = 7");
  EXPECT_EQ(merge(out, {shard_db(0), old}, "old.log"), 2);
  EXPECT_THAT(read_text(dir_->file("old.log")), HasSubstr("results database " + old + " has schema version 7"));
  EXPECT_FALSE(std::filesystem::exists(out));

  EXPECT_EQ(merge(out, {}, "usage.log"), 2);
  EXPECT_THAT(read_text(dir_->file("usage.log")), HasSubstr("harness merge OUT.db IN.db..."));
}

TEST_F(ShardMerge,
       ABadShardIsRefused) {  // the forms are tested in shard_test.cpp; this is
                              // the command line
  EXPECT_EQ(
      wait_exit(spawn_harness({"run", dir_->file("experiment.ini"), "--db", dir_->file("bad.db"), "--shard", "3/3"},
                              dir_->file("bad.log"))),
      2);
  EXPECT_THAT(read_text(dir_->file("bad.log")), HasSubstr("--shard '3/3': the shard index must be below the count"));
  EXPECT_FALSE(std::filesystem::exists(dir_->file("bad.db")));
}

}  // namespace
}  // namespace harness

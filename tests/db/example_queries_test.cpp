// Tests of db/queries/*.sql: each has a header comment, runs read-only, and answers
// its question correctly on a small database whose values are known.
#include "db/query.h"

#include "db/store.h"
#include "store_fixture.h"
#include "temp_dir.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

namespace harness::db {
namespace {

using namespace testing;  // NOLINT: test helpers

const std::string kQueries = HARNESS_DB_QUERIES_DIR;

class ExampleQueries : public ::testing::Test {
 protected:
  // he_base and mei x seeds 0, 1; 3 steps each, step 2 not evaluated; one
  // extra trial (seed 2) fails. test_acc = 0.001 trial_id + 1e-6 step.
  void SetUp() override {
    path_ = dir_.file("r.db");
    Store store = Store::open(path_);
    const int64_t e = store.ensure_experiment(experiment("main"));
    store.ensure_trials(e, trials({"he_base", "mei"}, 2, 3));
    store.ensure_trials(e, {{"mei", 2, "{}", 3}});
    while (auto t = store.claim_next_trial(e, this_worker())) {
      StepRecorder rec = store.recorder(t->trial_id);
      rec.add(step_row(t->trial_id, 1, true));
      if (t->seed == 2) {
        rec.fail("loss became NaN at step 2");
        continue;
      }
      rec.add(step_row(t->trial_id, 2, false));
      rec.add(step_row(t->trial_id, 3, true));
      rec.finish(2.0);
    }
    db_ = std::make_unique<Database>(Database::open(path_, OpenMode::ReadOnly));
  }
  Table run(const std::string& file) { return run_read_only_query(*db_, read_sql_file(kQueries + "/" + file)); }
  static double num(const Value& v) {
    return std::holds_alternative<int64_t>(v) ? static_cast<double>(std::get<int64_t>(v)) : std::get<double>(v);
  }
  static std::size_t col(const Table& t, const std::string& name) {
    for (std::size_t i = 0; i < t.columns.size(); ++i) {
      if (t.columns[i] == name) return i;
    }
    ADD_FAILURE() << "no column " << name;
    return 0;
  }

  TempDir dir_;
  std::string path_;
  std::unique_ptr<Database> db_;
};

TEST_F(ExampleQueries, EveryFileHasAHeaderAndRuns) {
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kQueries)) {
    if (entry.path().extension() != ".sql") continue;
    ++files;
    const std::string text = read_sql_file(entry.path().string());
    EXPECT_EQ(text.rfind("-- ", 0), 0u) << entry.path() << " lacks a header comment";
    EXPECT_NO_THROW(run_read_only_query(*db_, text)) << entry.path();
  }
  EXPECT_GE(files, 5);
}

TEST_F(ExampleQueries, FinalTestAccuracyIsTheLastEvaluatedStepOfDoneTrials) {
  const Table t = run("final_test_acc.sql");
  ASSERT_EQ(t.rows.size(), 4u);  // the failed trial is not listed
  for (const auto& row : t.rows) {
    const int64_t id = std::get<int64_t>(row[col(t, "trial_id")]);
    EXPECT_EQ(std::get<int64_t>(row[col(t, "step")]), 3);
    EXPECT_DOUBLE_EQ(num(row[col(t, "final_test_acc")]), 0.001 * id + 3e-6);
  }
}

TEST_F(ExampleQueries, First10MeanIsPerStrategyAndSeedOverEvaluatedSteps) {
  const Table t = run("first10_mean_acc.sql");
  ASSERT_EQ(t.rows.size(), 4u);
  for (const auto& row : t.rows) {
    EXPECT_EQ(std::get<int64_t>(row[col(t, "evaluated_steps")]), 2);
    const Table id = db_->query("SELECT id FROM trials WHERE strategy = ?1 AND seed = ?2",
                                {row[col(t, "strategy")], row[col(t, "seed")]});
    const double trial_id = num(id.rows.at(0).at(0));
    EXPECT_DOUBLE_EQ(num(row[col(t, "mean_test_acc_first10")]), 0.001 * trial_id + 2e-6);
  }
}

TEST_F(ExampleQueries, MeanTestAccuracyByStepAveragesSeeds) {
  const Table t = run("mean_test_acc_by_step.sql");
  ASSERT_EQ(t.rows.size(), 4u);  // 2 strategies x evaluated steps 1 and 3
  const double he0 = num(db_->query("SELECT id FROM trials WHERE strategy = 'he_base' AND seed = 0").rows[0][0]);
  const double he1 = num(db_->query("SELECT id FROM trials WHERE strategy = 'he_base' AND seed = 1").rows[0][0]);
  EXPECT_EQ(std::get<std::string>(t.rows[0][col(t, "strategy")]), "he_base");
  EXPECT_EQ(std::get<int64_t>(t.rows[0][col(t, "step")]), 1);
  EXPECT_EQ(std::get<int64_t>(t.rows[0][col(t, "n")]), 2);
  EXPECT_NEAR(num(t.rows[0][col(t, "mean_test_acc")]), 0.001 * (he0 + he1) / 2 + 1e-6, 1e-15);
  EXPECT_NEAR(num(t.rows[0][col(t, "std_test_acc")]), 0.001 * std::abs(he1 - he0) / 2, 1e-9);
}

TEST_F(ExampleQueries, Step1NoiseAveragesStepOneOfDoneTrials) {
  const Table t = run("step1_noise.sql");
  ASSERT_EQ(t.rows.size(), 2u);
  for (const auto& row : t.rows) {
    EXPECT_EQ(std::get<int64_t>(row[col(t, "n")]), 2);
    EXPECT_DOUBLE_EQ(num(row[col(t, "mean_feature_grad_energy")]), 3.0);  // 3 x step, step 1
    EXPECT_DOUBLE_EQ(num(row[col(t, "mean_noise_fraction")]), 0.0);
  }
}

TEST_F(ExampleQueries, FailedTrialsListsTheErrorAndRowsWritten) {
  const Table t = run("failed_trials.sql");
  ASSERT_EQ(t.rows.size(), 1u);
  EXPECT_EQ(std::get<int64_t>(t.rows[0][col(t, "seed")]), 2);
  EXPECT_EQ(std::get<int64_t>(t.rows[0][col(t, "steps_written")]), 1);
  EXPECT_EQ(std::get<std::string>(t.rows[0][col(t, "error")]), "loss became NaN at step 2");
}

}  // namespace
}  // namespace harness::db

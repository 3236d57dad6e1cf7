// Tests of db/step_recorder.cpp: round trip of every column, batching, atomic finish, fail.
#include "db/step_recorder.h"

#include "db/statement.h"
#include "db/store.h"
#include "store_fixture.h"
#include "temp_dir.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

namespace harness::db {
namespace {

using ::testing::HasSubstr;
using namespace testing;  // NOLINT: test helpers

struct Claimed {
  Store store;
  int64_t experiment_id;
  ClaimedTrial trial;
};

Claimed claimed(const std::string& path, int64_t planned_steps) {
  Store store = Store::open(path);
  const int64_t e = store.ensure_experiment(experiment("main"));
  store.ensure_trials(e, trials({"mei"}, 1, planned_steps));
  auto t = store.claim_next_trial(e, this_worker());
  return {std::move(store), e, *t};
}

TEST(StepRecorder, EveryColumnRoundTripsIncludingNulls) {
  Claimed c = claimed(":memory:", 2);
  StepRecorder rec = c.store.recorder(c.trial.trial_id);
  rec.add(step_row(c.trial.trial_id, 1, true), {{1, "alpha", 0.5}, {1, "beta", -2.0}});
  rec.add(step_row(c.trial.trial_id, 2, false));
  rec.finish(3.25);
  const Table t = c.store.database().query("SELECT * FROM steps ORDER BY step");
  ASSERT_EQ(t.rows.size(), 2u);
  ASSERT_EQ(t.columns.size(), 20u);  // trial_id + the 19 fields of StepRow
  const StepRow want = step_row(c.trial.trial_id, 1, true);
  const auto& r = t.rows[0];
  EXPECT_EQ(std::get<int64_t>(r[0]), c.trial.trial_id);
  EXPECT_EQ(std::get<int64_t>(r[1]), 1);
  EXPECT_EQ(std::get<std::string>(r[2]), "head");
  const std::vector<double> doubles = {want.lr,  want.train_loss,     want.train_acc,           *want.test_acc,
                                       *want.test_loss, want.zeta, want.label_energy, want.cross_energy,
                                       want.phi, want.noise_fraction, want.feature_grad_energy, want.feature_variance,
                                       want.backbone_drift, want.step_seconds, *want.eval_seconds,
                                       *want.val_acc,   *want.val_loss};
  for (std::size_t i = 0; i < doubles.size(); ++i) {
    EXPECT_DOUBLE_EQ(std::get<double>(r[3 + i]), doubles[i]) << "column " << t.columns[3 + i];
  }
  for (const char* nullable : {"test_acc", "test_loss", "eval_seconds", "val_acc", "val_loss"}) {
    const auto col = std::find(t.columns.begin(), t.columns.end(), nullable) - t.columns.begin();
    EXPECT_TRUE(std::holds_alternative<std::monostate>(t.rows[1][col])) << nullable;
  }
  const Table m = c.store.database().query("SELECT step, name, value FROM metrics ORDER BY name");
  ASSERT_EQ(m.rows.size(), 2u);
  EXPECT_EQ(std::get<std::string>(m.rows[1][1]), "beta");
  EXPECT_DOUBLE_EQ(std::get<double>(m.rows[1][2]), -2.0);
  const Table trial = c.store.database().query("SELECT status, wall_seconds, finished_at IS NOT NULL FROM trials");
  EXPECT_EQ(std::get<std::string>(trial.rows[0][0]), "done");
  EXPECT_DOUBLE_EQ(std::get<double>(trial.rows[0][1]), 3.25);
  EXPECT_EQ(std::get<int64_t>(trial.rows[0][2]), 1);
}

// 70 rows go through two 32-row INSERTs and six one-row ones: every value must land in its row.
TEST(StepRecorder, MultiRowBatchesKeepEveryValueInItsRow) {
  Claimed c = claimed(":memory:", 70);
  StepRecorder rec = c.store.recorder(c.trial.trial_id);
  for (int s = 1; s <= 70; ++s) {
    rec.add(step_row(c.trial.trial_id, s, s % 3 == 0), {{s, "m" + std::to_string(s % 2), 0.5 * s}});
  }
  rec.finish(1.0);
  Statement q(c.store.database(), "SELECT step, phase, train_loss, test_acc, feature_grad_energy, eval_seconds "
                                  "FROM steps ORDER BY step");
  int64_t expected = 0;
  while (q.step()) {
    ++expected;
    const StepRow want = step_row(c.trial.trial_id, expected, expected % 3 == 0);
    EXPECT_EQ(q.column_int64(0), expected);
    EXPECT_EQ(q.column_text(1), want.phase);
    EXPECT_DOUBLE_EQ(q.column_double(2), want.train_loss);
    EXPECT_EQ(q.column_is_null(3), !want.test_acc);
    if (want.test_acc) {
      EXPECT_DOUBLE_EQ(q.column_double(3), *want.test_acc);
    }
    EXPECT_DOUBLE_EQ(q.column_double(4), want.feature_grad_energy);
    EXPECT_EQ(q.column_is_null(5), !want.eval_seconds);
  }
  EXPECT_EQ(expected, 70);
  Statement m(c.store.database(), "SELECT step, name, value FROM metrics ORDER BY step");
  int64_t n = 0;
  while (m.step()) {
    ++n;
    EXPECT_EQ(m.column_int64(0), n);
    EXPECT_EQ(m.column_text(1), "m" + std::to_string(n % 2));
    EXPECT_DOUBLE_EQ(m.column_double(2), 0.5 * static_cast<double>(n));
  }
  EXPECT_EQ(n, 70);
}

TEST(StepRecorder, FlushesEveryNRowsSoOtherConnectionsSeeProgress) {
  TempDir dir;
  const std::string path = dir.file("r.db");
  Claimed c = claimed(path, 100);
  RecorderOptions o;
  o.flush_rows = 10;
  o.flush_seconds = 3600;
  StepRecorder rec = c.store.recorder(c.trial.trial_id, o);
  const Database reader = Database::open(path, OpenMode::ReadOnly);
  for (int s = 1; s <= 25; ++s) rec.add(step_row(c.trial.trial_id, s, false));
  EXPECT_EQ(scalar(reader, "SELECT count(*) FROM steps"), 20);
  EXPECT_EQ(rec.buffered_rows(), 5u);
  EXPECT_EQ(rec.written_steps(), 20);
}

TEST(StepRecorder, FlushesRowsOlderThanTheInterval) {
  TempDir dir;
  const std::string path = dir.file("r.db");
  Claimed c = claimed(path, 100);
  RecorderOptions o;
  o.flush_rows = 1000;
  o.flush_seconds = 0.05;
  StepRecorder rec = c.store.recorder(c.trial.trial_id, o);
  const Database reader = Database::open(path, OpenMode::ReadOnly);
  rec.add(step_row(c.trial.trial_id, 1, false));
  rec.add(step_row(c.trial.trial_id, 2, false));
  EXPECT_EQ(scalar(reader, "SELECT count(*) FROM steps"), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(80));
  rec.add(step_row(c.trial.trial_id, 3, false));
  EXPECT_EQ(scalar(reader, "SELECT count(*) FROM steps"), 3);
}

// A trigger makes the final UPDATE fail: the rows of the same transaction must not stay.
TEST(StepRecorder, FinishWritesRowsAndDoneTogetherOrNeither) {
  Claimed c = claimed(":memory:", 50);
  Database& db = c.store.database();
  RecorderOptions o;
  o.flush_rows = 20;
  o.flush_seconds = 3600;
  StepRecorder rec = c.store.recorder(c.trial.trial_id, o);
  for (int s = 1; s <= 50; ++s) rec.add(step_row(c.trial.trial_id, s, false));
  EXPECT_EQ(scalar(db, "SELECT count(*) FROM steps"), 40);
  db.exec("CREATE TEMP TRIGGER refuse_done BEFORE UPDATE OF status ON trials WHEN NEW.status = 'done' "
          "BEGIN SELECT RAISE(ABORT, 'simulated crash'); END");
  EXPECT_THROW(rec.finish(1.0), DbError);
  EXPECT_EQ(scalar(db, "SELECT count(*) FROM steps"), 40);  // the last 10 rolled back with the status
  EXPECT_EQ(std::get<std::string>(db.query("SELECT status FROM trials").rows[0][0]), "running");
  EXPECT_EQ(rec.buffered_rows(), 10u);  // kept for another attempt
  db.exec("DROP TRIGGER refuse_done");
  rec.finish(1.0);
  EXPECT_EQ(scalar(db, "SELECT count(*) FROM steps"), 50);
  EXPECT_EQ(std::get<std::string>(db.query("SELECT status FROM trials").rows[0][0]), "done");
  EXPECT_THROW(rec.add(step_row(c.trial.trial_id, 51, false)), DbError);
}

TEST(StepRecorder, FinishRefusesMissingSteps) {
  Claimed c = claimed(":memory:", 10);
  StepRecorder rec = c.store.recorder(c.trial.trial_id);
  for (int s = 1; s <= 9; ++s) rec.add(step_row(c.trial.trial_id, s, false));
  try {
    rec.finish(1.0);
    FAIL() << "expected DbError";
  } catch (const DbError& e) {
    EXPECT_THAT(e.what(), HasSubstr("9 step rows but planned_steps = 10"));
  }
  EXPECT_EQ(scalar(c.store.database(), "SELECT count(*) FROM steps"), 0);
  EXPECT_EQ(c.store.status_counts(c.experiment_id).running, 1);
  rec.fail("stopped early");
  EXPECT_EQ(scalar(c.store.database(), "SELECT count(*) FROM steps"), 9);
  EXPECT_EQ(c.store.status_counts(c.experiment_id).failed, 1);
}

TEST(StepRecorder, FailStillMarksTheTrialWhenBufferedRowsCannotBeWritten) {
  Claimed c = claimed(":memory:", 10);
  StepRecorder rec = c.store.recorder(c.trial.trial_id);
  rec.add(step_row(c.trial.trial_id, 1, false));
  rec.add(step_row(c.trial.trial_id, 1, false));  // duplicate step: the PRIMARY KEY refuses the batch
  rec.fail("plugin threw");
  const auto failed = c.store.failed_trials(c.experiment_id);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_THAT(failed[0].error, HasSubstr("plugin threw"));
  EXPECT_THAT(failed[0].error, HasSubstr("2 buffered rows could not be written"));
  EXPECT_EQ(scalar(c.store.database(), "SELECT count(*) FROM steps"), 0);
}

TEST(StepRecorder, FinishRefusesATrialThatIsNotRunning) {
  Claimed c = claimed(":memory:", 1);
  c.store.database().exec("UPDATE trials SET status = 'pending'");
  StepRecorder rec = c.store.recorder(c.trial.trial_id);
  rec.add(step_row(c.trial.trial_id, 1, false));
  EXPECT_THROW(rec.finish(1.0), DbError);
  EXPECT_EQ(scalar(c.store.database(), "SELECT count(*) FROM steps"), 0);
}

}  // namespace
}  // namespace harness::db

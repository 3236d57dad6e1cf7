// Tests of db/status.cpp on a hand-made database: counts, running steps, failures, time left.
#include "db/status.h"

#include "harness/errors.h"
#include "tests/db/temp_dir.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace harness::db {
namespace {

using ::testing::HasSubstr;

class StatusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.file("study.db");
    Database db = Database::open(path_, OpenMode::ReadWrite);
    db.exec("INSERT INTO experiments (name, config_text, config_hash, created_at, harness_version, git_revision, "
            "torch_version, host, device, deterministic) VALUES ('study', '', 'h', '2026-12-01T10:00:00Z', '0', 'g', "
            "'1.13', 'h', 'cpu', 1)");
    // he_base: 3 done (100, 200, 300 s; two within the hour before 12:00), 1 running at step 25 of 100.
    // mei: 1 done, 1 failed, 2 pending.
    db.exec("INSERT INTO trials (experiment_id, strategy, seed, status, planned_steps, wall_seconds, started_at, "
            "finished_at, worker) VALUES "
            "(1, 'he_base', 0, 'done', 100, 100, '2026-12-01T10:00:00Z', '2026-12-01T10:01:40Z', 'a:1'), "
            "(1, 'he_base', 1, 'done', 100, 200, '2026-12-01T11:10:00Z', '2026-12-01T11:13:20Z', 'a:1'), "
            "(1, 'he_base', 2, 'done', 100, 300, '2026-12-01T11:30:00Z', '2026-12-01T11:35:00Z', 'a:1'), "
            "(1, 'he_base', 3, 'running', 100, NULL, '2026-12-01T11:58:00Z', NULL, 'a:2'), "
            "(1, 'mei', 0, 'done', 100, 250, '2026-12-01T11:40:00Z', '2026-12-01T11:44:10Z', 'a:1'), "
            "(1, 'mei', 1, 'failed', 100, 5, '2026-12-01T11:45:00Z', '2026-12-01T11:45:05Z', 'a:1'), "
            "(1, 'mei', 2, 'pending', 100, NULL, NULL, NULL, NULL), "
            "(1, 'mei', 3, 'pending', 100, NULL, NULL, NULL, NULL)");
    db.exec("UPDATE trials SET error = 'loss is NaN at step 3' WHERE status = 'failed'");
    for (int step = 1; step <= 25; ++step) {
      db.exec("INSERT INTO steps (trial_id, step, phase, lr, train_loss, train_acc, zeta, label_energy, cross_energy, "
              "phi, noise_fraction, feature_grad_energy, feature_variance, backbone_drift, step_seconds) VALUES (4, " +
              std::to_string(step) + ", 'full', 1e-4, 1, 0.5, 0.2, 1, 0.4, 0.8, 0.5, 1, 1, 0, 0.1)");
    }
  }

  testing::TempDir dir_;
  std::string path_;
};

TEST_F(StatusTest, CountsRunningStepsFailuresAndTimeLeft) {
  const Database db = Database::open(path_, OpenMode::ReadOnly);
  const auto all = read_progress(db, "", "2026-12-01T12:00:00Z");
  ASSERT_EQ(all.size(), 1u);
  const ExperimentProgress& p = all[0];
  ASSERT_EQ(p.strategies.size(), 2u);
  EXPECT_EQ(p.strategies[0].strategy, "he_base");
  EXPECT_EQ(p.strategies[0].done, 3);
  EXPECT_EQ(p.strategies[0].running, 1);
  EXPECT_EQ(p.strategies[1].pending, 2);
  EXPECT_EQ(p.strategies[1].failed, 1);
  EXPECT_EQ(p.total.done, 4);
  ASSERT_EQ(p.running.size(), 1u);
  EXPECT_EQ(p.running[0].latest_step, 25);
  EXPECT_NEAR(p.running[0].seconds, 120.0, 1e-3);
  ASSERT_EQ(p.failed.size(), 1u);
  EXPECT_EQ(p.failed[0].error, "loss is NaN at step 3");
  // Median of 100, 200, 250, 300 = 225 s; finished within the hour before 12:00: 11:13, 11:35, 11:44.
  ASSERT_TRUE(p.median_trial_seconds);
  EXPECT_DOUBLE_EQ(*p.median_trial_seconds, 225.0);
  EXPECT_EQ(p.done_last_hour, 3);
  // Left: 2 pending x 225 + 0.75 x 225 for the running one, on 1 worker.
  ASSERT_TRUE(p.seconds_left);
  EXPECT_NEAR(*p.seconds_left, 2.75 * 225.0, 1e-9);

  const std::string text = format_progress(p);
  EXPECT_THAT(text, HasSubstr("experiment 'study': 4/8 trials done, 1 failed"));
  EXPECT_THAT(text, HasSubstr("running: he_base seed 3 at step 25/100 (a:2, started 2026-12-01T11:58:00Z, 2m00s ago)"));
  EXPECT_THAT(text, HasSubstr("failed: mei seed 1: loss is NaN at step 3"));
  EXPECT_THAT(text, HasSubstr("time left: about 10m19s"));
}

TEST_F(StatusTest, AnUnknownExperimentListsThePresentOnes) {
  const Database db = Database::open(path_, OpenMode::ReadOnly);
  try {
    read_progress(db, "nope", "2026-12-01T12:00:00Z");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr("no experiment named 'nope'; experiments present: study"));
  }
  EXPECT_EQ(format_duration(3725), "1h02m");
  EXPECT_EQ(format_duration(59.6), "1m00s");
  EXPECT_EQ(format_duration(-3), "0s");
}

}  // namespace
}  // namespace harness::db

// Tests of db/store.cpp in one process: idempotent records, refusals, claims, resume, status readers.
#include "db/store.h"

#include "store_fixture.h"
#include "temp_dir.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <thread>
#include <sys/wait.h>
#include <unistd.h>

namespace harness::db {
namespace {

using ::testing::HasSubstr;
using namespace testing;  // NOLINT: test helpers

TEST(Store, OpenWaitsOutALockHeldLongerThanOneBusyTimeout) {
  TempDir dir;
  const std::string path = dir.file("locked.db");
  Store::open(path);  // an existing results database
  Database holder = Database::open(path, OpenMode::ReadWrite);
  holder.exec("BEGIN IMMEDIATE");
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    holder.exec("COMMIT");
  });
  StoreOptions options;
  options.busy_timeout_ms = 100;  // one wait: far shorter than the lock is held
  options.max_busy_wait = std::chrono::seconds(30);
  const auto start = std::chrono::steady_clock::now();
  try {
    Store store = Store::open(path, options);
    EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1000));
    EXPECT_EQ(scalar(store.database(), "SELECT count(*) FROM experiments"), 0);
  } catch (const DbError& e) {
    ADD_FAILURE() << "opening gave up after one busy timeout: " << e.what();
  }
  release.join();
}

// A finished run leaves its database in rollback-journal mode (Database::leave_wal); the next run's
// switch back to WAL needs the file to itself, so a long read waits that open out like a write.
TEST(Store, OpenOfAFinishedDatabaseWaitsOutAReaderLongerThanOneBusyTimeout) {
  TempDir dir;
  const std::string path = dir.file("finished.db");
  {
    Store store = Store::open(path);
    store.ensure_experiment(experiment("main"));
    ASSERT_TRUE(store.database().leave_wal());
  }
  Database reader = Database::open(path, OpenMode::ReadOnly);
  reader.exec("BEGIN");
  ASSERT_EQ(scalar(reader, "SELECT count(*) FROM experiments"), 1);  // holds the shared lock until COMMIT
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    reader.exec("COMMIT");
  });
  StoreOptions options;
  options.busy_timeout_ms = 100;
  options.max_busy_wait = std::chrono::seconds(30);
  const auto start = std::chrono::steady_clock::now();
  try {
    Store store = Store::open(path, options);
    EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1000));
    EXPECT_EQ(std::get<std::string>(store.database().query("PRAGMA journal_mode").rows.at(0).at(0)), "wal");
    EXPECT_EQ(scalar(store.database(), "SELECT count(*) FROM experiments"), 1);
  } catch (const DbError& e) {
    ADD_FAILURE() << "opening gave up after one busy timeout: " << e.what();
  }
  release.join();
}

TEST(Store, OpenGivesUpAfterTheLongestBusyWaitNamingTheFile) {
  TempDir dir;
  const std::string path = dir.file("stuck.db");
  Store::open(path);
  Database holder = Database::open(path, OpenMode::ReadWrite);
  holder.exec("BEGIN IMMEDIATE");
  StoreOptions options;
  options.busy_timeout_ms = 50;
  options.max_busy_wait = std::chrono::milliseconds(400);
  try {
    Store::open(path, options);
    FAIL() << "expected DbError";
  } catch (const DbError& e) {
    EXPECT_THAT(e.what(), HasSubstr(path));
    EXPECT_THAT(e.what(), HasSubstr("stayed locked"));
  }
  holder.exec("ROLLBACK");
}

TEST(Store, EnsureExperimentIsIdempotentAndRefusesAnotherConfigHash) {
  Store store = Store::open(":memory:");
  const int64_t id = store.ensure_experiment(experiment("main", "hash-a"));
  EXPECT_EQ(store.ensure_experiment(experiment("main", "hash-a")), id);
  EXPECT_NE(store.ensure_experiment(experiment("other", "hash-b")), id);
  try {
    store.ensure_experiment(experiment("main", "hash-b"));
    FAIL() << "expected DbError";
  } catch (const DbError& e) {
    EXPECT_THAT(e.what(), HasSubstr("'main'"));
    EXPECT_THAT(e.what(), HasSubstr("hash-a"));
    EXPECT_THAT(e.what(), HasSubstr("hash-b"));
    EXPECT_THAT(e.what(), HasSubstr("new name"));
  }
  EXPECT_EQ(scalar(store.database(), "SELECT count(*) FROM experiments"), 2);
  const Table row = store.database().query(
      "SELECT torch_version, deterministic, created_at FROM experiments WHERE id = ?1", {Value{id}});
  EXPECT_EQ(std::get<std::string>(row.rows.at(0).at(0)), "1.13.0");
  EXPECT_EQ(std::get<int64_t>(row.rows.at(0).at(1)), 1);
  EXPECT_THAT(std::get<std::string>(row.rows.at(0).at(2)), ::testing::MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z"));
}

TEST(Store, EnsurePluginReturnsTheSameRowForTheSameFile) {
  Store store = Store::open(":memory:");
  const int64_t a = store.ensure_plugin("mei", "1.0", "/lib/mei.so", "sha-1");
  EXPECT_EQ(store.ensure_plugin("mei", "1.0", "/elsewhere/mei.so", "sha-1"), a);
  EXPECT_NE(store.ensure_plugin("mei", "1.0", "/lib/mei.so", "sha-2"), a);
}

TEST(Store, EnsureTrialsIsIdempotent) {
  Store store = Store::open(":memory:");
  const int64_t e = store.ensure_experiment(experiment("main"));
  store.ensure_trials(e, trials({"he_base", "mei"}, 3, 10));
  store.ensure_trials(e, trials({"he_base", "mei", "mei_fn"}, 3, 10));
  const StatusCounts c = store.status_counts(e);
  EXPECT_EQ(c.pending, 9);
  EXPECT_EQ(c.total(), 9);
}

TEST(Store, ClaimsInSeedOrderEachTrialOnce) {
  Store store = Store::open(":memory:");
  const int64_t e = store.ensure_experiment(experiment("main"));
  store.ensure_trials(e, trials({"mei", "he_base"}, 2, 10));
  std::vector<std::pair<int64_t, std::string>> order;
  while (auto t = store.claim_next_trial(e, this_worker())) {
    order.emplace_back(t->seed, t->strategy);
    EXPECT_EQ(t->attempt, 1);
    EXPECT_EQ(t->planned_steps, 10);
    EXPECT_EQ(t->params_json, "{\"k\":\"v\"}");
  }
  EXPECT_EQ(order, (std::vector<std::pair<int64_t, std::string>>{{0, "he_base"}, {0, "mei"}, {1, "he_base"}, {1, "mei"}}));
  const StatusCounts c = store.status_counts(e);
  EXPECT_EQ(c.running, 4);
  EXPECT_EQ(c.pending, 0);
  // Our own process is alive: its running trials are not claimed again.
  EXPECT_FALSE(store.claim_next_trial(e, this_worker()));
}

TEST(Store, ClaimIsScopedToTheExperiment) {
  Store store = Store::open(":memory:");
  const int64_t a = store.ensure_experiment(experiment("a"));
  const int64_t b = store.ensure_experiment(experiment("b"));
  store.ensure_trials(a, trials({"s"}, 1, 5));
  EXPECT_FALSE(store.claim_next_trial(b, this_worker()));
  EXPECT_TRUE(store.claim_next_trial(a, this_worker()));
}

// A pid that surely belongs to no process: a child we started and reaped.
pid_t dead_pid() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  ::waitpid(pid, nullptr, 0);
  return pid;
}

TEST(Store, RunningTrialsAreCountedByHolderAsAClaimJudgesThem) {
  Store store = Store::open(":memory:");
  const int64_t e = store.ensure_experiment(experiment("main"));
  store.ensure_trials(e, trials({"he_base"}, 6, 3));
  const std::string dead = "testhost:" + std::to_string(dead_pid());
  // Seeds 0-1 held by this (live) process, 2 by a dead one, 3-4 by other hosts, 5 pending.
  const std::vector<std::string> holders = {this_worker(), this_worker(), dead, "otherhost:1", "third:7"};
  for (std::size_t seed = 0; seed < holders.size(); ++seed) {
    store.database().query("UPDATE trials SET status = 'running', worker = ?2 WHERE experiment_id = ?1 AND seed = ?3",
                           {e, holders[seed], static_cast<int64_t>(seed)});
  }
  const RunningTrials running = store.running_trials(e, this_worker());
  EXPECT_EQ(running.live, 2);
  EXPECT_EQ(running.dead, 1);
  EXPECT_EQ(running.other_host_total(), 2);
  EXPECT_EQ(running.other_hosts.at("otherhost"), 1);
  EXPECT_EQ(running.other_hosts.at("third"), 1);
  // The same judgement as a claim, in seed order: the dead one is taken, then the pending one, never the live ones.
  const auto first = store.claim_next_trial(e, this_worker());
  ASSERT_TRUE(first);
  EXPECT_EQ(first->seed, 2);
  const auto second = store.claim_next_trial(e, this_worker());
  ASSERT_TRUE(second);
  EXPECT_EQ(second->seed, 5);
  EXPECT_FALSE(store.claim_next_trial(e, this_worker()));
  EXPECT_EQ(store.running_trials(e, this_worker()).live, 4);
  EXPECT_EQ(store.running_trials(e, this_worker()).dead, 0);
}

TEST(Store, ResumesATrialOfADeadWorkerAndDeletesItsPartialRows) {
  TempDir dir;
  Store store = Store::open(dir.file("r.db"));
  const int64_t e = store.ensure_experiment(experiment("main"));
  store.ensure_trials(e, trials({"he_base"}, 1, 20));
  const std::string dead = "testhost:" + std::to_string(dead_pid());
  const auto first = store.claim_next_trial(e, dead);
  ASSERT_TRUE(first);
  {
    StepRecorder rec = store.recorder(first->trial_id);
    for (int s = 1; s <= 7; ++s) rec.add(step_row(first->trial_id, s, true), {{s, "alpha", 1.0}});
    rec.flush();
  }  // the "process" died here: trial left 'running' with 7 partial steps
  const Database& db = store.database();
  EXPECT_EQ(scalar(db, "SELECT count(*) FROM steps"), 7);
  EXPECT_EQ(scalar(db, "SELECT count(*) FROM metrics"), 7);

  // Another host's running trials are never touched (its pids mean nothing here).
  EXPECT_FALSE(store.claim_next_trial(e, "otherhost:" + std::to_string(::getpid())));

  const auto again = store.claim_next_trial(e, this_worker());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->trial_id, first->trial_id);
  EXPECT_EQ(again->attempt, 2);
  EXPECT_EQ(scalar(db, "SELECT count(*) FROM steps"), 0);
  EXPECT_EQ(scalar(db, "SELECT count(*) FROM metrics"), 0);
  EXPECT_EQ(std::get<std::string>(db.query("SELECT worker FROM trials").rows.at(0).at(0)), this_worker());

  StepRecorder rec = store.recorder(again->trial_id);
  for (int s = 1; s <= 20; ++s) rec.add(step_row(again->trial_id, s, false));
  rec.finish(1.5);
  EXPECT_EQ(scalar(db, "SELECT count(*) FROM steps"), 20);
  EXPECT_EQ(store.status_counts(e).done, 1);
  EXPECT_FALSE(store.claim_next_trial(e, this_worker()));  // done trials are never rerun
}

TEST(Store, AClaimThatKeepsEarlierRowsLeavesThemForTruncateToCutAfterACheckpoint) {
  TempDir dir;
  Store store = Store::open(dir.file("k.db"));
  const int64_t e = store.ensure_experiment(experiment("main"));
  store.ensure_trials(e, trials({"he_base"}, 1, 20));
  const auto first = store.claim_next_trial(e, "testhost:" + std::to_string(dead_pid()));
  ASSERT_TRUE(first);
  {
    StepRecorder rec = store.recorder(first->trial_id);
    for (int s = 1; s <= 9; ++s) rec.add(step_row(first->trial_id, s, true), {{s, "alpha", 1.0}});
    rec.flush();
  }  // killed after step 9; say its checkpoint covers steps 1-6
  const auto again = store.claim_next_trial(e, this_worker(), EarlierRows::Keep);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->attempt, 2);
  const Database& db = store.database();
  EXPECT_EQ(scalar(db, "SELECT count(*) FROM steps"), 9);
  EXPECT_EQ(store.truncate_trial(again->trial_id, 6), 6);
  EXPECT_EQ(scalar(db, "SELECT max(step) FROM steps"), 6);
  EXPECT_EQ(scalar(db, "SELECT count(*) FROM metrics WHERE step > 6"), 0);
  EXPECT_EQ(scalar(db, "SELECT count(*) FROM metrics"), 6);
  // A checkpoint beyond the recorded rows: fewer rows than its step are left, which the caller
  // sees and then starts the trial again.
  EXPECT_EQ(store.truncate_trial(again->trial_id, 12), 6);
  EXPECT_EQ(store.truncate_trial(again->trial_id, 0), 0);
  EXPECT_EQ(scalar(db, "SELECT count(*) FROM metrics"), 0);
  StepRecorder rec = store.recorder(again->trial_id);
  for (int s = 1; s <= 20; ++s) rec.add(step_row(again->trial_id, s, false));
  rec.finish(1.0);
  EXPECT_EQ(store.status_counts(e).done, 1);
}

TEST(Store, ResumesATrialWhoseWorkerWasSigkilled) {
  TempDir dir;
  const std::string path = dir.file("r.db");
  int64_t e = 0;
  {
    Store store = Store::open(path);
    e = store.ensure_experiment(experiment("main"));
    store.ensure_trials(e, trials({"he_base"}, 1, 100));
  }
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const pid_t child = ::fork();
  if (child == 0) {
    // A worker: claims, writes 30 steps (flushed every 10), then waits to be killed.
    try {
      Store store = Store::open(path);
      auto t = store.claim_next_trial(e, this_worker());
      RecorderOptions o;
      o.flush_rows = 10;
      StepRecorder rec = store.recorder(t->trial_id, o);
      for (int s = 1; s <= 35; ++s) rec.add(step_row(t->trial_id, s, s % 2 == 0));
    } catch (...) {
      ::_exit(1);
    }
    char ready = 'r';
    if (::write(pipe_fds[1], &ready, 1) != 1) ::_exit(1);
    ::pause();
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  char ready = 0;
  ASSERT_EQ(::read(pipe_fds[0], &ready, 1), 1);
  ::close(pipe_fds[0]);
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));

  Store store = Store::open(path);
  EXPECT_EQ(scalar(store.database(), "SELECT count(*) FROM steps"), 30);  // 5 rows were still buffered
  EXPECT_EQ(store.status_counts(e).running, 1);
  const auto t = store.claim_next_trial(e, this_worker());
  ASSERT_TRUE(t);
  EXPECT_EQ(t->attempt, 2);
  EXPECT_EQ(scalar(store.database(), "SELECT count(*) FROM steps"), 0);
}

TEST(Store, FailedTrialsAreListedWithTheirErrorAndCanBeReset) {
  Store store = Store::open(":memory:");
  const int64_t e = store.ensure_experiment(experiment("main"));
  store.ensure_trials(e, trials({"mei"}, 2, 3));
  auto t = store.claim_next_trial(e, this_worker());
  StepRecorder rec = store.recorder(t->trial_id);
  rec.add(step_row(t->trial_id, 1, true));
  rec.fail("training loss became NaN at step 2");
  const auto failed = store.failed_trials(e);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].trial_id, t->trial_id);
  EXPECT_EQ(failed[0].strategy, "mei");
  EXPECT_EQ(failed[0].seed, 0);
  EXPECT_EQ(failed[0].error, "training loss became NaN at step 2");
  EXPECT_EQ(failed[0].attempts, 1);
  // The row written before the failure is kept for diagnosis.
  EXPECT_EQ(scalar(store.database(), "SELECT count(*) FROM steps"), 1);
  const StatusCounts c = store.status_counts(e);
  EXPECT_EQ(c.failed, 1);
  EXPECT_EQ(c.pending, 1);
  EXPECT_EQ(store.reset_failed_trials(e), 1);
  EXPECT_EQ(store.status_counts(e).pending, 2);
}

TEST(Store, SetTrialPluginRecordsThePlugin) {
  Store store = Store::open(":memory:");
  const int64_t e = store.ensure_experiment(experiment("main"));
  store.ensure_trials(e, trials({"mei"}, 1, 3));
  auto t = store.claim_next_trial(e, this_worker());
  const int64_t p = store.ensure_plugin("mei", "1", "/x.so", "h");
  store.set_trial_plugin(t->trial_id, p);
  EXPECT_EQ(scalar(store.database(), "SELECT plugin_id FROM trials"), p);
  EXPECT_THROW(store.set_trial_plugin(9999, p), DbError);
}

}  // namespace
}  // namespace harness::db

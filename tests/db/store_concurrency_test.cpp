// Tests of db/store.cpp across processes: 4 forked workers share one file; every trial is
// claimed exactly once and every step row arrives.
#include "db/store.h"

#include "store_fixture.h"
#include "temp_dir.h"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

namespace harness::db {
namespace {

using namespace testing;  // NOLINT: test helpers

constexpr int kWorkers = 4;
constexpr int kSeeds = 10;
constexpr int64_t kSteps = 50;
const std::vector<std::string> kStrategies = {"he_base", "warmup", "mei", "mei_fn"};

// A worker process: claims trials until none is left, writes their steps with
// small batches (to interleave many write transactions), finishes each.
int work(const std::string& path, int64_t experiment_id, int start_fd) {
  try {
    Store store = Store::open(path);
    char go = 0;
    if (::read(start_fd, &go, 1) < 0) return 1;  // all workers start together (EOF when the parent closes)
    RecorderOptions o;
    o.flush_rows = 7;
    o.flush_seconds = 3600;
    while (auto t = store.claim_next_trial(experiment_id, this_worker())) {
      StepRecorder rec = store.recorder(t->trial_id, o);
      for (int64_t s = 1; s <= t->planned_steps; ++s) {
        rec.add(step_row(t->trial_id, s, s % 5 == 0), {{s, "alpha", static_cast<double>(s)}});
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));  // "training", so workers overlap
      rec.finish(0.1);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "worker %d: %s\n", static_cast<int>(::getpid()), e.what());
    return 1;
  }
}

TEST(StoreConcurrency, FourProcessesClaimEachTrialOnceAndLoseNoRow) {
  TempDir dir;
  const std::string path = dir.file("shared.db");
  int64_t e = 0;
  {
    Store store = Store::open(path);
    e = store.ensure_experiment(experiment("main"));
    store.ensure_trials(e, trials(kStrategies, kSeeds, kSteps));
  }
  int start[2];
  ASSERT_EQ(::pipe(start), 0);
  std::vector<pid_t> pids;
  for (int w = 0; w < kWorkers; ++w) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(start[1]);
      ::_exit(work(path, e, start[0]));
    }
    pids.push_back(pid);
  }
  ::close(start[0]);
  ::close(start[1]);
  for (pid_t pid : pids) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "worker " << pid << " failed (see stderr)";
  }

  const Database db = Database::open(path, OpenMode::ReadOnly);
  const int64_t n_trials = static_cast<int64_t>(kStrategies.size()) * kSeeds;
  EXPECT_EQ(scalar(db, "SELECT count(*) FROM trials WHERE status = 'done' AND attempts = 1"), n_trials);
  EXPECT_EQ(scalar(db, "SELECT count(*) FROM steps"), n_trials * kSteps);
  EXPECT_EQ(scalar(db, "SELECT count(*) FROM metrics"), n_trials * kSteps);
  // Every trial has exactly steps 1..kSteps.
  EXPECT_EQ(scalar(db, "SELECT count(*) FROM (SELECT trial_id FROM steps GROUP BY trial_id "
                       "HAVING count(*) = ?1 AND min(step) = 1 AND max(step) = ?1)",
                   {Value{kSteps}}),
            n_trials);
  // The work was shared: more than one worker claimed trials.
  EXPECT_GT(scalar(db, "SELECT count(DISTINCT worker) FROM trials"), 1);
  // Rows carry the values their trial wrote (test_acc encodes the trial id).
  EXPECT_EQ(scalar(db, "SELECT count(*) FROM steps WHERE test_acc IS NOT NULL AND "
                       "abs(test_acc - (0.001 * trial_id + 1e-6 * step)) > 1e-12"),
            0);
}

}  // namespace
}  // namespace harness::db

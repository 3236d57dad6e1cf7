// End-to-end tests of `harness run` as a user runs it: the binary on generated
// IDX data with a backbone from `harness pretrain`, rerun, killed with SIGKILL
// and resumed, split over worker processes, and with failing trials. Every
// recorded value is compared with an uninterrupted run.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tests/harness/harness_process.h"

namespace harness {
namespace {

using testing::count;
using testing::read_text;
using testing::recorded_values;
using testing::spawn_harness;
using testing::TempDir;
using testing::wait_exit;
using testing::write_text;

constexpr int kSeeds = 3, kStrategies = 3, kSteps = 40;
// SIGKILLs at random moments of one checkpointed run; HARNESS_TEST_RANDOM_KILLS=N for a longer soak.
int random_kills() {
  const char *n = std::getenv("HARNESS_TEST_RANDOM_KILLS");
  return n && std::atoi(n) > 0 ? std::atoi(n) : 12;
}

void expect_same_values(const db::Table &expected, const db::Table &actual) {
  ASSERT_EQ(expected.rows.size(), actual.rows.size());
  for (std::size_t i = 0; i < expected.rows.size(); ++i) {
    ASSERT_EQ(expected.rows[i], actual.rows[i]) << "row " << i;
  }
}

// Generated data, a pretrained checkpoint and an experiment file, shared by the
// tests, plus one uninterrupted reference run on one thread.
class RunCommand : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>();
    testing::write_idx_task(dir_->file("data"), 12345, /*wrong_labels=*/false);
    ASSERT_EQ(pretrain(dir_->file("convnet.pt"), 1), 0) << read_text(dir_->file("pretrain.log"));
    const std::string plain =
        testing::small_experiment("e2e", kSeeds, kSteps, dir_->file("convnet.pt"), dir_->file("data"));
    // Without [strategy.warmup], for runs that choose other strategies.
    write_text(dir_->file("plain.ini"), plain);
    write_text(dir_->file("experiment.ini"), plain + "[strategy.warmup]\nwarmup_steps = 3\n");
    reference_db_ = dir_->file("reference.db");
    ASSERT_EQ(run({"--db", reference_db_, "--threads", "1"}, "reference.log"), 0)
        << read_text(dir_->file("reference.log"));
  }
  static void TearDownTestSuite() { dir_.reset(); }

  // `harness pretrain` of convnet on the generated data, one epoch.
  static int pretrain(const std::string &out, int seed) {
    return wait_exit(spawn_harness({"pretrain",
                                    "--arch",
                                    "convnet",
                                    "--dataset",
                                    "idx",
                                    "--data-path",
                                    dir_->file("data"),
                                    "--epochs",
                                    "1",
                                    "--batch-size",
                                    "32",
                                    "--seed",
                                    std::to_string(seed),
                                    "--device",
                                    "cpu",
                                    "--threads",
                                    "1",
                                    "--out",
                                    out,
                                    "--force"},
                                   dir_->file("pretrain.log")));
  }
  static std::vector<std::string> run_args(std::vector<std::string> extra) {
    std::vector<std::string> args = {"run", dir_->file("experiment.ini")};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
  static int run(const std::vector<std::string> &extra, const std::string &log) {
    return wait_exit(spawn_harness(run_args(extra), dir_->file(log)));
  }

  static std::unique_ptr<TempDir> dir_;
  static std::string reference_db_;
};
std::unique_ptr<TempDir> RunCommand::dir_;
std::string RunCommand::reference_db_;

TEST_F(RunCommand, RecordsEveryStepOfEveryPairedTrial) {
  EXPECT_EQ(count(reference_db_, "SELECT COUNT(*) FROM trials WHERE status = 'done'"), kSeeds * kStrategies);
  EXPECT_EQ(count(reference_db_, "SELECT COUNT(*) FROM steps"), kSeeds * kStrategies * kSteps);
  // Test accuracy at steps 1-5, 10, 20, 30, 40 of every trial.
  EXPECT_EQ(count(reference_db_, "SELECT COUNT(*) FROM steps WHERE test_acc IS NOT NULL"), kSeeds * kStrategies * 9);
  EXPECT_EQ(count(reference_db_,
                  "SELECT COUNT(*) FROM trials WHERE plugin_id "
                  "IS NULL OR attempts != 1"),
            0);
  // Provenance of the experiment.
  EXPECT_EQ(count(reference_db_,
                  "SELECT COUNT(*) FROM experiments WHERE device = 'cpu' AND "
                  "deterministic = 1"
                  " AND torch_version != '' AND config_text LIKE '%warmup_steps = 3%'"),
            1);
  // The frozen warm-up steps leave the backbone bit-for-bit as pretrained.
  EXPECT_EQ(count(reference_db_,
                  "SELECT COUNT(*) FROM step_view WHERE "
                  "strategy = 'warmup' AND step <= 3"
                  " AND phase = 'head' AND backbone_drift = 0"),
            kSeeds * 3);
}

TEST_F(RunCommand, ARerunIsBitForBitTheSameAndARepeatedRunRecomputesNothing) {
  const std::string db = dir_->file("rerun.db");
  ASSERT_EQ(run({"--db", db, "--threads", "1"}, "rerun.log"), 0) << read_text(dir_->file("rerun.log"));
  expect_same_values(recorded_values(reference_db_), recorded_values(db));

  const db::Table before = db::Database::open(db, db::OpenMode::ReadOnly)
                               .query(
                                   "SELECT id, started_at, finished_at, "
                                   "wall_seconds, attempts FROM trials");
  ASSERT_EQ(run({"--db", db, "--threads", "1"}, "rerun.log"), 0);
  const db::Table after = db::Database::open(db, db::OpenMode::ReadOnly)
                              .query(
                                  "SELECT id, started_at, finished_at, "
                                  "wall_seconds, attempts FROM trials");
  EXPECT_EQ(before.rows, after.rows);
  EXPECT_THAT(read_text(dir_->file("rerun.log")), ::testing::HasSubstr("9 already done"));
}

TEST_F(RunCommand, AKilledRunResumesToTheSameNumbers) {
  const std::string db = dir_->file("killed.db");
  // Rows are written at every step, so the kill lands with a trial's rows half
  // on disk.
  const pid_t pid =
      spawn_harness(run_args({"--db", db, "--threads", "1", "--flush-seconds", "0"}), dir_->file("killed.log"));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  bool partial = false;
  while (!partial && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    try {
      partial = count(db,
                      "SELECT COUNT(*) FROM trials t WHERE status = 'running' AND"
                      " (SELECT COUNT(*) FROM steps s WHERE s.trial_id = t.id) "
                      "BETWEEN 5 AND 30") > 0 &&
                count(db, "SELECT COUNT(*) FROM trials WHERE status = 'done'") >= 2;
    } catch (const std::exception &) {
      // The database may not exist yet, or be mid-creation.
    }
  }
  ::kill(pid, SIGKILL);
  ASSERT_EQ(wait_exit(pid), 128 + SIGKILL);
  ASSERT_TRUE(partial) << "never saw a trial half recorded: " << read_text(dir_->file("killed.log"));
  const int64_t killed_rows = count(db, "SELECT COUNT(*) FROM steps");
  ASSERT_LT(killed_rows, kSeeds * kStrategies * kSteps);

  ASSERT_EQ(run({"--db", db, "--threads", "1"}, "resumed.log"), 0) << read_text(dir_->file("resumed.log"));
  expect_same_values(recorded_values(reference_db_), recorded_values(db));
  // Exactly the interrupted trial ran twice; finished ones were kept.
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM trials WHERE attempts = 2"), 1);
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM trials WHERE status = 'done' AND attempts = 1"), kSeeds * kStrategies - 1);
}

// The names of the files in `folder`, for a failure message.
std::string left_in(const std::string &folder) {
  std::string names;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    names += " " + it->path().filename().string();
  }
  return "left in " + folder + ":" + names;
}

// Starts a run and SIGKILLs it after `delay`; returns whether it was still running then.
bool killed_after(const std::vector<std::string> &args, const std::string &log, std::chrono::milliseconds delay) {
  const pid_t pid = spawn_harness(args, log);
  const auto deadline = std::chrono::steady_clock::now() + delay;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid, nullptr, WNOHANG) == pid) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ::kill(pid, SIGKILL);
  return wait_exit(pid) == 128 + SIGKILL;
}

TEST_F(RunCommand, RunsKilledAtRandomMomentsResumeFromTheirCheckpointsToTheSameNumbers) {
  // Kill moments from a fixed seed, spread over starting up (loading LibTorch, the data, the
  // plugins), training, evaluating, flushing rows and writing checkpoints. Each campaign kills a
  // run on a fresh database until it finishes by itself, then completes and compares it.
  std::mt19937 draw(20261201);
  std::uniform_int_distribution<int> delay_ms(150, 1500);
  const int wanted = random_kills();
  int kills = 0, resumes = 0, campaigns = 0;
  while (kills < wanted) {
    const std::string db = dir_->file("checkpointed-" + std::to_string(campaigns) + ".db");
    const std::vector<std::string> args = run_args({"--db", db, "--threads", "1", "--train.checkpoint_every", "3"});
    const int kills_before = kills;
    for (int round = 0; kills < wanted; ++round) {
      const std::string log = dir_->file("checkpointed-" + std::to_string(campaigns) + "-" + std::to_string(round) + ".log");
      if (!killed_after(args, log, std::chrono::milliseconds(delay_ms(draw)))) break;  // it finished first
      ++kills;
      if (read_text(log).find("resumed after step") != std::string::npos) ++resumes;
    }
    ++campaigns;
    ASSERT_GT(kills, kills_before) << "the run finished before the first kill";
    ASSERT_EQ(wait_exit(spawn_harness(args, dir_->file("checkpointed.log"))), 0) << read_text(dir_->file("checkpointed.log"));
    expect_same_values(recorded_values(reference_db_), recorded_values(db));
    EXPECT_EQ(count(db, "SELECT COUNT(*) FROM trials WHERE status = 'done'"), kSeeds * kStrategies);
    // Finished trials leave no checkpoint, and the folder goes with the last one.
    EXPECT_FALSE(std::filesystem::exists(db + ".checkpoints")) << left_in(db + ".checkpoints");
    if (::testing::Test::HasFailure()) break;
  }
  std::cout << kills << " kills in " << campaigns << " campaign(s); " << resumes
            << " of the killed runs had resumed a trial from its checkpoint\n";
  EXPECT_GE(resumes, 1);
}

TEST_F(RunCommand, ADamagedOrForeignCheckpointIsRefusedByNameAndItsTrialStartsAgain) {
  const std::string db = dir_->file("refused.db");
  const std::string folder = db + ".checkpoints";
  const std::vector<std::string> args = run_args({"--db", db, "--threads", "1", "--train.checkpoint_every", "2"});
  // Killed once a trial has a checkpoint: then trial 1 (done) and 2 (running) exist.
  const pid_t pid = spawn_harness(args, dir_->file("refused-killed.log"));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  bool has_checkpoint = false;
  while (!has_checkpoint && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    try {
      has_checkpoint = std::filesystem::exists(folder + "/trial-2.pt") &&
                       count(db, "SELECT COUNT(*) FROM steps WHERE trial_id = 2") >= 6;
    } catch (const std::exception &) {
    }
  }
  ::kill(pid, SIGKILL);
  ASSERT_EQ(wait_exit(pid), 128 + SIGKILL);
  ASSERT_TRUE(has_checkpoint) << read_text(dir_->file("refused-killed.log"));
  // Trial 2's checkpoint under a pending trial's name, and garbage in its own place.
  std::filesystem::copy_file(folder + "/trial-2.pt", folder + "/trial-5.pt");
  write_text(folder + "/trial-2.pt", "half a checkpoint");

  ASSERT_EQ(run({"--db", db, "--threads", "1"}, "refused.log"), 0) << read_text(dir_->file("refused.log"));
  const std::string log = read_text(dir_->file("refused.log"));
  EXPECT_THAT(log, ::testing::HasSubstr("checkpoint refused: " + folder +
                                        "/trial-2.pt: cannot be read as a trial checkpoint"));
  EXPECT_THAT(log, ::testing::HasSubstr("checkpoint refused: " + folder +
                                        "/trial-5.pt: the checkpoint belongs to another trial: its trial id is '2', "
                                        "this trial's is '5'"));
  EXPECT_THAT(log, ::testing::Not(::testing::HasSubstr("resumed after step")));
  expect_same_values(recorded_values(reference_db_), recorded_values(db));
  EXPECT_FALSE(std::filesystem::exists(folder)) << left_in(folder);
}

TEST_F(RunCommand, WorkerProcessesShareTheDatabaseAndClaimEachTrialOnce) {
  const std::string db = dir_->file("workers.db");
  // Each worker gets --threads 1, like the reference, so the numbers are
  // comparable bit for bit.
  ASSERT_EQ(run({"--db", db, "--workers", "4", "--threads", "1", "--train.checkpoint_every", "7"}, "workers.log"), 0)
      << read_text(dir_->file("workers.log"));
  expect_same_values(recorded_values(reference_db_), recorded_values(db));
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM trials WHERE attempts != 1"), 0);
  EXPECT_GE(count(db, "SELECT COUNT(DISTINCT worker) FROM trials"), 2);
  EXPECT_FALSE(std::filesystem::exists(db + ".checkpoints")) << left_in(db + ".checkpoints");
}

// Separate `harness run` processes on one database (not --workers): each claims trials until none is
// left, and the one that ends first must not count the trials the other is still running as unfinished.
TEST_F(RunCommand, SeparateRunsOnOneDatabaseAllExitZero) {
  const std::string db = dir_->file("separate.db");
  const pid_t a = spawn_harness(run_args({"--db", db, "--threads", "1"}), dir_->file("separate-a.log"));
  const pid_t b = spawn_harness(run_args({"--db", db, "--threads", "1"}), dir_->file("separate-b.log"));
  EXPECT_EQ(wait_exit(a), 0) << read_text(dir_->file("separate-a.log"));
  EXPECT_EQ(wait_exit(b), 0) << read_text(dir_->file("separate-b.log"));
  expect_same_values(recorded_values(reference_db_), recorded_values(db));
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM trials WHERE attempts != 1"), 0);
}

std::string host_name() {
  char buf[256] = {0};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

// A pid that belongs to no process: a child started and reaped.
pid_t dead_pid() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  wait_exit(pid);
  return pid;
}

// Puts the finished trial (strategy, seed) back to 'running' by `worker`, without its rows, as a process
// that is running it right now leaves it.
void hold_trial(const std::string &db_path, const std::string &strategy, int seed, const std::string &worker) {
  db::Database db = db::Database::open(db_path, db::OpenMode::ReadWrite);
  const std::string trial = "(SELECT id FROM trials WHERE strategy = '" + strategy + "' AND seed = " +
                            std::to_string(seed) + ")";
  db.exec("DELETE FROM metrics WHERE trial_id = " + trial + "; DELETE FROM steps WHERE trial_id = " + trial);
  db.query("UPDATE trials SET status = 'running', finished_at = NULL, wall_seconds = NULL, worker = ?1 WHERE id = " +
               trial,
           {worker});
}

TEST_F(RunCommand, ATrialALiveProcessRunsIsNotUnfinishedWorkButOneNobodyRunsIs) {
  const std::string db = dir_->file("held.db");
  ASSERT_FALSE(std::filesystem::exists(reference_db_ + "-wal"));  // a finished run leaves one file
  std::filesystem::copy_file(reference_db_, db);
  // This test process stands for another `harness run` on this host, busy with mei_fn seed 1.
  hold_trial(db, "mei_fn", 1, host_name() + ":" + std::to_string(::getpid()));
  EXPECT_EQ(run({"--db", db, "--threads", "1"}, "held.log"), 0) << read_text(dir_->file("held.log"));
  EXPECT_THAT(read_text(dir_->file("held.log")),
              ::testing::HasSubstr("8 done, 0 failed, 1 trial still running in other processes, 0 not finished"));
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM trials WHERE status = 'running'"), 1);

  // That process ended without finishing it: the next run resumes it, to the reference's numbers, and
  // leaves the finished database in rollback-journal mode (one file, readable anywhere).
  hold_trial(db, "mei_fn", 1, host_name() + ":" + std::to_string(dead_pid()));
  EXPECT_EQ(run({"--db", db, "--threads", "1"}, "held.log"), 0) << read_text(dir_->file("held.log"));
  EXPECT_THAT(read_text(dir_->file("held.log")), ::testing::HasSubstr("9 done, 0 failed, 0 not finished"));
  expect_same_values(recorded_values(reference_db_), recorded_values(db));
  EXPECT_EQ(std::get<std::string>(testing::query(db, "PRAGMA journal_mode").rows.at(0).at(0)), "delete");
  EXPECT_FALSE(std::filesystem::exists(db + "-wal"));
  EXPECT_FALSE(std::filesystem::exists(db + "-shm"));

  // A trial of another host: nobody here runs it, and this host cannot tell whether anyone does.
  hold_trial(db, "warmup", 2, "elsewhere:4242");
  EXPECT_EQ(run({"--db", db, "--threads", "1"}, "held.log"), 1) << read_text(dir_->file("held.log"));
  EXPECT_THAT(read_text(dir_->file("held.log")),
              ::testing::AllOf(::testing::HasSubstr("8 done, 0 failed, 1 not finished"),
                               ::testing::HasSubstr("1 trial(s) running by a process on host elsewhere")));
  // Still in WAL mode with something running: the switch is only for a database with nothing left.
  EXPECT_EQ(std::get<std::string>(testing::query(db, "PRAGMA journal_mode").rows.at(0).at(0)), "wal");
}

TEST_F(RunCommand, FailingTrialsAreMarkedWithTheirReasonAndTheOthersGoOn) {
  const std::string db = dir_->file("failing.db");
  const std::string log = dir_->file("failing.log");
  const int status = wait_exit(
      spawn_harness({"run", dir_->file("plain.ini"), "--db", db, "--threads", "1", "--seeds", "2", "--name", "failing",
                     "--strategies", "he_base, thrower=failing_strategy, nan=failing_strategy, checker=failing_strategy",
                     "--param", "nan.mode=nan", "--param", "nan.fail_at=2", "--param", "checker.mode=torch_check",
                     "--plugin-path", HARNESS_TEST_PLUGIN_DIR, "--train.checkpoint_every", "1"},
                    log));
  EXPECT_EQ(status, 1) << read_text(log);
  // LibTorch's error keeps its message, without the C++ backtrace its what() appends.
  EXPECT_EQ(count(db,
                  "SELECT COUNT(*) FROM trials WHERE strategy = 'checker' AND status = 'failed'"
                  " AND error LIKE '%TORCH_CHECK failed at step 3%' AND error NOT LIKE '%Exception raised from%'"),
            2);
  EXPECT_EQ(count(db,
                  "SELECT COUNT(*) FROM trials WHERE strategy = 'he_base' "
                  "AND status = 'done'"),
            2);
  EXPECT_EQ(count(db,
                  "SELECT COUNT(*) FROM trials WHERE strategy = 'thrower' "
                  "AND status = 'failed'"
                  " AND error LIKE '%gave up at step 3%'"),
            2);
  EXPECT_EQ(count(db,
                  "SELECT COUNT(*) FROM trials WHERE strategy = 'nan' AND "
                  "status = 'failed'"
                  " AND error LIKE '%NaN at step 2%'"),
            2);
  // The steps before the failure are kept.
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM step_view WHERE strategy = 'thrower'"), 2 * 2);
  EXPECT_THAT(read_text(log), ::testing::AllOf(::testing::HasSubstr("failed trials:"),
                                               ::testing::HasSubstr("thrower seed 1: failing_strategy gave up")));
  // A failed trial's checkpoints (written after steps 1 and 2) go with it.
  EXPECT_FALSE(std::filesystem::exists(db + ".checkpoints")) << left_in(db + ".checkpoints");
}

TEST_F(RunCommand, ADifferentBackboneFileUnderTheSamePathIsRefused) {
  const std::string checkpoint = dir_->file("swapped.pt");
  std::filesystem::copy_file(dir_->file("convnet.pt"), checkpoint);
  const std::string db = dir_->file("swapped.db");
  const std::vector<std::string> args = {"run",
                                         dir_->file("plain.ini"),
                                         "--db",
                                         db,
                                         "--threads",
                                         "1",
                                         "--seeds",
                                         "1",
                                         "--name",
                                         "swapped",
                                         "--strategies",
                                         "he_base",
                                         "--backbone.checkpoint",
                                         checkpoint};
  ASSERT_EQ(wait_exit(spawn_harness(args, dir_->file("swapped.log"))), 0) << read_text(dir_->file("swapped.log"));
  // The same settings pretrained from another seed, written over the same path.
  ASSERT_EQ(pretrain(checkpoint, 2), 0) << read_text(dir_->file("pretrain.log"));
  EXPECT_EQ(wait_exit(spawn_harness(args, dir_->file("swapped.log"))), 2);
  EXPECT_THAT(read_text(dir_->file("swapped.log")), ::testing::HasSubstr("# backbone file SHA-1: "));
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM steps"),
            kSteps);  // what was recorded is kept
}

TEST_F(RunCommand, BadInputIsRefusedWithTheKeyNamed) {
  const std::string log = dir_->file("bad.log");
  EXPECT_EQ(run({"--db", dir_->file("bad.db"), "--train.steps", "many"}, "bad.log"), 2);
  EXPECT_THAT(read_text(log), ::testing::HasSubstr("train.steps"));
  EXPECT_EQ(run({"--db", dir_->file("bad.db"), "--strategies", "he_base, no_such_strategy"}, "bad.log"), 2);
  EXPECT_THAT(read_text(log), ::testing::HasSubstr("no_such_strategy"));
  // A different configuration under the same experiment name is refused;
  // recorded results are kept.
  EXPECT_EQ(run({"--db", reference_db_, "--train.lr", "0.5"}, "bad.log"), 2);
  EXPECT_EQ(count(reference_db_, "SELECT COUNT(*) FROM steps"), kSeeds * kStrategies * kSteps);
}

TEST_F(RunCommand, ASettingAStrategyRequiresIsCheckedBeforeAnyTrialRuns) {
  const std::string db = dir_->file("requires.db");
  const std::vector<std::string> base = {"run", dir_->file("plain.ini"), "--db", db, "--name", "requires", "--strategies", "he_base, sgd_only=failing_strategy",
                                         "--param", "sgd_only.requires_optimizer=sgd", "--param", "sgd_only.fail_at=1000",
                                         "--plugin-path", HARNESS_TEST_PLUGIN_DIR, "--threads", "1"};
  EXPECT_EQ(wait_exit(spawn_harness(base, dir_->file("requires.log"))), 2);
  const std::string log = read_text(dir_->file("requires.log"));
  EXPECT_THAT(log, ::testing::HasSubstr("strategy 'sgd_only' (failing_strategy) requires [train] optimizer = sgd"));
  EXPECT_THAT(log, ::testing::HasSubstr("the experiment sets optimizer = adam"));
  EXPECT_FALSE(std::filesystem::exists(db) && count(db, "SELECT COUNT(*) FROM steps") > 0);
  std::vector<std::string> with_sgd = base;
  with_sgd.insert(with_sgd.end(), {"--train.optimizer", "sgd", "--seeds", "1"});
  EXPECT_EQ(wait_exit(spawn_harness(with_sgd, dir_->file("requires.log"))), 0) << read_text(dir_->file("requires.log"));
}

TEST_F(RunCommand, ASweptLearningRateRunsEveryVariantOnTheSameSeeds) {
  const std::string db = dir_->file("sweep.db");
  ASSERT_EQ(wait_exit(spawn_harness({"run", dir_->file("plain.ini"), "--db", db, "--name", "sweep", "--strategies",
                                     "he_base", "--train.lr", "1e-3 | 3e-3", "--seeds", "2", "--threads", "1"},
                                    dir_->file("sweep.log"))),
            0)
      << read_text(dir_->file("sweep.log"));
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM trials WHERE status = 'done'"), 4);
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM step_view WHERE strategy = 'he_base[lr=3e-3]' AND lr = 3e-3"), 2 * kSteps);
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM step_view WHERE strategy = 'he_base[lr=1e-3]' AND lr = 1e-3"), 2 * kSteps);
  // The variant at the experiment file's own lr is the unswept he_base, bit for bit, seed by seed.
  const std::string values = "SELECT seed, step, train_loss, train_acc, test_acc, feature_variance, backbone_drift "
                             "FROM step_view WHERE strategy = ?1 AND seed < 2 ORDER BY seed, step";
  const db::Table swept = db::Database::open(db, db::OpenMode::ReadOnly).query(values, {std::string("he_base[lr=1e-3]")});
  const db::Table plain = db::Database::open(reference_db_, db::OpenMode::ReadOnly).query(values, {std::string("he_base")});
  ASSERT_EQ(swept.rows.size(), static_cast<std::size_t>(2 * kSteps));
  expect_same_values(plain, swept);
  const db::Table other = db::Database::open(db, db::OpenMode::ReadOnly).query(values, {std::string("he_base[lr=3e-3]")});
  EXPECT_NE(other.rows, swept.rows);
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM experiments WHERE config_text LIKE '%lr = 0.001 | 0.003%'"), 1);
}

}  // namespace
}  // namespace harness

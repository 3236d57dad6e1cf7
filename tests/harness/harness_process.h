// Helpers of the end-to-end tests that run the `harness` binary: generated IDX
// data, starting and waiting for the process, and reading back what it
// recorded.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "db/database.h"
#include "tests/data/fixtures.h"

extern char **environ;

namespace harness::testing {

constexpr int64_t kTaskClasses = 3, kTaskSize = 12, kTaskTrain = 240, kTaskTest = 90;

// IDX files of kTaskClasses classes of kTaskSize x kTaskSize images: class c
// brightens its own horizontal band, with deterministic noise drawn from
// `noise_seed`. With `wrong_labels`, a quarter of the labels are wrong, so
// accuracies stay below 1 and differ between seeds and strategies.
inline void write_idx_task(const std::string &dir, uint32_t noise_seed, bool wrong_labels) {
  uint32_t state = noise_seed;
  auto noise = [&state] {
    state = state * 1664525u + 1013904223u;
    return static_cast<int>(state >> 24) % 96;
  };
  auto write_split = [&](const std::string &prefix, uint32_t n) {
    std::vector<uint8_t> pixels(size_t{n} * kTaskSize * kTaskSize), labels(n);
    for (uint32_t i = 0; i < n; ++i) {
      const int64_t c = i % kTaskClasses;
      labels[i] = static_cast<uint8_t>(c);
      if (wrong_labels) {
        const int draw = noise();
        if (draw % 4 == 0) labels[i] = static_cast<uint8_t>((c + 1 + draw / 4 % 2) % kTaskClasses);
      }
      for (int64_t r = 0; r < kTaskSize; ++r) {
        const bool lit = r / (kTaskSize / kTaskClasses) == c;
        for (int64_t col = 0; col < kTaskSize; ++col) {
          pixels[(size_t{i} * kTaskSize + r) * kTaskSize + col] = static_cast<uint8_t>((lit ? 140 : 20) + noise());
        }
      }
    }
    const auto size = static_cast<uint32_t>(kTaskSize);
    write_bytes(dir + "/" + prefix + "-images-idx3-ubyte", idx_bytes(0x803, {n, size, size}, pixels));
    write_bytes(dir + "/" + prefix + "-labels-idx1-ubyte", idx_bytes(0x801, {n}, labels));
  };
  write_split("train", kTaskTrain);
  write_split("t10k", kTaskTest);
}

// An experiment file for the generated task: he_base, mei_fn and warmup on convnet from `checkpoint`,
// batch 32, lr 1e-3, evaluation at steps 1-5 and every 10. No [strategy.*] section.
inline std::string small_experiment(const std::string &name, int seeds, int steps, const std::string &checkpoint,
                                    const std::string &data_dir) {
  return "[experiment]\nname = " + name + "\nseeds = " + std::to_string(seeds) +
         "\nstrategies = he_base, mei_fn, warmup\ndevice = cpu\n[backbone]\ncheckpoint = " + checkpoint +
         "\n[data]\ndataset = idx\npath = " + data_dir + "\n[train]\nsteps = " + std::to_string(steps) +
         "\nbatch_size = 32\nlr = 1e-3\ndense_eval_steps = 5\neval_every = 10\n";
}

// Starts the harness binary (HARNESS_BINARY) with its stdout and stderr going
// to `log` (truncated).
inline pid_t spawn_harness(const std::vector<std::string> &args, const std::string &log) {
  std::vector<std::string> argv = {HARNESS_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char *> cargv;
  for (auto &a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, cargv[0], &actions, nullptr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("could not start " + argv[0]);
  return pid;
}

// The exit status of `pid`, or 128 + the signal that ended it.
inline int wait_exit(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

inline std::string read_text(const std::string &path) {
  const auto bytes = read_bytes(path);
  return std::string(bytes.begin(), bytes.end());
}

inline db::Table query(const std::string &db_path, const std::string &sql) {
  return db::Database::open(db_path, db::OpenMode::ReadOnly).query(sql);
}

inline int64_t count(const std::string &db_path, const std::string &sql) {
  return std::get<int64_t>(query(db_path, sql).rows.at(0).at(0));
}

// Every column of every step row except the wall times (step_seconds,
// eval_seconds), then every metric, keyed by experiment, strategy and seed
// rather than ids, in a fixed order.
inline db::Table recorded_values(const std::string &db_path) {
  std::string columns;
  for (const auto &row : query(db_path, "PRAGMA table_info(steps)").rows) {
    const std::string name = std::get<std::string>(row.at(1));
    if (name == "trial_id" || name == "step_seconds" || name == "eval_seconds") continue;
    columns += ", s." + name;
  }
  db::Table steps = query(db_path,
                          "SELECT e.name, t.strategy, t.seed, t.status, t.params_json, "
                          "t.planned_steps" +
                              columns +
                              " FROM steps s JOIN trials t ON t.id = s.trial_id JOIN experiments e "
                              "ON "
                              "e.id = t.experiment_id ORDER BY e.name, t.strategy, t.seed, s.step");
  const db::Table metrics = query(db_path,
                                  "SELECT t.strategy, t.seed, m.step, m.name, m.value FROM metrics m "
                                  "JOIN trials t "
                                  "ON t.id = m.trial_id ORDER BY t.strategy, t.seed, m.step, m.name");
  steps.rows.insert(steps.rows.end(), metrics.rows.begin(), metrics.rows.end());
  return steps;
}

}  // namespace harness::testing

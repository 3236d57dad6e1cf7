// A generated results database with known effects, for the report tests and bench/report_bench.cpp.
#pragma once

#include "db/database.h"
#include "db/statement.h"

#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace harness::reports::testing {

struct SyntheticStrategy {
  std::string name;
  double final_shift = 0.0;   // added to the test accuracy at every step
  double noise_fraction = 0.5;  // at step 1
  double speed = 1.0;         // > 1 learns faster
};

struct SyntheticSpec {
  std::string experiment = "synthetic";
  std::vector<SyntheticStrategy> strategies;
  int seeds = 6;
  int steps = 40;
  int dense_eval_steps = 30;  // test_acc every step up to here, then every eval_every and at the last step
  int eval_every = 5;
  uint64_t rng_seed = 1;
  // (strategy, seed) trials to record as failed / left running / omit entirely.
  std::set<std::pair<std::string, int>> failed, running, missing;
  // Strategies with a validation split: val_acc = the step's accuracy without final_shift, plus
  // this shift, at every evaluated step (others record none).
  std::map<std::string, double> val_shift;
};

// What was inserted, for the tests to compute expected numbers independently.
struct SyntheticTruth {
  std::map<std::pair<std::string, int>, double> final_acc, early_acc, noise_fraction, grad_energy;
  std::map<std::pair<std::string, int>, std::vector<std::pair<int, double>>> evaluated;  // (step, test_acc)
  std::map<std::pair<std::string, int>, double> wall_seconds;  // of the done trials
};

inline bool synthetic_evaluated(const SyntheticSpec& spec, int step) {
  return step <= spec.dense_eval_steps || step % spec.eval_every == 0 || step == spec.steps;
}

// Writes one experiment into the database at `path` (created with the schema).
// Accuracy of (strategy, seed) at step t:
//   0.9 - 0.6 exp(-speed t / 8) + final_shift + seed effect + trial noise,
// the seed effect shared by every strategy (what pairing removes).
inline SyntheticTruth make_synthetic_db(const std::string& path, const SyntheticSpec& spec, int early_steps = 10) {
  SyntheticTruth truth;
  db::Database database = db::Database::open(path, db::OpenMode::ReadWrite);
  std::mt19937_64 gen(spec.rng_seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  database.exec("BEGIN");
  db::Statement exp(database,
                    "INSERT INTO experiments (name, config_text, config_hash, created_at, harness_version, "
                    "git_revision, torch_version, host, device, deterministic) VALUES (?1, '[experiment]', 'h', "
                    "'2026-11-22T08:00:00Z', '0.1.0', 'abc1234', '1.13.0', 'testhost', 'cpu', 1)");
  exp.bind(1, spec.experiment);
  exp.exec();
  const int64_t experiment_id = database.last_insert_rowid();
  db::Statement trial(database,
                      "INSERT INTO trials (experiment_id, strategy, seed, status, error, planned_steps, wall_seconds) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  db::Statement step(database,
                     "INSERT INTO steps (trial_id, step, phase, lr, train_loss, train_acc, test_acc, test_loss, zeta, "
                     "label_energy, cross_energy, phi, noise_fraction, feature_grad_energy, feature_variance, "
                     "backbone_drift, step_seconds, eval_seconds, val_acc) VALUES (?1, ?2, 'full', 1e-4, ?3, ?4, ?5, ?6, "
                     "0.2, 1.0, 0.4, 0.8, ?7, ?8, ?9, 0.01, 0.001, ?10, ?11)");
  std::vector<double> seed_effect(static_cast<std::size_t>(spec.seeds));
  for (auto& e : seed_effect) e = 0.02 * normal(gen);
  for (std::size_t index = 0; index < spec.strategies.size(); ++index) {
    const SyntheticStrategy& s = spec.strategies[index];
    for (int seed = 0; seed < spec.seeds; ++seed) {
      const auto key = std::make_pair(s.name, seed);
      if (spec.missing.count(key)) continue;
      const bool failed = spec.failed.count(key) > 0;
      const bool running = spec.running.count(key) > 0;
      trial.bind(1, experiment_id);
      trial.bind(2, s.name);
      trial.bind(3, int64_t{seed});
      trial.bind(4, failed ? "failed" : running ? "running" : "done");
      if (failed) trial.bind(5, "CUDA out of memory (synthetic)");
      else trial.bind_null(5);
      trial.bind(6, int64_t{spec.steps});
      // A wall time for every trial but a running one (a failed trial has one too, not counted as done).
      const double wall = 30.0 + 7.25 * static_cast<double>(index) + 1.5 * seed;
      if (running) trial.bind_null(7);
      else trial.bind(7, wall);
      if (!failed && !running) truth.wall_seconds[key] = wall;
      trial.exec();
      const int64_t trial_id = database.last_insert_rowid();
      const int recorded = failed || running ? spec.steps / 2 : spec.steps;
      const double trial_noise = 0.005 * normal(gen);
      double early_sum = 0.0;
      int early_n = 0;
      for (int t = 1; t <= recorded; ++t) {
        double acc = 0.9 - 0.6 * std::exp(-s.speed * t / 8.0) + s.final_shift + seed_effect[seed] + trial_noise +
                     0.002 * normal(gen);
        double nf = s.noise_fraction + 0.01 * normal(gen);
        double ge = (1.0 + s.noise_fraction) * std::exp(-t / 20.0) * (1.0 + 0.05 * normal(gen));
        double var = 0.5 + 0.3 * std::exp(-t / 10.0) * (1.0 + s.final_shift) + 0.01 * normal(gen);
        const bool eval = synthetic_evaluated(spec, t);
        step.bind(1, trial_id);
        step.bind(2, int64_t{t});
        step.bind(3, 2.0 * (1.0 - acc));
        step.bind(4, acc);
        if (eval) {
          step.bind(5, acc);
          step.bind(6, 2.0 * (1.0 - acc));
          step.bind(10, 0.01);
        } else {
          step.bind_null(5);
          step.bind_null(6);
          step.bind_null(10);
        }
        const auto val = spec.val_shift.find(s.name);
        if (eval && val != spec.val_shift.end()) step.bind(11, acc - s.final_shift + val->second);
        else step.bind_null(11);
        step.bind(7, nf);
        step.bind(8, ge);
        step.bind(9, var);
        step.exec();
        if (failed || running) continue;
        if (t == 1) {
          truth.noise_fraction[key] = nf;
          truth.grad_energy[key] = ge;
        }
        if (eval) {
          truth.evaluated[key].emplace_back(t, acc);
          truth.final_acc[key] = acc;
          if (t <= early_steps) {
            early_sum += acc;
            ++early_n;
          }
        }
      }
      if (!failed && !running) truth.early_acc[key] = early_sum / early_n;
    }
  }
  database.exec("COMMIT");
  return truth;
}

}  // namespace harness::reports::testing

// Shared helpers of the store tests: an experiment record, trial specs, step rows, row counts.
#pragma once

#include "db/store.h"

#include <unistd.h>

#include <string>
#include <vector>

namespace harness::db::testing {

inline ExperimentRecord experiment(const std::string& name, const std::string& hash = "hash-a") {
  ExperimentRecord r;
  r.name = name;
  r.config_text = "[experiment]\nname = " + name + "\n";
  r.config_hash = hash;
  r.harness_version = "0.1.0";
  r.git_revision = "abc123";
  r.torch_version = "1.13.0";
  r.host = "testhost";
  r.device = "cpu";
  r.deterministic = true;
  return r;
}

inline std::vector<TrialSpec> trials(const std::vector<std::string>& strategies, int seeds, int64_t steps) {
  std::vector<TrialSpec> specs;
  for (int seed = 0; seed < seeds; ++seed) {
    for (const auto& s : strategies) specs.push_back({s, seed, "{\"k\":\"v\"}", steps});
  }
  return specs;
}

// A step row whose values are derived from (trial, step), so they can be checked after a round trip.
inline StepRow step_row(int64_t trial_id, int64_t step, bool evaluated) {
  StepRow r;
  r.step = step;
  r.phase = step == 1 ? "head" : "full";
  r.lr = 1e-4;
  r.train_loss = 2.0 / static_cast<double>(step);
  r.train_acc = 0.5;
  if (evaluated) {
    r.test_acc = 0.001 * static_cast<double>(trial_id) + 1e-6 * static_cast<double>(step);
    r.test_loss = 1.5;
    r.eval_seconds = 0.01;
    r.val_acc = 0.002 * static_cast<double>(trial_id) + 2e-6 * static_cast<double>(step);
    r.val_loss = 1.25;
  }
  r.zeta = 0.1;
  r.label_energy = 1.0;
  r.cross_energy = 0.2;
  r.phi = 0.9;
  r.noise_fraction = 0.0;
  r.feature_grad_energy = 3.0 * static_cast<double>(step);
  r.feature_variance = 0.7;
  r.backbone_drift = 0.01;
  r.step_seconds = 0.002;
  return r;
}

inline int64_t scalar(const Database& db, const std::string& sql, const std::vector<Value>& binds = {}) {
  return std::get<int64_t>(db.query(sql, binds).rows.at(0).at(0));
}

inline std::string this_worker() { return "testhost:" + std::to_string(::getpid()); }

}  // namespace harness::db::testing

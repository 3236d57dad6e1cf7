// Reads one experiment of a results database into ReportData (see report_data.h).
#include "reports/report_data.h"

#include "db/values.h"
#include "harness/errors.h"
#include "reports/table.h"

#include <algorithm>
#include <cmath>

namespace harness::reports {
namespace {

using db::Value;

using db::as_double;
using db::as_int;
using db::as_text;
using db::is_null;

// "0, 3, 5-7": ascending seeds with runs collapsed.
std::string seed_ranges(const std::vector<int64_t>& seeds) {
  std::vector<std::string> parts;
  for (std::size_t i = 0; i < seeds.size();) {
    std::size_t j = i;
    while (j + 1 < seeds.size() && seeds[j + 1] == seeds[j] + 1) ++j;
    parts.push_back(j == i ? std::to_string(seeds[i]) : std::to_string(seeds[i]) + "-" + std::to_string(seeds[j]));
    i = j + 1;
  }
  return join(parts, ", ");
}

class Reader {
 public:
  Reader(const db::Database& db, const std::string& db_path, std::string experiment, const std::string& baseline)
      : db_(db), db_path_(db_path), name_(std::move(experiment)), baseline_(baseline) {}

  ReportData read(int early_steps) {
    read_experiment();
    read_trials();
    read_values(early_steps);
    return std::move(data_);
  }

 private:
  void read_experiment();
  void read_trials();
  void read_values(int early_steps);
  const TrialRow* done(int64_t id) const {
    auto it = done_.find(id);
    return it == done_.end() ? nullptr : &data_.trials[it->second];
  }

  const db::Database& db_;
  const std::string& db_path_;
  std::string name_;
  const std::string& baseline_;
  ReportData data_;
  std::map<int64_t, std::size_t> done_;  // finished trial id -> index in data_.trials
};

void Reader::read_experiment() {
  if (name_.empty()) {
    db::Table names = db_.query(sql::kExperimentNames);
    if (names.rows.size() != 1) {
      std::vector<std::string> present;
      for (const auto& r : names.rows) present.push_back(as_text(r[0]));
      throw ConfigError(db_path_ + ": no experiment named and the database holds " +
                        (present.empty() ? std::string("none (empty database)")
                                         : std::to_string(present.size()) + ": " + join(present, ", ")) +
                        "; name one with --experiment");
    }
    name_ = as_text(names.rows[0][0]);
  }
  db::Table e = db_.query(sql::kExperiment, {name_});
  if (!e.rows.empty()) {
    const auto& r = e.rows[0];
    data_.experiment = {as_int(r[0]),  as_text(r[1]), as_text(r[2]), as_text(r[3]), as_text(r[4]),
                        as_text(r[5]), as_text(r[6]), as_text(r[7]), as_int(r[8]) != 0};
    return;
  }
  db::Table names = db_.query(sql::kExperimentNames);
  if (names.rows.empty()) {
    throw ConfigError(db_path_ + ": the database holds no experiments (empty database); nothing to report on '" +
                      name_ + "'");
  }
  std::vector<std::string> present;
  for (const auto& r : names.rows) present.push_back(as_text(r[0]));
  throw ConfigError(db_path_ + ": no experiment named '" + name_ + "'; experiments present: " + join(present, ", "));
}

void Reader::read_trials() {
  db::Table t = db_.query(sql::kTrials, {data_.experiment.id});
  std::set<std::string> all_strategies;
  for (const auto& r : t.rows) {
    TrialRow tr{as_int(r[0]), as_text(r[1]), as_int(r[2]), as_text(r[3]), as_text(r[4]), as_int(r[5])};
    all_strategies.insert(tr.strategy);
    data_.trials.push_back(std::move(tr));
  }
  // A sweep's variants of the baseline ("he_base[lr=...]") stand for it until one is selected.
  const bool baseline_swept = std::any_of(all_strategies.begin(), all_strategies.end(), [&](const std::string& s) {
    return s.rfind(baseline_ + "[", 0) == 0;
  });
  if (!all_strategies.count(baseline_) && !baseline_swept) {
    throw ConfigError(db_path_ + ": experiment '" + name_ + "' has no trials of baseline strategy '" + baseline_ +
                      "'; strategies present: " +
                      (all_strategies.empty() ? std::string("none")
                                              : join({all_strategies.begin(), all_strategies.end()}, ", ")));
  }
  std::set<std::string> done_strategies;
  // Unfinished trials by strategy and status, one line each (a study stopped part-way leaves many);
  // failed ones one line each, with their error.
  std::map<std::pair<std::string, std::string>, std::vector<int64_t>> unfinished;
  for (std::size_t i = 0; i < data_.trials.size(); ++i) {
    const TrialRow& tr = data_.trials[i];
    if (tr.status == "done") {
      done_[tr.id] = i;
      done_strategies.insert(tr.strategy);
      data_.seeds.insert(tr.seed);
      ++data_.trials_used;
    } else {
      ++data_.trials_excluded;
      if (tr.status == "failed") {
        data_.exclusions.push_back("excluded trial `" + tr.strategy + "` seed " + std::to_string(tr.seed) +
                                   ": failed (error: " + (tr.error.empty() ? std::string("none recorded") : tr.error) +
                                   ")");
      } else {
        unfinished[{tr.strategy, tr.status}].push_back(tr.seed);
      }
    }
  }
  for (auto& [key, seeds] : unfinished) {
    std::sort(seeds.begin(), seeds.end());
    data_.exclusions.push_back("excluded `" + key.first + "`: " + std::to_string(seeds.size()) + " " + key.second +
                               " (unfinished) trial" + (seeds.size() == 1 ? "" : "s") + ", seed" +
                               (seeds.size() == 1 ? " " : "s ") + seed_ranges(seeds));
  }
  if (done_strategies.count(baseline_)) data_.strategies.push_back(baseline_);
  for (const auto& s : done_strategies) {
    if (s != baseline_) data_.strategies.push_back(s);
  }
}

void Reader::read_values(int early_steps) {
  const int64_t id = data_.experiment.id;
  for (const auto& r : db_.query(sql::kInitial, {id}).rows) {
    if (const TrialRow* t = done(as_int(r[0]))) {
      data_.noise[t->strategy][t->seed] = as_double(r[1]);
      data_.grad_energy[t->strategy][t->seed] = as_double(r[2]);
    }
  }
  for (const auto& r : db_.query(sql::kEarly, {id, int64_t{early_steps}}).rows) {
    if (const TrialRow* t = done(as_int(r[0]))) data_.early[t->strategy][t->seed] = as_double(r[1]);
  }
  std::map<int64_t, int64_t> final_step;
  for (const auto& r : db_.query(sql::kFinal, {id}).rows) {
    if (const TrialRow* t = done(as_int(r[0]))) {
      data_.final_acc[t->strategy][t->seed] = as_double(r[2]);
      final_step[t->id] = as_int(r[1]);
    }
  }
  std::map<int64_t, int64_t> last_step;
  for (const auto& r : db_.query(sql::kCurves, {id}).rows) {
    const TrialRow* t = done(as_int(r[0]));
    if (!t) continue;
    const int64_t step = as_int(r[1]);
    last_step[t->id] = std::max(last_step[t->id], step);
    if (!is_null(r[2])) data_.test_acc[t->strategy][t->seed][step] = as_double(r[2]);
    data_.feature_variance[t->strategy][t->seed][step] = as_double(r[3]);
  }
  // An older database (schema version 1) has no validation columns: read them only when present.
  data_.has_validation_column = db_.has_column("steps", "val_acc");
  if (data_.has_validation_column) {
    for (const auto& r : db_.query(sql::kValidationCurves, {id}).rows) {
      if (const TrialRow* t = done(as_int(r[0]))) data_.val_acc[t->strategy][t->seed][as_int(r[1])] = as_double(r[2]);
    }
    for (const auto& r : db_.query(sql::kFinalValidation, {id}).rows) {
      if (const TrialRow* t = done(as_int(r[0]))) data_.final_val_acc[t->strategy][t->seed] = as_double(r[2]);
    }
  }
  for (const auto& [trial_id, index] : done_) {
    const TrialRow& t = data_.trials[index];
    const std::string who = "`" + t.strategy + "` seed " + std::to_string(t.seed);
    auto ls = last_step.find(trial_id);
    if (ls == last_step.end()) {
      data_.exclusions.push_back("finished trial " + who + " has no step rows: it contributes nothing");
      continue;
    }
    if (ls->second != t.planned_steps) {
      data_.exclusions.push_back("finished trial " + who + " recorded " + std::to_string(ls->second) + " of " +
                                 std::to_string(t.planned_steps) + " planned steps");
    }
    auto fs_it = final_step.find(trial_id);
    if (fs_it == final_step.end()) {
      data_.exclusions.push_back("finished trial " + who + " was never evaluated: no final accuracy");
    } else if (fs_it->second != ls->second) {
      data_.exclusions.push_back("finished trial " + who + ": last evaluation at step " +
                                 std::to_string(fs_it->second) + " of " + std::to_string(ls->second) +
                                 "; its final accuracy is that evaluation");
    }
  }
}

}  // namespace

ReportData read_report_data(const db::Database& db, const std::string& db_path, const std::string& experiment,
                            const std::string& baseline, int early_steps) {
  return Reader(db, db_path, experiment, baseline).read(early_steps);
}

Pairs pair_up(const BySeed& s, const BySeed& b) {
  Pairs p;
  for (const auto& [seed, v] : s) {
    auto it = b.find(seed);
    if (it == b.end()) {
      p.unpaired.push_back(seed);
      continue;
    }
    p.seeds.push_back(seed);
    p.strategy.push_back(v);
    p.baseline.push_back(it->second);
  }
  for (const auto& [seed, v] : b) {
    if (!s.count(seed)) p.unpaired.push_back(seed);
  }
  std::sort(p.unpaired.begin(), p.unpaired.end());
  return p;
}

std::vector<double> values_of(const BySeed& m) {
  std::vector<double> v;
  v.reserve(m.size());
  for (const auto& [seed, x] : m) v.push_back(x);
  return v;
}

}  // namespace harness::reports

// The report writer: reads one experiment, builds the paper's tables and figures, writes Markdown, HTML, CSV.
#include "reports/report.h"

#include "db/database.h"
#include "harness/errors.h"
#include "reports/document.h"
#include "reports/figures.h"
#include "reports/stats.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace harness::reports {
namespace {

namespace fs = std::filesystem;
using db::Value;

// The exact SQL the report runs; each table of the report is followed by the text of its query.
constexpr const char* kSqlExperiment =
    "SELECT id, name, created_at, harness_version, git_revision, torch_version, host, device, deterministic\n"
    "FROM experiments WHERE name = ?1";
constexpr const char* kSqlExperimentNames = "SELECT name FROM experiments ORDER BY name";
constexpr const char* kSqlTrials =
    "SELECT id, strategy, seed, status, error, planned_steps\n"
    "FROM trials WHERE experiment_id = ?1 ORDER BY strategy, seed";
constexpr const char* kSqlInitial =
    "SELECT s.trial_id, s.noise_fraction, s.feature_grad_energy\n"
    "FROM steps s JOIN trials t ON t.id = s.trial_id\n"
    "WHERE t.experiment_id = ?1 AND t.status = 'done' AND s.step = 1";
constexpr const char* kSqlEarly =
    "SELECT s.trial_id, AVG(s.test_acc) AS early_acc, COUNT(s.test_acc) AS evaluations\n"
    "FROM steps s JOIN trials t ON t.id = s.trial_id\n"
    "WHERE t.experiment_id = ?1 AND t.status = 'done'\n"
    "  AND s.step BETWEEN 1 AND ?2 AND s.test_acc IS NOT NULL\n"
    "GROUP BY s.trial_id";
constexpr const char* kSqlFinal =
    "SELECT s.trial_id, s.step, s.test_acc\n"
    "FROM steps s JOIN trials t ON t.id = s.trial_id\n"
    "WHERE t.experiment_id = ?1 AND t.status = 'done'\n"
    "  AND s.step = (SELECT MAX(l.step) FROM steps l\n"
    "                WHERE l.trial_id = s.trial_id AND l.test_acc IS NOT NULL)";
constexpr const char* kSqlCurves =
    "SELECT s.trial_id, s.step, s.test_acc, s.feature_variance\n"
    "FROM steps s JOIN trials t ON t.id = s.trial_id\n"
    "WHERE t.experiment_id = ?1 AND t.status = 'done'\n"
    "ORDER BY s.trial_id, s.step";

constexpr double kAlpha = 0.05;
constexpr double kDefaultTargetFraction = 0.9;  // of the baseline's final mean accuracy

struct Trial {
  int64_t id = 0;
  std::string strategy;
  int64_t seed = 0;
  std::string status;
  std::string error;
  int64_t planned_steps = 0;
};

using BySeed = std::map<int64_t, double>;
using ByStrategy = std::map<std::string, BySeed>;

double as_double(const Value& v) {
  if (auto d = std::get_if<double>(&v)) return *d;
  if (auto i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  return std::nan("");
}
int64_t as_int(const Value& v) {
  if (auto i = std::get_if<int64_t>(&v)) return *i;
  if (auto d = std::get_if<double>(&v)) return static_cast<int64_t>(*d);
  return 0;
}
std::string as_text(const Value& v) {
  if (auto s = std::get_if<std::string>(&v)) return *s;
  if (auto i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (auto d = std::get_if<double>(&v)) return std::to_string(*d);
  return {};
}
bool is_null(const Value& v) { return std::holds_alternative<std::monostate>(v); }

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}
std::string signed_fixed(double v, int decimals) { return (v >= 0 ? "+" : "") + fixed(v, decimals); }
std::string sci(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}
std::string full(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}
std::string opt_full(const std::optional<double>& v) { return v ? full(*v) : std::string(); }
std::string p_text(const std::optional<double>& p) {
  if (!p) return "n/a";
  if (*p < 1e-4) return sci(*p);
  return fixed(*p, 4);
}
// Accuracy-like values in percent (or percentage points for differences).
std::string pct(double v) { return fixed(100.0 * v, 2); }
std::string pct_ci(const std::optional<Interval>& ci) {
  return ci ? "[" + pct(ci->lower) + ", " + pct(ci->upper) + "]" : "n/a";
}
std::string sci_ci(const std::optional<Interval>& ci) {
  return ci ? "[" + sci(ci->lower) + ", " + sci(ci->upper) + "]" : "n/a";
}

std::string join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? sep : "") + items[i];
  return out;
}

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

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

std::vector<double> values_of(const BySeed& m) {
  std::vector<double> v;
  for (const auto& [seed, x] : m) v.push_back(x);
  return v;
}

// Pairs a strategy with the baseline on the seeds both have.
struct Pairs {
  std::vector<double> strategy, baseline;
  std::vector<int64_t> seeds, unpaired;
};
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

std::string seeds_text(const std::vector<int64_t>& seeds) {
  std::vector<std::string> s;
  for (auto v : seeds) s.push_back(std::to_string(v));
  return join(s, ", ");
}

std::string sql_block(const std::string& sql, const std::vector<std::string>& binds) {
  std::string text = sql + ";";
  for (std::size_t i = 0; i < binds.size(); ++i) text += "\n-- ?" + std::to_string(i + 1) + " = " + binds[i];
  return text;
}

// Everything the tables need, read once.
struct Data {
  int64_t experiment_id = 0;
  std::vector<Trial> trials;
  std::map<int64_t, const Trial*> done;  // trial id -> trial
  std::vector<std::string> strategies;   // baseline first, then by name
  std::set<int64_t> seeds;
  ByStrategy noise, grad_energy, early, final_acc, steps_to_target;
  std::map<std::string, std::vector<int64_t>> never_reached;  // strategy -> seeds
  std::map<int64_t, int64_t> early_evaluations;               // trial -> evaluated steps in 1..K
  std::vector<Curve> accuracy, variance;
};

// Welford accumulation of one (strategy, step) cell of a curve.
struct Moments {
  std::size_t n = 0;
  double mean = 0.0, m2 = 0.0;
  void add(double x) {
    ++n;
    double d = x - mean;
    mean += d / static_cast<double>(n);
    m2 += d * (x - mean);
  }
  double sd() const { return n > 1 ? std::sqrt(m2 / static_cast<double>(n - 1)) : 0.0; }
};

Curve to_curve(const std::string& label, const std::map<int64_t, Moments>& cells, double scale) {
  Curve c;
  c.label = label;
  for (const auto& [step, m] : cells) {
    c.x.push_back(static_cast<double>(step));
    c.mean.push_back(scale * m.mean);
    c.sd.push_back(scale * m.sd());
  }
  return c;
}

class ReportBuilder {
 public:
  explicit ReportBuilder(const ReportOptions& o) : o_(o), experiment_name_(o.experiment) {}

  ReportSummary run();

 private:
  void load_experiment(const db::Database& db);
  void load_trials(const db::Database& db);
  void load_values(const db::Database& db);
  void header();
  void initial_noise_table();
  void early_speed_table();
  void final_accuracy_table();
  void beyond_tables();
  void figures();
  void write_table(TableData t);
  void wilcoxon_small_n_note(std::size_t min_pairs);
  const Trial* trial(int64_t id) const {
    auto it = data_.done.find(id);
    return it == data_.done.end() ? nullptr : it->second;
  }

  const ReportOptions& o_;
  Data data_;
  db::Table experiment_;
  Document doc_;
  ReportSummary summary_;
  std::vector<std::string> exclusions_;
  std::string exp_bind_;
  std::optional<double> target_;
  std::string experiment_name_;  // as given, or the only one in the database
};

void ReportBuilder::load_experiment(const db::Database& db) {
  if (experiment_name_.empty()) {
    db::Table names = db.query(kSqlExperimentNames);
    if (names.rows.size() != 1) {
      std::vector<std::string> present;
      for (const auto& r : names.rows) present.push_back(as_text(r[0]));
      throw ConfigError(o_.db_path + ": no experiment named and the database holds " +
                        (present.empty() ? std::string("none (empty database)")
                                         : std::to_string(present.size()) + ": " + join(present, ", ")) +
                        "; name one with --experiment");
    }
    experiment_name_ = as_text(names.rows[0][0]);
  }
  experiment_ = db.query(kSqlExperiment, {experiment_name_});
  if (!experiment_.rows.empty()) {
    data_.experiment_id = as_int(experiment_.rows[0][0]);
    exp_bind_ = std::to_string(data_.experiment_id) + " (experiment '" + experiment_name_ + "')";
    return;
  }
  db::Table names = db.query(kSqlExperimentNames);
  if (names.rows.empty()) {
    throw ConfigError(o_.db_path + ": the database holds no experiments (empty database); nothing to report on '" +
                      experiment_name_ + "'");
  }
  std::vector<std::string> present;
  for (const auto& r : names.rows) present.push_back(as_text(r[0]));
  throw ConfigError(o_.db_path + ": no experiment named '" + experiment_name_ +
                    "'; experiments present: " + join(present, ", "));
}

void ReportBuilder::load_trials(const db::Database& db) {
  db::Table t = db.query(kSqlTrials, {data_.experiment_id});
  std::set<std::string> all_strategies;
  for (const auto& r : t.rows) {
    Trial tr{as_int(r[0]), as_text(r[1]), as_int(r[2]), as_text(r[3]), as_text(r[4]), as_int(r[5])};
    all_strategies.insert(tr.strategy);
    data_.trials.push_back(std::move(tr));
  }
  if (!all_strategies.count(o_.baseline)) {
    throw ConfigError(o_.db_path + ": experiment '" + experiment_name_ + "' has no trials of baseline strategy '" +
                      o_.baseline + "'; strategies present: " +
                      (all_strategies.empty() ? std::string("none")
                                              : join({all_strategies.begin(), all_strategies.end()}, ", ")));
  }
  std::set<std::string> done_strategies;
  // Unfinished trials by strategy and status, one line each (a study stopped part-way leaves many);
  // failed ones one line each, with their error.
  std::map<std::pair<std::string, std::string>, std::vector<int64_t>> unfinished;
  for (const Trial& tr : data_.trials) {
    if (tr.status == "done") {
      data_.done[tr.id] = &tr;
      done_strategies.insert(tr.strategy);
      data_.seeds.insert(tr.seed);
      ++summary_.trials_used;
    } else {
      ++summary_.trials_excluded;
      if (tr.status == "failed") {
        exclusions_.push_back("excluded trial `" + tr.strategy + "` seed " + std::to_string(tr.seed) +
                              ": failed (error: " + (tr.error.empty() ? std::string("none recorded") : tr.error) +
                              ")");
      } else {
        unfinished[{tr.strategy, tr.status}].push_back(tr.seed);
      }
    }
  }
  for (auto& [key, seeds] : unfinished) {
    std::sort(seeds.begin(), seeds.end());
    exclusions_.push_back("excluded `" + key.first + "`: " + std::to_string(seeds.size()) + " " + key.second +
                          " (unfinished) trial" + (seeds.size() == 1 ? "" : "s") + ", seed" +
                          (seeds.size() == 1 ? " " : "s ") + seed_ranges(seeds));
  }
  if (done_strategies.count(o_.baseline)) data_.strategies.push_back(o_.baseline);
  for (const auto& s : done_strategies) {
    if (s != o_.baseline) data_.strategies.push_back(s);
  }
}

void ReportBuilder::load_values(const db::Database& db) {
  for (const auto& r : db.query(kSqlInitial, {data_.experiment_id}).rows) {
    if (const Trial* t = trial(as_int(r[0]))) {
      data_.noise[t->strategy][t->seed] = as_double(r[1]);
      data_.grad_energy[t->strategy][t->seed] = as_double(r[2]);
    }
  }
  for (const auto& r : db.query(kSqlEarly, {data_.experiment_id, int64_t{o_.early_steps}}).rows) {
    if (const Trial* t = trial(as_int(r[0]))) {
      data_.early[t->strategy][t->seed] = as_double(r[1]);
      data_.early_evaluations[t->id] = as_int(r[2]);
    }
  }
  std::map<int64_t, int64_t> final_step;
  for (const auto& r : db.query(kSqlFinal, {data_.experiment_id}).rows) {
    if (const Trial* t = trial(as_int(r[0]))) {
      data_.final_acc[t->strategy][t->seed] = as_double(r[2]);
      final_step[t->id] = as_int(r[1]);
    }
  }
  // Curves: per strategy and step, moments over seeds; per trial, its last step.
  std::map<std::string, std::map<int64_t, Moments>> acc, var;
  std::map<int64_t, int64_t> last_step;
  std::map<int64_t, std::vector<std::pair<int64_t, double>>> evaluated;  // trial -> (step, acc)
  for (const auto& r : db.query(kSqlCurves, {data_.experiment_id}).rows) {
    const Trial* t = trial(as_int(r[0]));
    if (!t) continue;
    int64_t step = as_int(r[1]);
    last_step[t->id] = std::max(last_step[t->id], step);
    if (!is_null(r[2])) {
      double a = as_double(r[2]);
      acc[t->strategy][step].add(a);
      evaluated[t->id].emplace_back(step, a);
    }
    var[t->strategy][step].add(as_double(r[3]));
  }
  for (const auto& s : data_.strategies) {
    data_.accuracy.push_back(to_curve(s, acc[s], 100.0));
    data_.variance.push_back(to_curve(s, var[s], 1.0));
  }
  for (const auto& [id, t] : data_.done) {
    auto ls = last_step.find(id);
    const std::string who = "`" + t->strategy + "` seed " + std::to_string(t->seed);
    if (ls == last_step.end()) {
      exclusions_.push_back("finished trial " + who + " has no step rows: it contributes nothing");
      continue;
    }
    if (ls->second != t->planned_steps) {
      exclusions_.push_back("finished trial " + who + " recorded " + std::to_string(ls->second) + " of " +
                            std::to_string(t->planned_steps) + " planned steps");
    }
    auto fs_it = final_step.find(id);
    if (fs_it == final_step.end()) {
      exclusions_.push_back("finished trial " + who + " was never evaluated: no final accuracy");
    } else if (fs_it->second != ls->second) {
      exclusions_.push_back("finished trial " + who + ": last evaluation at step " + std::to_string(fs_it->second) +
                            " of " + std::to_string(ls->second) + "; its final accuracy is that evaluation");
    }
  }
  // Steps to target: first evaluated step reaching the target accuracy.
  std::optional<double> target = o_.target_accuracy;
  if (!target) {
    MeanCi b = mean_ci(values_of(data_.final_acc[o_.baseline]));
    if (b.mean) target = kDefaultTargetFraction * *b.mean;
  }
  if (!target) return;
  target_ = *target;
  for (const auto& [id, points] : evaluated) {
    const Trial* t = trial(id);
    auto hit = std::find_if(points.begin(), points.end(), [&](const auto& p) { return p.second >= *target; });
    if (hit == points.end()) data_.never_reached[t->strategy].push_back(t->seed);
    else data_.steps_to_target[t->strategy][t->seed] = static_cast<double>(hit->first);
  }
}

void ReportBuilder::write_table(TableData t) {
  const std::string path = (fs::path(o_.out_dir) / (t.name + ".csv")).string();
  std::ofstream(path) << csv_text(t.csv_header, t.csv_rows);
  summary_.files.push_back(path);
  doc_.table(std::move(t));
}

void ReportBuilder::wilcoxon_small_n_note(std::size_t min_pairs) {
  if (min_pairs == 0 || min_pairs > 5) return;
  doc_.paragraph("With n = " + std::to_string(min_pairs) +
                 " pairs an exact two-sided Wilcoxon signed-rank test cannot give p < 0.05: its smallest p-value "
                 "is 2/2^n = " + fixed(wilcoxon_min_exact_p(min_pairs), 4) +
                 " (n <= 5). A Wilcoxon p above 0.05 here says nothing about the effect.");
}

void ReportBuilder::header() {
  const auto& e = experiment_.rows[0];
  doc_.heading("Report: " + experiment_name_, 1);
  doc_.list({
      "harness version: " + as_text(e[3]) + ", git revision: `" + as_text(e[4]) + "`",
      "LibTorch: " + as_text(e[5]) + ", device: " + as_text(e[7]) +
          (as_int(e[8]) ? " (deterministic algorithms requested)" : " (deterministic algorithms not requested)"),
      "host: " + as_text(e[6]) + ", experiment created: " + as_text(e[2]),
      "database: `" + o_.db_path + "`, report written: " + utc_now(),
  });
  std::vector<std::string> seeds;
  for (auto s : data_.seeds) seeds.push_back(std::to_string(s));
  std::vector<std::string> strategies;
  for (const auto& s : data_.strategies) strategies.push_back("`" + s + "`" + (s == o_.baseline ? " (baseline)" : ""));
  doc_.paragraph(std::to_string(data_.seeds.size()) + " seeds among the finished trials (" +
                 (seeds.empty() ? std::string("none") : join(seeds, ", ")) + "); strategies: " +
                 (strategies.empty() ? std::string("none") : join(strategies, ", ")) + "; " +
                 std::to_string(summary_.trials_used) + " finished trials used, " +
                 std::to_string(summary_.trials_excluded) + " excluded. " +
                 "Comparisons are paired by seed: the same seed gives every strategy the same backbone, batches and "
                 "test set. Intervals are 95% Student-t intervals with n - 1 degrees of freedom.");
  doc_.code(sql_block(kSqlExperiment, {"'" + experiment_name_ + "'"}) + "\n\n" + sql_block(kSqlTrials, {exp_bind_}));
}

void ReportBuilder::initial_noise_table() {
  doc_.heading("Initial noise (paper Table 1)");
  doc_.paragraph(
      "Share of the back-propagated error energy that is noise at step 1 (before the first update), mean and 95% CI "
      "over seeds. `noise_fraction` = (zeta - 1/C) / phi, the energy of the estimates above its maximum-entropy floor "
      "1/C as a share of the total error energy phi (Eq. 11-12), is this project's precise reading of the paper's "
      "\"percentage of noise energy\". `feature_grad_energy` = N^2 E_N[||dL/dX^L||^2] is the error energy that "
      "reaches the backbone (Eq. 8).");
  TableData t;
  t.name = "initial_noise";
  t.header = {"Strategy", "n", "Noise fraction (%)", "95% CI (%)", "Feature-gradient energy", "95% CI"};
  t.csv_header = {"strategy", "n", "noise_fraction_mean", "noise_fraction_ci_low", "noise_fraction_ci_high",
                  "feature_grad_energy_mean", "feature_grad_energy_ci_low", "feature_grad_energy_ci_high"};
  for (const auto& s : data_.strategies) {
    MeanCi nf = mean_ci(values_of(data_.noise[s]));
    MeanCi ge = mean_ci(values_of(data_.grad_energy[s]));
    t.rows.push_back({{s}, {std::to_string(nf.n)}, {nf.mean ? pct(*nf.mean) : "n/a"}, {pct_ci(nf.ci)},
                      {ge.mean ? sci(*ge.mean) : "n/a"}, {sci_ci(ge.ci)}});
    t.csv_rows.push_back({s, std::to_string(nf.n), opt_full(nf.mean), nf.ci ? full(nf.ci->lower) : "",
                          nf.ci ? full(nf.ci->upper) : "", opt_full(ge.mean), ge.ci ? full(ge.ci->lower) : "",
                          ge.ci ? full(ge.ci->upper) : ""});
  }
  write_table(std::move(t));
  doc_.code(sql_block(kSqlInitial, {exp_bind_}));
}

void ReportBuilder::early_speed_table() {
  const std::string k = std::to_string(o_.early_steps);
  doc_.heading("Early speed (paper Table 3)");
  doc_.paragraph("Per seed, the mean test accuracy over the evaluated steps among steps 1.." + k +
                 "; per strategy, the paired difference to `" + o_.baseline +
                 "` in percentage points (pp): mean, 95% CI, paired t-test p and Wilcoxon signed-rank p (two-sided).");
  TableData t;
  t.name = "early_speed";
  t.header = {"Strategy", "n seeds", "Mean acc. steps 1.." + k + " (%)", "Diff. vs baseline (pp)", "95% CI (pp)",
              "Paired t p", "Wilcoxon p", "n pairs"};
  t.csv_header = {"strategy", "n", "early_acc_mean", "diff_mean", "diff_ci_low", "diff_ci_high",
                  "t", "df", "p_paired_t", "p_wilcoxon", "wilcoxon_method", "n_pairs"};
  std::size_t min_pairs = 0;
  for (const auto& s : data_.strategies) {
    MeanCi m = mean_ci(values_of(data_.early[s]));
    if (s == o_.baseline) {
      t.rows.push_back({{s}, {std::to_string(m.n)}, {m.mean ? pct(*m.mean) : "n/a"}, {"baseline"}, {""}, {""}, {""}, {""}});
      t.csv_rows.push_back({s, std::to_string(m.n), opt_full(m.mean), "", "", "", "", "", "", "", "", ""});
      continue;
    }
    Pairs p = pair_up(data_.early[s], data_.early[o_.baseline]);
    TTestResult tt = paired_t_test(p.strategy, p.baseline);
    WilcoxonResult w = wilcoxon_signed_rank(p.strategy, p.baseline);
    if (tt.n > 0) min_pairs = min_pairs == 0 ? tt.n : std::min(min_pairs, tt.n);
    t.rows.push_back({{s}, {std::to_string(m.n)}, {m.mean ? pct(*m.mean) : "n/a"},
                      {tt.mean_diff ? signed_fixed(100 * *tt.mean_diff, 2) : "n/a"}, {pct_ci(tt.ci)},
                      {p_text(tt.p) + (tt.note.empty() ? "" : " (" + tt.note + ")")}, {p_text(w.p)},
                      {std::to_string(tt.n)}});
    t.csv_rows.push_back({s, std::to_string(m.n), opt_full(m.mean), opt_full(tt.mean_diff),
                          tt.ci ? full(tt.ci->lower) : "", tt.ci ? full(tt.ci->upper) : "", opt_full(tt.t),
                          opt_full(tt.df), opt_full(tt.p), opt_full(w.p),
                          w.method ? (*w.method == WilcoxonMethod::Exact ? "exact" : "normal") : "",
                          std::to_string(tt.n)});
  }
  write_table(std::move(t));
  wilcoxon_small_n_note(min_pairs);
  doc_.code(sql_block(kSqlEarly, {exp_bind_, k}));
}

void ReportBuilder::final_accuracy_table() {
  doc_.heading("Final accuracy (paper Tables 4-6)");
  doc_.paragraph("Test accuracy at the last evaluated step (the last step of a complete trial), mean and 95% CI over "
                 "seeds. **Bold**: the paired t-test against `" + o_.baseline +
                 "` is significant at 0.05 after Holm-Bonferroni correction across the " +
                 std::to_string(data_.strategies.size() > 0 ? data_.strategies.size() - 1 : 0) +
                 " strategies compared. Raw and Holm-adjusted p are shown.");
  std::vector<std::string> compared;
  std::vector<TTestResult> tests;
  std::vector<WilcoxonResult> wilcoxons;
  std::vector<std::optional<double>> raw;
  for (const auto& s : data_.strategies) {
    if (s == o_.baseline) continue;
    Pairs p = pair_up(data_.final_acc[s], data_.final_acc[o_.baseline]);
    compared.push_back(s);
    tests.push_back(paired_t_test(p.strategy, p.baseline));
    wilcoxons.push_back(wilcoxon_signed_rank(p.strategy, p.baseline));
    raw.push_back(tests.back().p);
  }
  std::vector<std::optional<double>> adjusted = holm_adjust(raw);
  TableData t;
  t.name = "final_accuracy";
  t.header = {"Strategy", "n", "Final test acc. (%)", "95% CI (%)", "Diff. vs baseline (pp)", "Paired t p",
              "Holm p", "Wilcoxon p", "n pairs"};
  t.csv_header = {"strategy", "n", "final_acc_mean", "final_acc_ci_low", "final_acc_ci_high", "diff_mean",
                  "diff_ci_low", "diff_ci_high", "t", "df", "p_paired_t", "p_holm", "p_wilcoxon", "n_pairs",
                  "significant"};
  std::size_t min_pairs = 0;
  for (const auto& s : data_.strategies) {
    MeanCi m = mean_ci(values_of(data_.final_acc[s]));
    auto it = std::find(compared.begin(), compared.end(), s);
    if (it == compared.end()) {
      t.rows.push_back({{s}, {std::to_string(m.n)}, {m.mean ? pct(*m.mean) : "n/a"}, {pct_ci(m.ci)}, {"baseline"},
                        {""}, {""}, {""}, {""}});
      t.csv_rows.push_back({s, std::to_string(m.n), opt_full(m.mean), m.ci ? full(m.ci->lower) : "",
                            m.ci ? full(m.ci->upper) : "", "", "", "", "", "", "", "", "", "", ""});
      continue;
    }
    auto i = static_cast<std::size_t>(it - compared.begin());
    const TTestResult& tt = tests[i];
    bool significant = adjusted[i] && *adjusted[i] < kAlpha;
    if (tt.n > 0) min_pairs = min_pairs == 0 ? tt.n : std::min(min_pairs, tt.n);
    t.rows.push_back({{s}, {std::to_string(m.n)}, {m.mean ? pct(*m.mean) : "n/a", significant},
                      {pct_ci(m.ci), significant},
                      {tt.mean_diff ? signed_fixed(100 * *tt.mean_diff, 2) : "n/a"},
                      {p_text(tt.p) + (tt.note.empty() ? "" : " (" + tt.note + ")")}, {p_text(adjusted[i])},
                      {p_text(wilcoxons[i].p)}, {std::to_string(tt.n)}});
    t.csv_rows.push_back({s, std::to_string(m.n), opt_full(m.mean), m.ci ? full(m.ci->lower) : "",
                          m.ci ? full(m.ci->upper) : "", opt_full(tt.mean_diff), tt.ci ? full(tt.ci->lower) : "",
                          tt.ci ? full(tt.ci->upper) : "", opt_full(tt.t), opt_full(tt.df), opt_full(tt.p),
                          opt_full(adjusted[i]), opt_full(wilcoxons[i].p), std::to_string(tt.n),
                          significant ? "1" : "0"});
  }
  write_table(std::move(t));
  wilcoxon_small_n_note(min_pairs);
  doc_.code(sql_block(kSqlFinal, {exp_bind_}));
}

void ReportBuilder::beyond_tables() {
  doc_.heading("Beyond the paper");
  doc_.heading("Steps to a target accuracy", 3);
  if (!target_) {
    doc_.paragraph("No target accuracy: none was given and the baseline has no final accuracy to take 90% of.");
  } else {
    doc_.paragraph("Target: test accuracy >= " + pct(*target_) + "% (" +
                   (o_.target_accuracy ? std::string("given") : "90% of the baseline's final mean") +
                   "). Per strategy: mean first evaluated step reaching it over the seeds that reach it, and how many "
                   "never do. Speed-up = baseline mean steps / strategy mean steps (> 1: faster than the baseline).");
    TableData t;
    t.name = "steps_to_target";
    t.header = {"Strategy", "Seeds reaching", "Never reaching", "Mean steps", "95% CI", "Speed-up vs baseline"};
    t.csv_header = {"strategy", "target", "n_reached", "n_never", "steps_mean", "steps_ci_low", "steps_ci_high",
                    "speedup"};
    MeanCi base = mean_ci(values_of(data_.steps_to_target[o_.baseline]));
    for (const auto& s : data_.strategies) {
      MeanCi m = mean_ci(values_of(data_.steps_to_target[s]));
      std::size_t never = data_.never_reached[s].size();
      std::optional<double> speedup;
      if (m.mean && base.mean && *m.mean > 0) speedup = *base.mean / *m.mean;
      t.rows.push_back({{s}, {std::to_string(m.n)}, {std::to_string(never)}, {m.mean ? fixed(*m.mean, 1) : "n/a"},
                        {m.ci ? "[" + fixed(m.ci->lower, 1) + ", " + fixed(m.ci->upper, 1) + "]" : "n/a"},
                        {s == o_.baseline ? "1 (baseline)" : speedup ? fixed(*speedup, 2) + "x" : "n/a"}});
      t.csv_rows.push_back({s, full(*target_), std::to_string(m.n), std::to_string(never), opt_full(m.mean),
                            m.ci ? full(m.ci->lower) : "", m.ci ? full(m.ci->upper) : "", opt_full(speedup)});
    }
    write_table(std::move(t));
    doc_.code(sql_block(kSqlCurves, {exp_bind_}));
  }

  doc_.heading("Effect sizes, power and bootstrap (final accuracy)", 3);
  doc_.paragraph("Cohen's d_z = mean / sd of the paired differences in final accuracy; seeds needed: the smallest "
                 "number of pairs for which a two-sided paired t-test at alpha = 0.05 has 80% power against that "
                 "d_z (exact, noncentral t). Bootstrap: percentile 95% CI of the mean difference, " +
                 std::to_string(kDefaultBootstrapResamples) + " resamples, std::mt19937_64 seeded with " +
                 std::to_string(o_.bootstrap_seed) + ".");
  TableData t;
  t.name = "effect_sizes";
  t.header = {"Strategy", "n pairs", "Mean diff. (pp)", "d_z", "Seeds for 80% power", "Bootstrap 95% CI (pp)"};
  t.csv_header = {"strategy", "n_pairs", "diff_mean", "d_z", "n_for_80_power", "power_at_n", "bootstrap_ci_low",
                  "bootstrap_ci_high", "bootstrap_seed", "bootstrap_resamples"};
  for (const auto& s : data_.strategies) {
    if (s == o_.baseline) continue;
    Pairs p = pair_up(data_.final_acc[s], data_.final_acc[o_.baseline]);
    PowerResult pw = paired_power(p.strategy, p.baseline);
    std::vector<double> d(p.strategy.size());
    for (std::size_t i = 0; i < d.size(); ++i) d[i] = p.strategy[i] - p.baseline[i];
    BootstrapCi b = bootstrap_mean_ci(d, o_.bootstrap_seed);
    t.rows.push_back({{s}, {std::to_string(p.seeds.size())}, {b.mean ? signed_fixed(100 * *b.mean, 2) : "n/a"},
                      {pw.d_z ? fixed(*pw.d_z, 3) : "n/a (" + pw.note + ")"},
                      {pw.n_required ? std::to_string(*pw.n_required) : "n/a" + (pw.d_z ? " (" + pw.note + ")" : "")},
                      {pct_ci(b.ci)}});
    t.csv_rows.push_back({s, std::to_string(p.seeds.size()), opt_full(b.mean), opt_full(pw.d_z),
                          pw.n_required ? std::to_string(*pw.n_required) : "", opt_full(pw.power_at_n),
                          b.ci ? full(b.ci->lower) : "", b.ci ? full(b.ci->upper) : "",
                          std::to_string(o_.bootstrap_seed), std::to_string(b.resamples)});
  }
  write_table(std::move(t));
  doc_.code(sql_block(kSqlFinal, {exp_bind_}));
}

void ReportBuilder::figures() {
  doc_.heading("Figures");
  FigureWriter fw(o_.gnuplot_command);
  if (!fw.available()) {
    std::string w = "figures skipped: gnuplot could not be run (`" + o_.gnuplot_command + " --version` failed)";
    doc_.paragraph("Figures were skipped: gnuplot could not be run (`" + o_.gnuplot_command +
                   "`). Install gnuplot (Debian: gnuplot-nox) and rerun the report; the tables above are complete.");
    summary_.warnings.push_back(w);
    return;
  }
  doc_.paragraph("Drawn by " + fw.version() + " (" + fw.terminal() + " and svg terminals). Bands: +-1 standard "
                 "deviation over seeds, at each evaluated step. Data: the curves query (under Steps to a target "
                 "accuracy) and the step-1 query (under Initial noise).");
  struct Spec {
    std::string stem, caption;
    std::string error;
  };
  std::vector<Spec> made;
  const std::string k = std::to_string(o_.early_steps);
  made.push_back({"accuracy", "Test accuracy vs training step, mean over seeds with a +-1 sd band",
                  fw.curves(o_.out_dir, "accuracy",
                            {"Test accuracy (mean +- 1 sd over seeds)", "Training step", "Test accuracy (%)", std::nullopt, false},
                            data_.accuracy)});
  made.push_back({"accuracy_early", "Zoom on steps 1.." + k + ": test accuracy, mean +- 1 sd",
                  fw.curves(o_.out_dir, "accuracy_early",
                            {"Test accuracy, first " + k + " steps", "Training step", "Test accuracy (%)",
                             static_cast<double>(o_.early_steps)},
                            data_.accuracy)});
  double vmin = INFINITY, vmax = 0;
  for (const auto& c : data_.variance) {
    for (double v : c.mean) {
      vmin = std::min(vmin, v);
      vmax = std::max(vmax, v);
    }
  }
  made.push_back({"feature_variance", "Feature variance vs training step (paper Fig. 1), mean +- 1 sd",
                  fw.curves(o_.out_dir, "feature_variance",
                            {"Variance of the features X^L fed to the head", "Training step",
                             "Feature variance (mean over K features, squared units)", std::nullopt,
                             vmin > 0 && vmax / vmin > 100},
                            data_.variance)});
  std::vector<PointEstimate> noise;
  for (const auto& s : data_.strategies) {
    MeanCi m = mean_ci(values_of(data_.noise[s]));
    if (!m.mean) continue;
    std::optional<Interval> ci;
    if (m.ci) ci = Interval{100 * m.ci->lower, 100 * m.ci->upper};
    noise.push_back({s, 100 * *m.mean, ci});
  }
  made.push_back({"noise_fraction", "Noise fraction of the error energy at step 1, mean with 95% CI",
                  fw.points(o_.out_dir, "noise_fraction",
                            {"Noise fraction at step 1 (mean, 95% CI)", "Strategy", "Noise fraction (% of error energy)", std::nullopt, false},
                            noise)});
  bool any = false;
  for (const auto& f : made) {
    if (!f.error.empty()) {
      summary_.warnings.push_back("figure " + f.stem + " skipped: " + f.error);
      doc_.paragraph("Figure `" + f.stem + "` skipped: " + f.error);
      continue;
    }
    any = true;
    doc_.figure(f.caption, f.stem + ".png", f.stem + ".svg");
    summary_.files.push_back((fs::path(o_.out_dir) / (f.stem + ".png")).string());
    summary_.files.push_back((fs::path(o_.out_dir) / (f.stem + ".svg")).string());
  }
  summary_.figures_written = any;
}

ReportSummary ReportBuilder::run() {
  if (o_.early_steps < 1) {
    throw ConfigError("report: early_steps = " + std::to_string(o_.early_steps) + ", expected >= 1");
  }
  if (o_.target_accuracy && !(*o_.target_accuracy >= 0.0 && *o_.target_accuracy <= 1.0)) {
    std::ostringstream message;
    message << "report: target accuracy (--target-accuracy) " << *o_.target_accuracy
            << " is not an accuracy: expected a fraction in [0, 1]";
    throw ConfigError(message.str());
  }
  if (o_.out_dir.empty()) throw ConfigError("report: no output folder given (--out)");
  db::Database db = db::Database::open(o_.db_path, db::OpenMode::ReadOnly);
  load_experiment(db);
  load_trials(db);
  load_values(db);

  // Degenerate designs, each named in the report.
  if (data_.done.empty()) exclusions_.push_back("no finished trials: every table below is empty");
  if (data_.seeds.size() == 1) exclusions_.push_back("only one seed: no intervals and no tests");
  if (std::find(data_.strategies.begin(), data_.strategies.end(), o_.baseline) == data_.strategies.end()) {
    exclusions_.push_back("the baseline `" + o_.baseline + "` has no finished trials: no comparisons");
  }
  for (const auto& s : data_.strategies) {
    if (s == o_.baseline) continue;
    Pairs p = pair_up(data_.final_acc[s], data_.final_acc[o_.baseline]);
    if (!p.unpaired.empty()) {
      exclusions_.push_back("`" + s + "` vs `" + o_.baseline + "`: " + std::to_string(p.seeds.size()) +
                            " pairs formed; seeds without a pair (one of the two missing): " +
                            seeds_text(p.unpaired));
    }
  }

  fs::create_directories(o_.out_dir);
  summary_.files.push_back((fs::path(o_.out_dir) / "report.md").string());
  summary_.files.push_back((fs::path(o_.out_dir) / "report.html").string());
  header();
  doc_.heading("Exclusions and warnings");
  if (exclusions_.empty()) doc_.paragraph("None: every trial finished and every strategy has every seed.");
  doc_.list(exclusions_);
  initial_noise_table();
  early_speed_table();
  final_accuracy_table();
  beyond_tables();
  figures();

  summary_.report_md = summary_.files[0];
  summary_.report_html = summary_.files[1];
  std::ofstream md(summary_.report_md);
  md << doc_.markdown();
  if (!md) throw DataError(summary_.report_md + ": cannot write the report");
  std::ofstream(summary_.report_html) << doc_.html("Report: " + experiment_name_, o_.out_dir);
  summary_.experiment = experiment_name_;
  summary_.seeds = data_.seeds.size();
  summary_.strategies = data_.strategies;
  summary_.warnings.insert(summary_.warnings.begin(), exclusions_.begin(), exclusions_.end());
  return summary_;
}

}  // namespace

std::string ReportSummary::describe() const {
  std::ostringstream s;
  s << "experiment '" << experiment << "'\nreport: " << report_md << "\nhtml:   " << report_html << "\n" << seeds << " seeds, " << strategies.size()
    << " strategies (" << join(strategies, ", ") << "), " << trials_used << " trials used, " << trials_excluded
    << " excluded, " << files.size() << " files written" << (figures_written ? "" : ", no figures") << "\n";
  for (const auto& w : warnings) s << "warning: " << w << "\n";
  return s.str();
}

ReportSummary write_report(const ReportOptions& options) { return ReportBuilder(options).run(); }

}  // namespace harness::reports

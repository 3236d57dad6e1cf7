// The study report (see study.h): every experiment read once, compared once, then laid side by side
// and aggregated.
#include "reports/study.h"

#include "db/database.h"
#include "harness/errors.h"
#include "reports/comparison.h"
#include "reports/figures.h"
#include "reports/report_data.h"
#include "reports/report_folder.h"
#include "reports/selection.h"
#include "reports/stats.h"
#include "reports/table.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace harness::reports {
namespace {

namespace fs = std::filesystem;

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

// "4 h 06 min", "40 min": a sum of wall times to the minute.
std::string duration_text(double seconds) {
  const long minutes = std::lround(seconds / 60.0);
  if (minutes < 60) return std::to_string(minutes) + " min";
  const std::string mm = std::to_string(minutes % 60);
  return std::to_string(minutes / 60) + " h " + (mm.size() < 2 ? "0" : "") + mm + " min";
}

// A measurement's mean as shown: accuracies in percent, everything else to 3 significant digits.
bool is_accuracy(const std::string& column) {
  return column.size() > 4 && column.compare(column.size() - 4, 4, "_acc") == 0;
}
std::string measurement_text(const std::string& column, const std::optional<double>& v) {
  if (!v) return "n/a";
  return is_accuracy(column) ? pct(*v) : significant(*v, 3);
}
std::string steps_text(const std::vector<int64_t>& steps) {
  std::vector<std::string> text;
  for (int64_t s : steps) text.push_back(std::to_string(s));
  return join(text, ", ");
}
std::string measurement_header(const Measurement& m) {
  return m.column + (is_accuracy(m.column) ? " (%)" : "") + " at " + steps_text(m.steps);
}

struct ExperimentResult {
  StudyEntry entry;
  ReportData data;
  std::string baseline;  // the study's baseline, or its variant picked by the selection
  std::optional<Selection> selection;
  ExperimentStatus status;
  std::vector<Comparison> noise, early, final_acc;
  StepMeans at_steps;                     // test_acc at StudyOptions::at_steps
  std::vector<Comparison> at_last_step;   // paired test accuracy at the last of them
  std::vector<StepMeans> dynamics;        // one per StudyOptions::dynamics

  // The name a strategy has across experiments: its label, or with a selection its sweep's base.
  std::string key_of(const std::string& label) const { return selection ? base_of(label) : label; }
  // This experiment's label for a key; empty when it has none.
  std::string label_of(const std::string& key) const {
    for (const auto& s : data.strategies) {
      if (key_of(s) == key) return s;
    }
    return {};
  }
};

// One claim's aggregate over the experiments for one strategy.
struct Aggregate {
  std::string strategy;
  std::size_t experiments = 0, wins = 0, losses = 0, ties = 0, runs = 0;
  BootstrapCi iqm, poi;
};

// An experiment's first cell in every per-experiment table: the name shown, name and database in the CSV.
Entry experiment_entry(const ExperimentResult& r) { return {r.entry.experiment, {r.entry.experiment, r.entry.db_path}}; }
const Column kExperimentColumn{"Experiment", {"experiment", "db"}};

class StudyBuilder {
 public:
  explicit StudyBuilder(const StudyOptions& o) : o_(o), figures_(o.gnuplot_command) {}
  ReportSummary run();

 private:
  void check_options() const;
  void read();
  void read_one(const StudyEntry& e, ExperimentResult& r) const;
  void check_dynamics_strategies() const;
  void header();
  void selection_table();
  void status_table();
  void claims_table();
  void initial_noise_table();
  void early_speed_table();
  void final_accuracy_table();
  void equivalence_table();
  void at_steps_table();
  void dynamics_table();
  std::vector<Aggregate> aggregate(std::vector<Comparison> ExperimentResult::*claim) const;
  void aggregate_table(const std::string& name, const std::string& what,
                       std::vector<Comparison> ExperimentResult::*claim);
  Document& doc() { return folder_->doc(); }
  void sql(const std::string& text) { doc().code(text + ";"); }

  const StudyOptions& o_;
  FigureWriter figures_;
  std::vector<ExperimentResult> results_;
  std::vector<std::string> strategies_;  // keys: the baseline first, then every other of any experiment
  std::string title_;
  std::optional<ReportFolder> folder_;
  ReportSummary summary_;
};

void StudyBuilder::check_options() const {
  if (o_.entries.empty()) throw ConfigError("study: no experiments given");
  check_comparison_options(o_.early_steps, o_.equivalence_margin, o_.select_on, o_.select_step);
  if (o_.out_dir.empty()) throw ConfigError("report: no output folder given (--out)");
  std::set<std::string> columns;
  for (const Measurement& m : o_.dynamics) {
    if (!columns.insert(m.column).second) {
      throw ConfigError("report: --dynamics names the column '" + m.column +
                        "' twice; give it once with all its steps");
    }
  }
}

void StudyBuilder::read_one(const StudyEntry& e, ExperimentResult& r) const {
  r.entry = e;
  db::Database db = db::Database::open(e.db_path, db::OpenMode::ReadOnly);
  r.data = read_report_data(db, e.db_path, e.experiment, o_.baseline, o_.early_steps);
  r.entry.experiment = r.data.experiment.name;
  r.baseline = o_.baseline;
  if (!o_.select_on.empty()) {
    r.selection = select_variants(r.data, e.db_path, o_.baseline, o_.select_on, o_.select_step);
    r.baseline = r.selection->baseline;
  }
  const int64_t id = r.data.experiment.id;
  r.status = read_status(db, id);
  if (!o_.at_steps.empty()) {
    r.at_steps = read_step_means(db, id, {"test_acc", o_.at_steps});
    ByStrategy at_last;
    const int64_t last = o_.at_steps.back();
    for (const auto& [strategy, seeds] : r.data.test_acc) {
      for (const auto& [seed, steps] : seeds) {
        auto v = steps.find(last);
        if (v != steps.end()) at_last[strategy][seed] = v->second;
      }
    }
    r.at_last_step = compare(r.data.strategies, at_last, r.baseline, std::nullopt);
  }
  if (!o_.dynamics.empty()) {
    const std::vector<std::string> columns = measurement_columns(db);
    for (const Measurement& m : o_.dynamics) {
      if (std::find(columns.begin(), columns.end(), m.column) == columns.end()) {
        throw ConfigError(e.db_path + ": --dynamics '" + m.column + "': not a per-step measurement of this database; "
                          "measurements (columns of steps): " + join(columns, ", "));
      }
      r.dynamics.push_back(read_step_means(db, id, m));
    }
  }
  r.noise = compare(r.data.strategies, r.data.noise, r.baseline, std::nullopt);
  r.early = compare(r.data.strategies, r.data.early, r.baseline, std::nullopt);
  r.final_acc = compare(r.data.strategies, r.data.final_acc, r.baseline, o_.equivalence_margin);
}

void StudyBuilder::read() {
  std::set<std::pair<std::string, std::string>> seen;
  std::set<std::string> others;
  for (const StudyEntry& e : o_.entries) {
    ExperimentResult r;
    read_one(e, r);
    const auto key = std::make_pair(fs::weakly_canonical(e.db_path).string(), r.entry.experiment);
    if (!seen.insert(key).second) {
      throw ConfigError("study: experiment '" + r.entry.experiment + "' of " + e.db_path +
                        " is listed twice; each experiment counts once");
    }
    for (const auto& s : r.data.strategies) {
      if (s != r.baseline) others.insert(r.key_of(s));
    }
    results_.push_back(std::move(r));
  }
  strategies_.push_back(o_.baseline);
  others.erase(o_.baseline);
  strategies_.insert(strategies_.end(), others.begin(), others.end());
  if (o_.title.empty()) {
    std::vector<std::string> names;
    for (const auto& r : results_) names.push_back(r.entry.experiment);
    title_ = join(names, " + ");
  } else {
    title_ = o_.title;
  }
}

void StudyBuilder::check_dynamics_strategies() const {
  for (const auto& wanted : o_.dynamics_strategies) {
    const bool found = std::any_of(results_.begin(), results_.end(), [&](const ExperimentResult& r) {
      return std::any_of(r.data.strategies.begin(), r.data.strategies.end(),
                         [&](const std::string& s) { return s == wanted || r.key_of(s) == wanted; });
    });
    if (!found) {
      throw ConfigError("report: --dynamics-strategies names '" + wanted +
                        "', which no experiment of the study has; strategies: " + join(strategies_, ", "));
    }
  }
}

void StudyBuilder::header() {
  doc().heading("Study: " + title_, 1);
  std::size_t runs = 0;
  std::vector<std::string> lines, binds, exclusions;
  for (const auto& r : results_) {
    const ExperimentRow& e = r.data.experiment;
    runs += r.data.seeds.size();
    lines.push_back("`" + e.name + "` in `" + r.entry.db_path + "`: " + std::to_string(r.data.seeds.size()) +
                    " seeds, " + std::to_string(r.data.strategies.size()) + " strategies, " +
                    std::to_string(r.data.trials_used) + " finished trials used, " +
                    std::to_string(r.data.trials_excluded) + " excluded; LibTorch " + e.torch_version + ", " +
                    e.device + ", git `" + e.git_revision + "`");
    binds.push_back("`" + r.entry.db_path + "`: ?1 = " + std::to_string(e.id) + " (experiment '" + e.name + "')");
    for (const auto& x : r.data.exclusions) exclusions.push_back("`" + e.name + "`: " + x);
    if (std::find(r.data.strategies.begin(), r.data.strategies.end(), r.baseline) == r.data.strategies.end()) {
      exclusions.push_back("`" + e.name + "`: the baseline `" + r.baseline + "` has no finished trials, or was swept "
                           "(pick one of its variants with --select-on): no comparisons in this experiment");
    }
    summary_.trials_used += r.data.trials_used;
    summary_.trials_excluded += r.data.trials_excluded;
  }
  summary_.seeds = runs;
  doc().paragraph(std::to_string(results_.size()) + " experiments, " + std::to_string(runs) +
                  " (experiment, seed) runs, baseline `" + o_.baseline + "`; report written " + utc_now() +
                  ". Within each experiment every comparison is paired by seed and Holm-corrected across the "
                  "strategies of that experiment, as in a single report; across experiments nothing is pooled "
                  "before pairing.");
  doc().list(lines);
  doc().paragraph("Each table is followed by the SQL that produced its inputs; it runs on each experiment's "
                  "database with ?1 bound to the experiment's id there (and ?2 of the early-speed query to " +
                  std::to_string(o_.early_steps) + "):");
  doc().list(binds);
  doc().heading("Exclusions and warnings");
  if (exclusions.empty()) doc().paragraph("None: every trial of every experiment finished.");
  doc().list(exclusions);
  summary_.warnings = exclusions;
}

void StudyBuilder::selection_table() {
  if (o_.select_on.empty()) return;
  const bool on_test = o_.select_on == "test";
  doc().heading("Selection of the sweeps' variants");
  doc().paragraph(selection_paragraph(*results_.front().selection) +
                  " The choice is made in each experiment on its own; across experiments a sweep counts as one "
                  "strategy under its base name, whichever variant each experiment picked.");
  Table t("study_selection", {kExperimentColumn,
                              {"Sweep", {"base"}},
                              {"Variant", {"variant"}},
                              {"n seeds", {"n"}},
                              {std::string(on_test ? "Mean test acc. (%)" : "Mean validation acc. (%)"),
                               {"select_acc_mean"}},
                              {"Picked", {"picked"}}});
  for (const auto& r : results_) {
    for (const VariantChoice& c : r.selection->variants) {
      t.row({experiment_entry(r),
             {c.base, {c.base}},
             {c.variant, {c.variant}, c.picked},
             {std::to_string(c.accuracy.n), {std::to_string(c.accuracy.n)}},
             {opt_pct(c.accuracy.mean), {opt_full(c.accuracy.mean)}, c.picked},
             {c.picked ? "picked" : "", {c.picked ? "1" : "0"}}});
    }
  }
  folder_->table(t);
  doc().code(std::string(sql::kFinalValidation) + ";\n\n" + sql::kValidationCurves + ";");
}

void StudyBuilder::status_table() {
  doc().heading("How far each experiment has run");
  doc().paragraph("Per experiment: its planned training steps; the seeds done (every strategy's trial of the seed "
                  "finished) of the seeds it has trials for; its trials done (and failed) of all its trials; and the "
                  "trial time, the sum of the done trials' wall times (of their last attempts). The trial time is not "
                  "the elapsed time: trials may have run side by side.");
  Table t("study_status", {kExperimentColumn,
                           {"Steps", {"min_steps", "max_steps"}},
                           {"Seeds done", {"complete_seeds", "seeds"}},
                           {"Trials done", {"done", "trials", "failed"}},
                           {"Trial time", {"done_wall_seconds"}}});
  for (const auto& r : results_) {
    const ExperimentStatus& s = r.status;
    const std::string steps = s.min_steps == s.max_steps
                                  ? std::to_string(s.max_steps)
                                  : std::to_string(s.min_steps) + "-" + std::to_string(s.max_steps);
    t.row({experiment_entry(r),
           {steps, {std::to_string(s.min_steps), std::to_string(s.max_steps)}},
           {std::to_string(s.complete_seeds) + " of " + std::to_string(s.seeds),
            {std::to_string(s.complete_seeds), std::to_string(s.seeds)}},
           {std::to_string(s.done) + " of " + std::to_string(s.trials) +
                (s.failed > 0 ? " (" + std::to_string(s.failed) + " failed)" : ""),
            {std::to_string(s.done), std::to_string(s.trials), std::to_string(s.failed)}},
           {s.done > 0 ? duration_text(s.done_wall_seconds) : "not started", {full(s.done_wall_seconds)}}});
  }
  folder_->table(t);
  sql(sql::kStatus);
}

void StudyBuilder::claims_table() {
  const std::string k = std::to_string(o_.early_steps);
  doc().heading("The three claims per experiment");
  doc().paragraph("Per experiment and strategy: the noise fraction of the error energy at step 1 (claim 1, lower is "
                  "less noise), the mean test accuracy over steps 1.." + k + " (claim 2, early speed) and the test "
                  "accuracy at the last evaluated step (claim 3), each as the strategy's mean over its seeds and as "
                  "its mean paired difference to the baseline on the same seeds, in percentage points, with the 95% "
                  "t interval and the Holm-adjusted paired t p within the experiment; **bold**: significant at 0.05 "
                  "after Holm. n: the baseline's seeds, for the others the pairs of the final accuracy.");
  Table t("study_claims", {kExperimentColumn,
                           {"Strategy", {"strategy"}},
                           {"n", {"n_pairs"}},
                           {"Noise (%)", {"noise_mean"}},
                           {"Noise diff. (pp)", {"noise_diff_mean", "noise_diff_ci_low", "noise_diff_ci_high"}},
                           {"Holm p", {"noise_p_holm", "noise_significant"}},
                           {"Early acc. (%)", {"early_mean"}},
                           {"Early diff. (pp)", {"early_diff_mean"}},
                           {"95% CI (pp)", {"early_diff_ci_low", "early_diff_ci_high"}},
                           {"Holm p", {"early_p_holm", "early_significant"}},
                           {"Final acc. (%)", {"final_mean"}},
                           {"Final diff. (pp)", {"final_diff_mean"}},
                           {"95% CI (pp)", {"final_diff_ci_low", "final_diff_ci_high"}},
                           {"Holm p", {"final_p_holm", "final_significant"}}});
  for (const auto& r : results_) {
    for (const auto& s : r.data.strategies) {
      const MeanCi noise = mean_ci(values_of(r.data.noise.count(s) ? r.data.noise.at(s) : BySeed{}));
      const MeanCi early = mean_ci(values_of(r.data.early.count(s) ? r.data.early.at(s) : BySeed{}));
      const MeanCi fin = mean_ci(values_of(r.data.final_acc.count(s) ? r.data.final_acc.at(s) : BySeed{}));
      const Comparison* n = find(r.noise, s);
      const Comparison* e = find(r.early, s);
      const Comparison* f = find(r.final_acc, s);
      if (s == r.baseline || !n || !e || !f) {
        t.row({experiment_entry(r), {s, {s}}, {std::to_string(fin.n), {""}}, {opt_pct(noise.mean), {opt_full(noise.mean)}},
               s == r.baseline ? "baseline" : "", "", {opt_pct(early.mean), {opt_full(early.mean)}}, "", "", "",
               {opt_pct(fin.mean), {opt_full(fin.mean)}}, "", "", ""});
        continue;
      }
      std::vector<std::string> noise_csv = {opt_full(n->t.mean_diff)};
      for (auto& v : ci_csv(n->t.ci)) noise_csv.push_back(v);
      t.row({experiment_entry(r),
             {s, {s}},
             {std::to_string(f->t.n), {std::to_string(f->t.n)}},
             {opt_pct(noise.mean), {opt_full(noise.mean)}},
             {opt_diff(n->t.mean_diff), noise_csv, n->significant},
             {p_text(n->p_holm), {opt_full(n->p_holm), n->significant ? "1" : "0"}},
             {opt_pct(early.mean), {opt_full(early.mean)}},
             {opt_diff(e->t.mean_diff), {opt_full(e->t.mean_diff)}, e->significant},
             {pct_ci(e->t.ci), ci_csv(e->t.ci), e->significant},
             {p_text(e->p_holm), {opt_full(e->p_holm), e->significant ? "1" : "0"}},
             {opt_pct(fin.mean), {opt_full(fin.mean)}},
             {opt_diff(f->t.mean_diff), {opt_full(f->t.mean_diff)}, f->significant},
             {pct_ci(f->t.ci), ci_csv(f->t.ci), f->significant},
             {p_text(f->p_holm), {opt_full(f->p_holm), f->significant ? "1" : "0"}}});
    }
  }
  folder_->table(t);
  sql(std::string(sql::kInitial) + ";\n\n" + sql::kEarly + ";\n\n" + sql::kFinal);
}

void StudyBuilder::initial_noise_table() {
  doc().heading("Initial noise (paper Table 1)", 3);
  doc().paragraph("Step 1, before the first update: the noise fraction (zeta - 1/C) / phi of the error energy (Eq. "
                  "11-12) and the feature-gradient energy N^2 E_N[||dL/dX^L||^2] that reaches the backbone (Eq. 8), "
                  "mean and 95% CI over the seeds, as in a single report.");
  Table t("study_initial_noise", {kExperimentColumn,
                                  {"Strategy", {"strategy"}},
                                  {"n", {"n"}},
                                  {"Noise fraction (%)", {"noise_fraction_mean"}},
                                  {"95% CI (%)", {"noise_fraction_ci_low", "noise_fraction_ci_high"}},
                                  {"Feature-gradient energy", {"feature_grad_energy_mean"}},
                                  {"95% CI", {"feature_grad_energy_ci_low", "feature_grad_energy_ci_high"}}});
  for (const auto& r : results_) {
    for (const auto& s : r.data.strategies) {
      const MeanCi nf = mean_ci(values_of(r.data.noise.count(s) ? r.data.noise.at(s) : BySeed{}));
      const MeanCi ge = mean_ci(values_of(r.data.grad_energy.count(s) ? r.data.grad_energy.at(s) : BySeed{}));
      std::vector<Entry> entries = {experiment_entry(r), {s, {s}}};
      for (Entry& entry : initial_noise_entries(nf, ge)) entries.push_back(std::move(entry));
      t.row(std::move(entries));
    }
  }
  folder_->table(t);
  sql(sql::kInitial);
}

void StudyBuilder::early_speed_table() {
  const std::string k = std::to_string(o_.early_steps);
  doc().heading("Early speed (paper Table 3)", 3);
  doc().paragraph("Per seed the mean test accuracy over the evaluated steps among 1.." + k + "; per strategy its mean, "
                  "and the paired difference to the baseline (pp) with its 95% CI, the paired t p and the Holm p "
                  "across the strategies of the experiment. **Bold**: significant after Holm.");
  Table t("study_early_speed", {kExperimentColumn,
                                {"Strategy", {"strategy"}},
                                {"n seeds", {"n"}},
                                {"Mean acc. steps 1.." + k + " (%)", {"early_acc_mean"}},
                                {"Diff. (pp)", {"diff_mean"}},
                                {"95% CI (pp)", {"diff_ci_low", "diff_ci_high"}},
                                {"", {"t", "df"}},
                                {"Paired t p", {"p_paired_t"}},
                                {"Holm p", {"p_holm", "significant"}},
                                {"n pairs", {"n_pairs"}}});
  for (const auto& r : results_) {
    for (const auto& s : r.data.strategies) {
      const MeanCi m = mean_ci(values_of(r.data.early.count(s) ? r.data.early.at(s) : BySeed{}));
      const Comparison* c = find(r.early, s);
      if (!c) {
        t.row({experiment_entry(r), {s, {s}}, {std::to_string(m.n), {std::to_string(m.n)}},
               {opt_pct(m.mean), {opt_full(m.mean)}}, "baseline", "", "", "", "", ""});
        continue;
      }
      const TTestResult& tt = c->t;
      t.row({experiment_entry(r),
             {s, {s}},
             {std::to_string(m.n), {std::to_string(m.n)}},
             {opt_pct(m.mean), {opt_full(m.mean)}},
             {opt_diff(tt.mean_diff), {opt_full(tt.mean_diff)}, c->significant},
             {pct_ci(tt.ci), ci_csv(tt.ci), c->significant},
             {"", {opt_full(tt.t), opt_full(tt.df)}},
             {p_text(tt.p) + (tt.note.empty() ? "" : " (" + tt.note + ")"), {opt_full(tt.p)}},
             {p_text(c->p_holm), {opt_full(c->p_holm), c->significant ? "1" : "0"}},
             {std::to_string(tt.n), {std::to_string(tt.n)}}});
    }
  }
  folder_->table(t);
  sql(sql::kEarly);
}

void StudyBuilder::final_accuracy_table() {
  doc().heading("Final accuracy (paper Tables 4-6)", 3);
  doc().paragraph("Test accuracy at each trial's last evaluated step: per strategy its mean and 95% CI, and the paired "
                  "difference to the baseline (pp) with its 95% CI, the paired t p and the Holm p across the "
                  "strategies of the experiment. **Bold**: significant after Holm.");
  Table t("study_final_accuracy", {kExperimentColumn,
                                   {"Strategy", {"strategy"}},
                                   {"n seeds", {"n"}},
                                   {"Final acc. (%)", {"final_acc_mean"}},
                                   {"95% CI (%)", {"final_acc_ci_low", "final_acc_ci_high"}},
                                   {"Diff. (pp)", {"diff_mean"}},
                                   {"95% CI (pp)", {"diff_ci_low", "diff_ci_high"}},
                                   {"Paired t p", {"p_paired_t"}},
                                   {"Holm p", {"p_holm", "significant"}},
                                   {"n pairs", {"n_pairs"}}});
  for (const auto& r : results_) {
    for (const auto& s : r.data.strategies) {
      const MeanCi m = mean_ci(values_of(r.data.final_acc.count(s) ? r.data.final_acc.at(s) : BySeed{}));
      const Comparison* c = find(r.final_acc, s);
      if (!c) {
        t.row({experiment_entry(r), {s, {s}}, {std::to_string(m.n), {std::to_string(m.n)}},
               {opt_pct(m.mean), {opt_full(m.mean)}}, {pct_ci(m.ci), ci_csv(m.ci)}, "baseline", "", "", "", ""});
        continue;
      }
      const TTestResult& tt = c->t;
      t.row({experiment_entry(r),
             {s, {s}},
             {std::to_string(m.n), {std::to_string(m.n)}},
             {opt_pct(m.mean), {opt_full(m.mean)}, c->significant},
             {pct_ci(m.ci), ci_csv(m.ci)},
             {opt_diff(tt.mean_diff), {opt_full(tt.mean_diff)}, c->significant},
             {pct_ci(tt.ci), ci_csv(tt.ci), c->significant},
             {p_text(tt.p) + (tt.note.empty() ? "" : " (" + tt.note + ")"), {opt_full(tt.p)}},
             {p_text(c->p_holm), {opt_full(c->p_holm), c->significant ? "1" : "0"}},
             {std::to_string(tt.n), {std::to_string(tt.n)}}});
    }
  }
  folder_->table(t);
  sql(sql::kFinal);
}

void StudyBuilder::equivalence_table() {
  doc().heading("Equivalence of the final accuracy (paired TOST)", 3);
  if (!o_.equivalence_margin) {
    doc().paragraph("Not tested: a t-test that finds no difference does not show that two strategies end level. Give "
                    "--equivalence-margin PP (the largest difference in percentage points that counts as level) for "
                    "Schuirmann's two one-sided tests per experiment against that margin.");
    return;
  }
  const double margin = *o_.equivalence_margin;
  const std::string m = fixed(100 * margin, 2);
  doc().paragraph("Per experiment, H0: the mean paired difference in final accuracy to the baseline is at least " + m +
                  " pp in size; H1: it lies within +-" + m + " pp. Two one-sided paired t-tests at 0.05; TOST p = the "
                  "larger; equivalence is shown when the TOST p, Holm-adjusted across the strategies of the "
                  "experiment, is below 0.05 (unadjusted, that is the 90% interval inside the margin). \"Not shown\" "
                  "is not a difference: the data cannot rule out one as large as the margin.");
  std::vector<Column> columns = {kExperimentColumn, {"Strategy", {"strategy"}}};
  for (Column& column : tost_columns("Diff. (pp)")) columns.push_back(std::move(column));
  Table t("study_equivalence", std::move(columns));
  for (const auto& r : results_) {
    for (const auto& c : r.final_acc) {
      std::vector<Entry> entries = {experiment_entry(r), {c.strategy, {c.strategy}}};
      for (Entry& entry : tost_entries(c, margin)) entries.push_back(std::move(entry));
      t.row(std::move(entries));
    }
  }
  folder_->table(t);
  sql(sql::kFinal);
}

void StudyBuilder::at_steps_table() {
  if (o_.at_steps.empty()) return;
  const std::string last = std::to_string(o_.at_steps.back());
  doc().heading("Test accuracy at steps " + steps_text(o_.at_steps));
  doc().paragraph("Mean test accuracy (%) at each step over the experiment's complete seeds (every strategy's trial "
                  "of the seed done, so each row of an experiment averages the same seeds; n seeds), and at step " +
                  last + " the paired difference to the baseline (pp) over every seed both finished, with its 95% CI "
                  "and the Holm p across the strategies of the experiment (**bold**: significant after Holm). n/a: "
                  "not evaluated at that step.");
  std::vector<Column> columns = {kExperimentColumn, {"Strategy", {"strategy"}}, {"n seeds", {"n_seeds"}}};
  for (int64_t s : o_.at_steps) {
    columns.push_back({"Step " + std::to_string(s) + " (%)", {"test_acc_at_" + std::to_string(s)}});
  }
  columns.push_back({"Diff. at " + last + " (pp)", {"diff_mean"}});
  columns.push_back({"95% CI (pp)", {"diff_ci_low", "diff_ci_high"}});
  columns.push_back({"Holm p", {"p_paired_t", "p_holm", "significant"}});
  columns.push_back({"n pairs", {"n_pairs"}});
  Table t("study_at_steps", columns);
  for (const auto& r : results_) {
    for (const auto& s : r.data.strategies) {
      std::vector<Entry> row = {experiment_entry(r), {s, {s}},
                                {std::to_string(r.status.complete_seeds), {std::to_string(r.status.complete_seeds)}}};
      const auto means = r.at_steps.find(s);
      for (int64_t step : o_.at_steps) {
        std::optional<double> v;
        if (means != r.at_steps.end()) {
          auto at = means->second.find(step);
          if (at != means->second.end()) v = at->second.mean;
        }
        row.push_back({opt_pct(v), {opt_full(v)}});
      }
      const Comparison* c = find(r.at_last_step, s);
      if (!c) {
        row.insert(row.end(), {s == r.baseline ? "baseline" : "", "", "", ""});
      } else {
        row.push_back({opt_diff(c->t.mean_diff), {opt_full(c->t.mean_diff)}, c->significant});
        row.push_back({pct_ci(c->t.ci), ci_csv(c->t.ci), c->significant});
        row.push_back({p_text(c->p_holm), {opt_full(c->t.p), opt_full(c->p_holm), c->significant ? "1" : "0"}});
        row.push_back({std::to_string(c->t.n), {std::to_string(c->t.n)}});
      }
      t.row(std::move(row));
    }
  }
  folder_->table(t);
  sql(step_means_sql({"test_acc", o_.at_steps}) + ";\n\n-- the paired difference at step " + last +
      ": the test accuracies of\n" + sql::kCurves);
}

void StudyBuilder::dynamics_table() {
  if (o_.dynamics.empty()) return;
  doc().heading("Per-step measurements");
  doc().paragraph("Means over the experiment's complete seeds (n seeds) of per-step measurements (`db/schema.sql` "
                  "documents each column) at the steps named in each column, shown as a / b / c; accuracies in %, "
                  "the others to 3 significant digits; n/a: not recorded at that step." +
                  std::string(o_.dynamics_strategies.empty() ? "" : " Strategies: " + join(o_.dynamics_strategies, ", ") +
                                                                       " (--dynamics-strategies)."));
  std::vector<Column> columns = {kExperimentColumn, {"Strategy", {"strategy"}}, {"n seeds", {"n_seeds"}}};
  for (const Measurement& m : o_.dynamics) {
    Column c{measurement_header(m), {}};
    for (int64_t s : m.steps) c.csv.push_back(m.column + "_at_" + std::to_string(s));
    columns.push_back(std::move(c));
  }
  Table t("study_dynamics", columns);
  for (const auto& r : results_) {
    for (const auto& s : r.data.strategies) {
      const auto& wanted = o_.dynamics_strategies;
      if (!wanted.empty() && std::find(wanted.begin(), wanted.end(), s) == wanted.end() &&
          std::find(wanted.begin(), wanted.end(), r.key_of(s)) == wanted.end()) {
        continue;
      }
      std::vector<Entry> row = {experiment_entry(r), {s, {s}},
                                {std::to_string(r.status.complete_seeds), {std::to_string(r.status.complete_seeds)}}};
      for (std::size_t i = 0; i < o_.dynamics.size(); ++i) {
        const Measurement& m = o_.dynamics[i];
        const auto means = r.dynamics[i].find(s);
        std::vector<std::string> shown, csv;
        for (int64_t step : m.steps) {
          std::optional<double> v;
          if (means != r.dynamics[i].end()) {
            auto at = means->second.find(step);
            if (at != means->second.end()) v = at->second.mean;
          }
          shown.push_back(measurement_text(m.column, v));
          csv.push_back(opt_full(v));
        }
        row.push_back({join(shown, " / "), csv});
      }
      t.row(std::move(row));
    }
  }
  folder_->table(t);
  std::string queries;
  for (const Measurement& m : o_.dynamics) queries += (queries.empty() ? "" : ";\n\n") + step_means_sql(m);
  sql(queries);
}

std::vector<Aggregate> StudyBuilder::aggregate(std::vector<Comparison> ExperimentResult::*claim) const {
  std::vector<Aggregate> out;
  for (const auto& key : strategies_) {
    if (key == o_.baseline) continue;
    Aggregate a;
    a.strategy = key;
    PairedStrata strata;
    for (const auto& r : results_) {
      const std::string label = r.label_of(key);
      const Comparison* c = label.empty() ? nullptr : find(r.*claim, label);
      if (!c || c->pairs.seeds.empty()) continue;
      ++a.experiments;
      if (c->significant && c->t.mean_diff && *c->t.mean_diff > 0) ++a.wins;
      else if (c->significant && c->t.mean_diff && *c->t.mean_diff < 0) ++a.losses;
      else ++a.ties;
      strata.emplace_back();
      for (std::size_t i = 0; i < c->pairs.seeds.size(); ++i) {
        strata.back().emplace_back(c->pairs.strategy[i], c->pairs.baseline[i]);
      }
      a.runs += c->pairs.seeds.size();
    }
    if (!strata.empty()) {
      a.iqm = stratified_bootstrap_ci(strata, pooled_iqm_of_differences, o_.bootstrap_seed, o_.bootstrap_resamples);
      a.poi = stratified_bootstrap_ci(strata, mean_probability_of_improvement, o_.bootstrap_seed,
                                      o_.bootstrap_resamples);
    }
    out.push_back(std::move(a));
  }
  return out;
}

void StudyBuilder::aggregate_table(const std::string& name, const std::string& what,
                                   std::vector<Comparison> ExperimentResult::*claim) {
  doc().heading("Across the experiments: " + what, 3);
  doc().paragraph("Per strategy against `" + o_.baseline + "`: experiments won, lost and tied (a win or loss is "
                  "significant after Holm within its experiment, a tie is not); the interquartile mean (IQM) of the "
                  "paired differences over every (experiment, seed) run, in pp, and the probability of improvement "
                  "P(strategy > baseline) (Mann-Whitney U / n^2 per experiment, averaged over experiments), each with "
                  "a 95% stratified percentile bootstrap interval (" + std::to_string(o_.bootstrap_resamples) +
                  " resamples of the seeds within each experiment, pairs kept together, std::mt19937_64 seeded with " +
                  std::to_string(o_.bootstrap_seed) + "), as rliable (Agarwal et al. 2021) recommends for few runs. "
                  "**Bold**: the IQM interval excludes 0.");
  Table t(name, {{"Strategy", {"strategy"}},
                 {"Experiments", {"experiments"}},
                 {"Won / lost / tied", {"wins", "losses", "ties"}},
                 {"Runs", {"runs"}},
                 {"IQM diff. (pp)", {"iqm_diff"}},
                 {"95% CI (pp)", {"iqm_ci_low", "iqm_ci_high"}},
                 {"P(improvement)", {"poi"}},
                 {"95% CI", {"poi_ci_low", "poi_ci_high", "bootstrap_seed", "bootstrap_resamples"}}});
  std::vector<ForestRow> rows;
  for (const Aggregate& a : aggregate(claim)) {
    const bool excludes_zero = a.iqm.ci && (a.iqm.ci->lower > 0 || a.iqm.ci->upper < 0);
    std::vector<std::string> poi_ci = ci_csv(a.poi.ci);
    poi_ci.push_back(std::to_string(o_.bootstrap_seed));
    poi_ci.push_back(std::to_string(o_.bootstrap_resamples));
    t.row({{a.strategy, {a.strategy}},
           {std::to_string(a.experiments), {std::to_string(a.experiments)}},
           {std::to_string(a.wins) + " / " + std::to_string(a.losses) + " / " + std::to_string(a.ties),
            {std::to_string(a.wins), std::to_string(a.losses), std::to_string(a.ties)}},
           {std::to_string(a.runs), {std::to_string(a.runs)}},
           {opt_diff(a.iqm.mean), {opt_full(a.iqm.mean)}, excludes_zero},
           {pct_ci(a.iqm.ci), ci_csv(a.iqm.ci), excludes_zero},
           {a.poi.mean ? fixed(*a.poi.mean, 3) : "n/a", {opt_full(a.poi.mean)}},
           {a.poi.ci ? "[" + fixed(a.poi.ci->lower, 3) + ", " + fixed(a.poi.ci->upper, 3) + "]" : "n/a", poi_ci}});
    if (a.iqm.mean) {
      std::optional<Interval> ci;
      if (a.iqm.ci) ci = Interval{100 * a.iqm.ci->lower, 100 * a.iqm.ci->upper};
      rows.push_back({a.strategy, 100 * *a.iqm.mean, ci, excludes_zero});
    }
  }
  folder_->table(t);
  if (figures_.available() && !rows.empty()) {
    Axes axes(what + ": IQM of the paired differences to " + o_.baseline + " (95% stratified bootstrap CI)",
              "IQM difference to " + o_.baseline + " over all runs (pp)", "");
    folder_->figure("forest_" + name,
                    "Forest plot: " + what + ", IQM of the paired differences to `" + o_.baseline +
                        "` over every (experiment, seed) run with its 95% stratified bootstrap interval; filled: the "
                        "interval excludes 0",
                    figures_.forest(o_.out_dir, "forest_" + name, axes, rows, "interval excludes 0",
                                    "interval includes 0"));
  }
}

ReportSummary StudyBuilder::run() {
  check_options();
  read();
  check_dynamics_strategies();
  folder_.emplace(o_.out_dir);
  header();
  selection_table();
  status_table();
  claims_table();
  doc().heading("Each claim in full");
  initial_noise_table();
  early_speed_table();
  final_accuracy_table();
  equivalence_table();
  at_steps_table();
  dynamics_table();
  doc().heading("Across the experiments");
  aggregate_table("study_early", "Early speed (mean acc. steps 1.." + std::to_string(o_.early_steps) + ")",
                  &ExperimentResult::early);
  aggregate_table("study_final", "Final accuracy", &ExperimentResult::final_acc);
  if (!figures_.available()) {
    doc().paragraph("Figures were skipped: gnuplot could not be run (`" + o_.gnuplot_command + "`).");
    summary_.warnings.push_back("figures skipped: gnuplot could not be run");
  }
  folder_->write_documents("Study: " + title_);
  summary_.files = folder_->files();
  summary_.report_md = summary_.files[0];
  summary_.report_html = summary_.files[1];
  summary_.figures_written = folder_->figures_written();
  summary_.warnings.insert(summary_.warnings.end(), folder_->warnings().begin(), folder_->warnings().end());
  summary_.experiment = title_;
  summary_.strategies = strategies_;
  return summary_;
}

}  // namespace

std::vector<StudyEntry> read_study_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(path + ": cannot read the study file");
  const fs::path folder = fs::path(path).parent_path();
  std::vector<StudyEntry> entries;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const auto hash = line.find('#');
    if (hash != std::string::npos) line.erase(hash);
    line = trim(line);
    if (line.empty()) continue;
    std::istringstream words(line);
    StudyEntry e;
    std::string extra;
    words >> e.db_path >> e.experiment >> extra;
    if (!extra.empty()) {
      throw ConfigError(path + ":" + std::to_string(number) + ": '" + line +
                        "': expected 'DATABASE [EXPERIMENT]', found more than two words");
    }
    if (fs::path(e.db_path).is_relative()) e.db_path = (folder / e.db_path).lexically_normal().string();
    if (!fs::is_regular_file(e.db_path)) {
      throw ConfigError(path + ":" + std::to_string(number) + ": database " + e.db_path + " does not exist");
    }
    entries.push_back(std::move(e));
  }
  if (entries.empty()) throw ConfigError(path + ": the study file lists no experiments ('DATABASE [EXPERIMENT]' per line)");
  return entries;
}

ReportSummary write_study_report(const StudyOptions& options) { return StudyBuilder(options).run(); }

}  // namespace harness::reports

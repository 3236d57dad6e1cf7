// The report writer: reads one experiment (report_data), builds the paper's tables and the figures
// of the paired effects, writes Markdown, HTML and CSV.
#include "reports/report.h"

#include "db/database.h"
#include "harness/errors.h"
#include "reports/comparison.h"
#include "reports/document.h"
#include "reports/figures.h"
#include "reports/report_data.h"
#include "reports/report_folder.h"
#include "reports/selection.h"
#include "reports/stats.h"
#include "reports/table.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <sstream>

namespace harness::reports {
namespace {

constexpr double kDefaultTargetFraction = 0.9;  // of the baseline's final mean accuracy

// Mean over seeds at each step with a band of +-1 sd (scale: 100 for percent).
Curve spread_curve(const std::string& label, const SeriesBySeed& series, double scale) {
  std::map<int64_t, std::vector<double>> at;
  for (const auto& [seed, steps] : series) {
    for (const auto& [step, v] : steps) at[step].push_back(v);
  }
  Curve c;
  c.label = label;
  for (const auto& [step, values] : at) {
    MeanCi m = mean_ci(values);
    const double sd = m.sd.value_or(0.0);
    c.x.push_back(static_cast<double>(step));
    c.mean.push_back(scale * *m.mean);
    c.lower.push_back(scale * (*m.mean - sd));
    c.upper.push_back(scale * (*m.mean + sd));
  }
  return c;
}

// The paired difference strategy - baseline at each step both evaluated for the same seed: mean
// over those seeds with its 95% t interval (no band where one seed), in percentage points.
Curve difference_curve(const std::string& label, const SeriesBySeed& strategy, const SeriesBySeed& baseline,
                       std::vector<std::size_t>& pairs_at_step) {
  std::map<int64_t, std::vector<double>> at;
  for (const auto& [seed, steps] : strategy) {
    auto b = baseline.find(seed);
    if (b == baseline.end()) continue;
    for (const auto& [step, v] : steps) {
      auto bv = b->second.find(step);
      if (bv != b->second.end()) at[step].push_back(v - bv->second);
    }
  }
  Curve c;
  c.label = label;
  pairs_at_step.clear();
  for (const auto& [step, d] : at) {
    MeanCi m = mean_ci(d);
    pairs_at_step.push_back(d.size());
    c.x.push_back(static_cast<double>(step));
    c.mean.push_back(100 * *m.mean);
    c.lower.push_back(100 * (m.ci ? m.ci->lower : *m.mean));
    c.upper.push_back(100 * (m.ci ? m.ci->upper : *m.mean));
  }
  return c;
}

class ReportBuilder {
 public:
  explicit ReportBuilder(const ReportOptions& o) : o_(o), baseline_(o.baseline), figures_(o.gnuplot_command) {}

  ReportSummary run();

 private:
  void check_options() const;
  void header();
  void initial_noise_table();
  void early_speed_table();
  void final_accuracy_table();
  void equivalence_table();
  void beyond_tables();
  void curve_figures();
  void forest(const std::string& stem, const std::string& what, const std::vector<Comparison>& cs,
              std::optional<double> margin = std::nullopt);
  void wilcoxon_small_n_note(const std::vector<Comparison>& cs);
  const std::string& name() const { return data_.experiment.name; }

  void selection_table(const Selection& selection);
  Document& doc() { return folder_->doc(); }

  const ReportOptions& o_;
  std::string baseline_;  // o_.baseline, or the variant of it that was selected
  FigureWriter figures_;
  ReportData data_;
  std::optional<ReportFolder> folder_;  // created once the database has been read
  ReportSummary summary_;
  std::string exp_bind_;
  std::optional<double> target_;
  std::vector<Comparison> early_, final_;
};

void ReportBuilder::wilcoxon_small_n_note(const std::vector<Comparison>& cs) {
  if (const auto note = wilcoxon_small_sample_note(cs)) doc().paragraph(*note);
}

// A forest plot of a table's paired differences, right under the table.
void ReportBuilder::forest(const std::string& stem, const std::string& what, const std::vector<Comparison>& cs,
                           std::optional<double> margin) {
  if (!figures_.available() || cs.empty()) return;
  std::vector<ForestRow> rows;
  for (const auto& c : cs) {
    if (!c.t.mean_diff) continue;
    std::optional<Interval> ci;
    if (c.t.ci) ci = Interval{100 * c.t.ci->lower, 100 * c.t.ci->upper};
    rows.push_back({c.strategy, 100 * *c.t.mean_diff, ci, c.significant});
  }
  Axes axes(what + ": paired difference to " + baseline_ + " (mean, 95% CI)",
            "Difference to " + baseline_ + " (pp)", "");
  if (margin) axes.margin = 100 * *margin;
  folder_->figure(stem, "Forest plot: " + what + ", each strategy minus `" + baseline_ +
                       "` in percentage points, mean and 95% t interval over the paired seeds; filled: significant "
                       "after Holm (p < 0.05), open: not" +
                       (margin ? "; shaded: the equivalence margin +-" + fixed(100 * *margin, 2) + " pp" : ""),
             figures_.forest(o_.out_dir, stem, axes, rows, "significant after Holm (p < 0.05)",
                             "not significant"));
}

void ReportBuilder::header() {
  const ExperimentRow& e = data_.experiment;
  doc().heading("Report: " + name(), 1);
  doc().list({
      "harness version: " + e.harness_version + ", git revision: `" + e.git_revision + "`",
      "LibTorch: " + e.torch_version + ", device: " + e.device +
          (e.deterministic ? " (deterministic algorithms requested)" : " (deterministic algorithms not requested)"),
      "host: " + e.host + ", experiment created: " + e.created_at,
      "database: `" + o_.db_path + "`, report written: " + utc_now(),
  });
  std::vector<std::string> seeds;
  for (auto s : data_.seeds) seeds.push_back(std::to_string(s));
  std::vector<std::string> strategies;
  for (const auto& s : data_.strategies) strategies.push_back("`" + s + "`" + (s == baseline_ ? " (baseline)" : ""));
  doc().paragraph(std::to_string(data_.seeds.size()) + " seeds among the finished trials (" +
                 (seeds.empty() ? std::string("none") : join(seeds, ", ")) + "); strategies: " +
                 (strategies.empty() ? std::string("none") : join(strategies, ", ")) + "; " +
                 std::to_string(data_.trials_used) + " finished trials used, " +
                 std::to_string(data_.trials_excluded) + " excluded. " +
                 "Comparisons are paired by seed: the same seed gives every strategy the same backbone, batches and "
                 "test set. Intervals are 95% Student-t intervals with n - 1 degrees of freedom.");
  doc().code(sql_block(sql::kExperiment, {"'" + name() + "'"}) + "\n\n" + sql_block(sql::kTrials, {exp_bind_}));
}

void ReportBuilder::initial_noise_table() {
  doc().heading("Initial noise (paper Table 1)");
  doc().paragraph(
      "Share of the back-propagated error energy that is noise at step 1 (before the first update), mean and 95% CI "
      "over seeds. `noise_fraction` = (zeta - 1/C) / phi, the energy of the estimates above its maximum-entropy floor "
      "1/C as a share of the total error energy phi (Eq. 11-12), is this project's precise reading of the paper's "
      "\"percentage of noise energy\". `feature_grad_energy` = N^2 E_N[||dL/dX^L||^2] is the error energy that "
      "reaches the backbone (Eq. 8).");
  Table t("initial_noise", {{"Strategy", {"strategy"}},
                            {"n", {"n"}},
                            {"Noise fraction (%)", {"noise_fraction_mean"}},
                            {"95% CI (%)", {"noise_fraction_ci_low", "noise_fraction_ci_high"}},
                            {"Feature-gradient energy", {"feature_grad_energy_mean"}},
                            {"95% CI", {"feature_grad_energy_ci_low", "feature_grad_energy_ci_high"}}});
  for (const auto& s : data_.strategies) {
    MeanCi nf = mean_ci(values_of(data_.noise[s]));
    MeanCi ge = mean_ci(values_of(data_.grad_energy[s]));
    std::vector<Entry> entries = {{s, {s}}};
    for (Entry& entry : initial_noise_entries(nf, ge)) entries.push_back(std::move(entry));
    t.row(std::move(entries));
  }
  folder_->table(t);
  doc().code(sql_block(sql::kInitial, {exp_bind_}));
}

void ReportBuilder::early_speed_table() {
  const std::string k = std::to_string(o_.early_steps);
  doc().heading("Early speed (paper Table 3)");
  doc().paragraph("Per seed, the mean test accuracy over the evaluated steps among steps 1.." + k +
                 "; per strategy, the paired difference to `" + baseline_ +
                 "` in percentage points (pp): mean, 95% CI, paired t-test p (raw and Holm-adjusted across the " +
                 std::to_string(early_.size()) + " strategies compared) and Wilcoxon signed-rank p (two-sided).");
  Table t("early_speed", {{"Strategy", {"strategy"}},
                          {"n seeds", {"n"}},
                          {"Mean acc. steps 1.." + k + " (%)", {"early_acc_mean"}},
                          {"Diff. vs baseline (pp)", {"diff_mean"}},
                          {"95% CI (pp)", {"diff_ci_low", "diff_ci_high"}},
                          {"", {"t", "df"}},
                          {"Paired t p", {"p_paired_t"}},
                          {"Holm p", {"p_holm"}},
                          {"Wilcoxon p", {"p_wilcoxon", "wilcoxon_method"}},
                          {"n pairs", {"n_pairs"}},
                          {"", {"significant"}}});
  for (const auto& s : data_.strategies) {
    MeanCi m = mean_ci(values_of(data_.early[s]));
    const Comparison* c = find(early_, s);
    if (!c) {
      t.row({{s, {s}}, {std::to_string(m.n), {std::to_string(m.n)}}, {opt_pct(m.mean), {opt_full(m.mean)}},
             "baseline", "", "", "", "", "", "", ""});
      continue;
    }
    const TTestResult& tt = c->t;
    const WilcoxonResult& w = c->wilcoxon;
    t.row({{s, {s}},
           {std::to_string(m.n), {std::to_string(m.n)}},
           {opt_pct(m.mean), {opt_full(m.mean)}},
           {opt_diff(tt.mean_diff), {opt_full(tt.mean_diff)}, c->significant},
           {pct_ci(tt.ci), ci_csv(tt.ci), c->significant},
           {"", {opt_full(tt.t), opt_full(tt.df)}},
           {p_text(tt.p) + (tt.note.empty() ? "" : " (" + tt.note + ")"), {opt_full(tt.p)}},
           {p_text(c->p_holm), {opt_full(c->p_holm)}},
           {p_text(w.p),
            {opt_full(w.p), w.method ? (*w.method == WilcoxonMethod::Exact ? "exact" : "normal") : ""}},
           {std::to_string(tt.n), {std::to_string(tt.n)}},
           {"", {c->significant ? "1" : "0"}}});
  }
  folder_->table(t);
  wilcoxon_small_n_note(early_);
  doc().code(sql_block(sql::kEarly, {exp_bind_, k}));
  forest("forest_early_speed", "Early speed (mean acc. steps 1.." + k + ")", early_);
}

void ReportBuilder::final_accuracy_table() {
  doc().heading("Final accuracy (paper Tables 4-6)");
  doc().paragraph("Test accuracy at the last evaluated step (the last step of a complete trial), mean and 95% CI over "
                 "seeds. **Bold**: the paired t-test against `" + baseline_ +
                 "` is significant at 0.05 after Holm-Bonferroni correction across the " +
                 std::to_string(final_.size()) + " strategies compared. Raw and Holm-adjusted p are shown.");
  Table t("final_accuracy", {{"Strategy", {"strategy"}},
                             {"n", {"n"}},
                             {"Final test acc. (%)", {"final_acc_mean"}},
                             {"95% CI (%)", {"final_acc_ci_low", "final_acc_ci_high"}},
                             {"Diff. vs baseline (pp)", {"diff_mean"}},
                             {"", {"diff_ci_low", "diff_ci_high", "t", "df"}},
                             {"Paired t p", {"p_paired_t"}},
                             {"Holm p", {"p_holm"}},
                             {"Wilcoxon p", {"p_wilcoxon"}},
                             {"n pairs", {"n_pairs"}},
                             {"", {"significant"}}});
  for (const auto& s : data_.strategies) {
    MeanCi m = mean_ci(values_of(data_.final_acc[s]));
    const Comparison* c = find(final_, s);
    if (!c) {
      t.row({{s, {s}}, {std::to_string(m.n), {std::to_string(m.n)}}, {opt_pct(m.mean), {opt_full(m.mean)}},
             {pct_ci(m.ci), ci_csv(m.ci)}, "baseline", "", "", "", "", "", ""});
      continue;
    }
    const TTestResult& tt = c->t;
    std::vector<std::string> diff_rest = ci_csv(tt.ci);
    diff_rest.push_back(opt_full(tt.t));
    diff_rest.push_back(opt_full(tt.df));
    t.row({{s, {s}},
           {std::to_string(m.n), {std::to_string(m.n)}},
           {opt_pct(m.mean), {opt_full(m.mean)}, c->significant},
           {pct_ci(m.ci), ci_csv(m.ci), c->significant},
           {opt_diff(tt.mean_diff), {opt_full(tt.mean_diff)}},
           {"", diff_rest},
           {p_text(tt.p) + (tt.note.empty() ? "" : " (" + tt.note + ")"), {opt_full(tt.p)}},
           {p_text(c->p_holm), {opt_full(c->p_holm)}},
           {p_text(c->wilcoxon.p), {opt_full(c->wilcoxon.p)}},
           {std::to_string(tt.n), {std::to_string(tt.n)}},
           {"", {c->significant ? "1" : "0"}}});
  }
  folder_->table(t);
  wilcoxon_small_n_note(final_);
  doc().code(sql_block(sql::kFinal, {exp_bind_}));
  forest("forest_final_accuracy", "Final accuracy", final_, o_.equivalence_margin);
}

void ReportBuilder::equivalence_table() {
  doc().heading("Equivalence of the final accuracy (paired TOST)");
  if (!o_.equivalence_margin) {
    doc().paragraph("Not tested: a t-test that finds no difference does not show that two strategies end level. "
                   "Rerun the report with `--equivalence-margin PP` (the largest difference in percentage points "
                   "that counts as level) for Schuirmann's two one-sided tests against that margin.");
    return;
  }
  const double margin = *o_.equivalence_margin;
  doc().paragraph("H0: the mean paired difference in final accuracy to `" + baseline_ + "` is at least " +
                 fixed(100 * margin, 2) + " pp in size; H1: it lies within +-" + fixed(100 * margin, 2) +
                 " pp. Two one-sided paired t-tests at 0.05 (p lower: H0 diff <= -margin; p upper: H0 diff >= "
                 "+margin); TOST p = the larger; equivalence is shown when TOST p < 0.05, the same as the 90% "
                 "interval lying inside the margin. Holm-adjusted across the " + std::to_string(final_.size()) +
                 " strategies; the verdict uses the Holm p. \"Not shown\" is not a difference: it means the data "
                 "cannot rule out one as large as the margin.");
  std::vector<Column> columns = {{"Strategy", {"strategy"}}};
  for (Column& column : tost_columns("Diff. vs baseline (pp)")) columns.push_back(std::move(column));
  Table t("equivalence", std::move(columns));
  for (const auto& c : final_) {
    std::vector<Entry> entries = {{c.strategy, {c.strategy}}};
    for (Entry& entry : tost_entries(c, margin)) entries.push_back(std::move(entry));
    t.row(std::move(entries));
  }
  folder_->table(t);
  doc().code(sql_block(sql::kFinal, {exp_bind_}));
}

void ReportBuilder::beyond_tables() {
  doc().heading("Beyond the paper");
  doc().heading("Steps to a target accuracy", 3);
  // Steps to target: the first evaluated step reaching the target accuracy.
  ByStrategy steps_to_target;
  std::map<std::string, std::vector<int64_t>> never_reached;
  std::optional<double> target = o_.target_accuracy;
  if (!target) {
    MeanCi b = mean_ci(values_of(data_.final_acc[baseline_]));
    if (b.mean) target = kDefaultTargetFraction * *b.mean;
  }
  if (!target) {
    doc().paragraph("No target accuracy: none was given and the baseline has no final accuracy to take 90% of.");
  } else {
    for (const auto& [strategy, seeds] : data_.test_acc) {
      for (const auto& [seed, steps] : seeds) {
        auto hit = std::find_if(steps.begin(), steps.end(), [&](const auto& p) { return p.second >= *target; });
        if (hit == steps.end()) never_reached[strategy].push_back(seed);
        else steps_to_target[strategy][seed] = static_cast<double>(hit->first);
      }
    }
    doc().paragraph("Target: test accuracy >= " + pct(*target) + "% (" +
                   (o_.target_accuracy ? std::string("given") : "90% of the baseline's final mean") +
                   "). Per strategy: mean first evaluated step reaching it over the seeds that reach it, and how many "
                   "never do. Speed-up = baseline mean steps / strategy mean steps (> 1: faster than the baseline).");
    Table t("steps_to_target", {{"Strategy", {"strategy", "target"}},
                                {"Seeds reaching", {"n_reached"}},
                                {"Never reaching", {"n_never"}},
                                {"Mean steps", {"steps_mean"}},
                                {"95% CI", {"steps_ci_low", "steps_ci_high"}},
                                {"Speed-up vs baseline", {"speedup"}}});
    MeanCi base = mean_ci(values_of(steps_to_target[baseline_]));
    for (const auto& s : data_.strategies) {
      MeanCi m = mean_ci(values_of(steps_to_target[s]));
      const std::size_t never = never_reached[s].size();
      std::optional<double> speedup;
      if (m.mean && base.mean && *m.mean > 0) speedup = *base.mean / *m.mean;
      t.row({{s, {s, full(*target)}},
             {std::to_string(m.n), {std::to_string(m.n)}},
             {std::to_string(never), {std::to_string(never)}},
             {m.mean ? fixed(*m.mean, 1) : "n/a", {opt_full(m.mean)}},
             {m.ci ? "[" + fixed(m.ci->lower, 1) + ", " + fixed(m.ci->upper, 1) + "]" : "n/a", ci_csv(m.ci)},
             {s == baseline_ ? "1 (baseline)" : speedup ? fixed(*speedup, 2) + "x" : "n/a", {opt_full(speedup)}}});
    }
    folder_->table(t);
    doc().code(sql_block(sql::kCurves, {exp_bind_}));
  }

  doc().heading("Effect sizes, power and bootstrap (final accuracy)", 3);
  doc().paragraph("Cohen's d_z = mean / sd of the paired differences in final accuracy; seeds needed: the smallest "
                 "number of pairs for which a two-sided paired t-test at alpha = 0.05 has 80% power against that "
                 "d_z (exact, noncentral t). Bootstrap: percentile 95% CI of the mean difference, " +
                 std::to_string(kDefaultBootstrapResamples) + " resamples, std::mt19937_64 seeded with " +
                 std::to_string(o_.bootstrap_seed) + ".");
  Table t("effect_sizes", {{"Strategy", {"strategy"}},
                           {"n pairs", {"n_pairs"}},
                           {"Mean diff. (pp)", {"diff_mean"}},
                           {"d_z", {"d_z"}},
                           {"Seeds for 80% power", {"n_for_80_power", "power_at_n"}},
                           {"Bootstrap 95% CI (pp)",
                            {"bootstrap_ci_low", "bootstrap_ci_high", "bootstrap_seed", "bootstrap_resamples"}}});
  for (const auto& c : final_) {
    PowerResult pw = paired_power(c.pairs.strategy, c.pairs.baseline);
    std::vector<double> d(c.pairs.strategy.size());
    for (std::size_t i = 0; i < d.size(); ++i) d[i] = c.pairs.strategy[i] - c.pairs.baseline[i];
    BootstrapCi b = bootstrap_mean_ci(d, o_.bootstrap_seed);
    std::vector<std::string> boot = ci_csv(b.ci);
    boot.push_back(std::to_string(o_.bootstrap_seed));
    boot.push_back(std::to_string(b.resamples));
    t.row({{c.strategy, {c.strategy}},
           {std::to_string(c.pairs.seeds.size()), {std::to_string(c.pairs.seeds.size())}},
           {opt_diff(b.mean), {opt_full(b.mean)}},
           {pw.d_z ? fixed(*pw.d_z, 3) : "n/a (" + pw.note + ")", {opt_full(pw.d_z)}},
           {pw.n_required ? std::to_string(*pw.n_required) : "n/a" + (pw.d_z ? " (" + pw.note + ")" : ""),
            {pw.n_required ? std::to_string(*pw.n_required) : "", opt_full(pw.power_at_n)}},
           {pct_ci(b.ci), boot}});
  }
  folder_->table(t);
  doc().code(sql_block(sql::kFinal, {exp_bind_}));
}

void ReportBuilder::curve_figures() {
  doc().heading("Figures");
  // The paired differences per step are data in their own right: written whether or not gnuplot runs.
  std::vector<Curve> difference;
  Table by_step("difference_by_step", {{"Strategy", {"strategy"}},
                                       {"Step", {"step"}},
                                       {"n pairs", {"n_pairs"}},
                                       {"Diff. (pp)", {"diff_mean"}},
                                       {"95% CI (pp)", {"diff_ci_low", "diff_ci_high"}}});
  for (const auto& s : data_.strategies) {
    if (s == baseline_) continue;
    std::vector<std::size_t> n;
    difference.push_back(difference_curve(s, data_.test_acc[s], data_.test_acc[baseline_], n));
    const Curve& c = difference.back();
    for (std::size_t i = 0; i < c.x.size(); ++i) {
      const bool band = n[i] > 1;
      by_step.row({{s, {s}},
                   {fixed(c.x[i], 0), {fixed(c.x[i], 0)}},
                   {std::to_string(n[i]), {std::to_string(n[i])}},
                   {fixed(c.mean[i], 2), {full(c.mean[i] / 100)}},
                   {"", band ? std::vector<std::string>{full(c.lower[i] / 100), full(c.upper[i] / 100)}
                             : std::vector<std::string>{}}});
    }
  }
  if (!difference.empty()) {
    folder_->csv(by_step);
  }
  if (!figures_.available()) {
    doc().paragraph("Figures were skipped: gnuplot could not be run (`" + o_.gnuplot_command +
                   "`). Install gnuplot (Debian: gnuplot-nox) and rerun the report; the tables above are complete.");
    summary_.warnings.push_back("figures skipped: gnuplot could not be run (`" + o_.gnuplot_command +
                                " --version` failed)");
    return;
  }
  doc().paragraph("Drawn by " + figures_.version() + " (" + figures_.terminal() + " and svg terminals). The paired "
                 "difference figures show, at each evaluated step, each strategy minus `" + baseline_ +
                 "` on the same seed: the mean over seeds with its 95% t band (a band that leaves the zero line is a "
                 "difference at that step, before any correction for the many steps). The accuracy and variance "
                 "figures show each strategy's mean with +-1 standard deviation over seeds. Data: the curves query "
                 "(under Steps to a target accuracy) and the step-1 query (under Initial noise); the paired "
                 "differences per step, as fractions, are in `difference_by_step.csv`.");
  const std::string k = std::to_string(o_.early_steps);
  std::vector<Curve> accuracy, variance;
  for (const auto& s : data_.strategies) {
    accuracy.push_back(spread_curve(s, data_.test_acc[s], 100.0));
    variance.push_back(spread_curve(s, data_.feature_variance[s], 1.0));
  }
  if (!difference.empty()) {
    Axes all{"Paired difference to " + baseline_ + " (mean, 95% t band over seeds)", "Training step",
             "Test accuracy difference (pp)", std::nullopt};
    all.zero_line = true;
    folder_->figure("difference", "Paired difference in test accuracy to `" + baseline_ +
                                 "` vs training step, mean over seeds with its 95% t band",
               figures_.curves(o_.out_dir, "difference", all, difference));
    Axes early{"Paired difference to " + baseline_ + ", first " + k + " steps", "Training step",
               "Test accuracy difference (pp)", static_cast<double>(o_.early_steps)};
    early.zero_line = true;
    folder_->figure("difference_early", "Zoom on steps 1.." + k + ": paired difference to `" + baseline_ +
                                       "`, mean with its 95% t band",
               figures_.curves(o_.out_dir, "difference_early", early, difference));
  }
  folder_->figure("accuracy", "Test accuracy vs training step, mean over seeds with a +-1 sd band",
             figures_.curves(o_.out_dir, "accuracy",
                             {"Test accuracy (mean +- 1 sd over seeds)", "Training step", "Test accuracy (%)",
                              std::nullopt, false},
                             accuracy));
  folder_->figure("accuracy_early", "Zoom on steps 1.." + k + ": test accuracy, mean +- 1 sd",
             figures_.curves(o_.out_dir, "accuracy_early",
                             {"Test accuracy, first " + k + " steps", "Training step", "Test accuracy (%)",
                              static_cast<double>(o_.early_steps)},
                             accuracy));
  double vmin = INFINITY, vmax = 0;
  for (const auto& c : variance) {
    for (double v : c.mean) {
      vmin = std::min(vmin, v);
      vmax = std::max(vmax, v);
    }
  }
  folder_->figure("feature_variance", "Feature variance vs training step (paper Fig. 1), mean +- 1 sd",
             figures_.curves(o_.out_dir, "feature_variance",
                             {"Variance of the features X^L fed to the head", "Training step",
                              "Feature variance (mean over K features, squared units)", std::nullopt,
                              vmin > 0 && vmax / vmin > 100},
                             variance));
  std::vector<PointEstimate> noise;
  for (const auto& s : data_.strategies) {
    MeanCi m = mean_ci(values_of(data_.noise[s]));
    if (!m.mean) continue;
    std::optional<Interval> ci;
    if (m.ci) ci = Interval{100 * m.ci->lower, 100 * m.ci->upper};
    noise.push_back({s, 100 * *m.mean, ci});
  }
  folder_->figure("noise_fraction", "Noise fraction of the error energy at step 1, mean with 95% CI",
             figures_.points(o_.out_dir, "noise_fraction",
                             {"Noise fraction at step 1 (mean, 95% CI)", "Strategy",
                              "Noise fraction (% of error energy)", std::nullopt, false},
                             noise));
}

// What the selection picked, on what and at which step; the tables after it compare the picked only.
void ReportBuilder::selection_table(const Selection& selection) {
  doc().heading("Selection of the sweeps' variants");
  doc().paragraph(selection_paragraph(selection));
  Table t("selection", {{"Sweep", {"base"}},
                        {"Variant", {"variant"}},
                        {"n seeds", {"n"}},
                        {std::string(selection.on_test ? "Mean test acc. (%)" : "Mean validation acc. (%)"),
                         {"select_acc_mean"}},
                        {"Picked", {"picked"}}});
  for (const VariantChoice& c : selection.variants) {
    t.row({{c.base, {c.base}},
           {c.variant, {c.variant}, c.picked},
           {std::to_string(c.accuracy.n), {std::to_string(c.accuracy.n)}},
           {opt_pct(c.accuracy.mean), {opt_full(c.accuracy.mean)}, c.picked},
           {c.picked ? "picked" : "", {c.picked ? "1" : "0"}}});
  }
  folder_->table(t);
}

void ReportBuilder::check_options() const {
  check_comparison_options(o_.early_steps, o_.equivalence_margin, o_.select_on, o_.select_step);
  if (o_.target_accuracy && !(*o_.target_accuracy >= 0.0 && *o_.target_accuracy <= 1.0)) {
    std::ostringstream message;
    message << "report: target accuracy (--target-accuracy) " << *o_.target_accuracy
            << " is not an accuracy: expected a fraction in [0, 1]";
    throw ConfigError(message.str());
  }
  if (o_.out_dir.empty()) throw ConfigError("report: no output folder given (--out)");
}

ReportSummary ReportBuilder::run() {
  check_options();
  {
    db::Database db = db::Database::open(o_.db_path, db::OpenMode::ReadOnly);
    data_ = read_report_data(db, o_.db_path, o_.experiment, baseline_, o_.early_steps);
  }
  exp_bind_ = std::to_string(data_.experiment.id) + " (experiment '" + name() + "')";
  std::vector<std::string>& exclusions = data_.exclusions;

  // Degenerate designs, each named in the report.
  if (data_.trials_used == 0) exclusions.push_back("no finished trials: every table below is empty");
  if (data_.seeds.size() == 1) exclusions.push_back("only one seed: no intervals and no tests");
  std::optional<Selection> selection;
  if (!o_.select_on.empty()) {
    selection = select_variants(data_, o_.db_path, o_.baseline, o_.select_on, o_.select_step);
    baseline_ = selection->baseline;
  }
  const bool has_baseline =
      std::find(data_.strategies.begin(), data_.strategies.end(), baseline_) != data_.strategies.end();
  const bool baseline_swept = std::any_of(data_.strategies.begin(), data_.strategies.end(), [&](const std::string& s) {
    return s.rfind(baseline_ + "[", 0) == 0;
  });
  if (!has_baseline && baseline_swept) {
    exclusions.push_back("the baseline `" + baseline_ + "` was swept: name one of its variants with --baseline, or "
                         "pick one with --select-on validation; no comparisons");
  } else if (!has_baseline) {
    exclusions.push_back("the baseline `" + baseline_ + "` has no finished trials: no comparisons");
  }
  early_ = compare(data_.strategies, data_.early, baseline_, std::nullopt);
  final_ = compare(data_.strategies, data_.final_acc, baseline_, o_.equivalence_margin);
  for (std::string& line : unpaired_seed_exclusions({{"early speed", &early_}, {"final accuracy", &final_}}, baseline_)) {
    exclusions.push_back(std::move(line));
  }

  folder_.emplace(o_.out_dir);
  header();
  doc().heading("Exclusions and warnings");
  if (exclusions.empty()) doc().paragraph("None: every trial finished and every strategy has every seed.");
  doc().list(exclusions);
  if (selection) selection_table(*selection);
  initial_noise_table();
  early_speed_table();
  final_accuracy_table();
  equivalence_table();
  beyond_tables();
  curve_figures();

  folder_->write_documents("Report: " + name());
  summary_.files = folder_->files();
  summary_.report_md = summary_.files[0];
  summary_.report_html = summary_.files[1];
  summary_.experiment = name();
  summary_.seeds = data_.seeds.size();
  summary_.strategies = data_.strategies;
  summary_.trials_used = data_.trials_used;
  summary_.trials_excluded = data_.trials_excluded;
  summary_.figures_written = folder_->figures_written();
  std::vector<std::string> warnings = exclusions;
  warnings.insert(warnings.end(), folder_->warnings().begin(), folder_->warnings().end());
  warnings.insert(warnings.end(), summary_.warnings.begin(), summary_.warnings.end());
  summary_.warnings = warnings;
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

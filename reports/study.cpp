// The study report (see study.h): every experiment read once, compared once, then laid side by side
// and aggregated.
#include "reports/study.h"

#include "db/database.h"
#include "harness/errors.h"
#include "reports/comparison.h"
#include "reports/document.h"
#include "reports/figures.h"
#include "reports/report_data.h"
#include "reports/report_folder.h"
#include "reports/stats.h"
#include "reports/table.h"

#include <algorithm>
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

struct ExperimentResult {
  StudyEntry entry;
  ReportData data;
  std::vector<Comparison> noise, early, final_acc;
};

// One claim's aggregate over the experiments for one strategy.
struct Aggregate {
  std::string strategy;
  std::size_t experiments = 0, wins = 0, losses = 0, ties = 0, runs = 0;
  BootstrapCi iqm, poi;
};

class StudyBuilder {
 public:
  explicit StudyBuilder(const StudyOptions& o) : o_(o), figures_(o.gnuplot_command) {}
  ReportSummary run();

 private:
  void read();
  void header();
  void claims_table();
  std::vector<Aggregate> aggregate(std::vector<Comparison> ExperimentResult::*claim) const;
  void aggregate_table(const std::string& name, const std::string& what,
                       std::vector<Comparison> ExperimentResult::*claim);
  void queries();
  Document& doc() { return folder_->doc(); }

  const StudyOptions& o_;
  FigureWriter figures_;
  std::vector<ExperimentResult> results_;
  std::vector<std::string> strategies_;  // baseline first, then every other strategy of any experiment
  std::string title_;
  std::optional<ReportFolder> folder_;  // created once every experiment has been read
  ReportSummary summary_;
};

void StudyBuilder::read() {
  std::set<std::pair<std::string, std::string>> seen;
  std::set<std::string> others;
  for (const StudyEntry& e : o_.entries) {
    ExperimentResult r;
    r.entry = e;
    {
      db::Database db = db::Database::open(e.db_path, db::OpenMode::ReadOnly);
      r.data = read_report_data(db, e.db_path, e.experiment, o_.baseline, o_.early_steps);
    }
    r.entry.experiment = r.data.experiment.name;
    const auto key = std::make_pair(fs::weakly_canonical(e.db_path).string(), r.entry.experiment);
    if (!seen.insert(key).second) {
      throw ConfigError("study: experiment '" + r.entry.experiment + "' of " + e.db_path +
                        " is listed twice; each experiment counts once");
    }
    r.noise = compare(r.data.strategies, r.data.noise, o_.baseline, std::nullopt);
    r.early = compare(r.data.strategies, r.data.early, o_.baseline, std::nullopt);
    r.final_acc = compare(r.data.strategies, r.data.final_acc, o_.baseline, std::nullopt);
    for (const auto& s : r.data.strategies) {
      if (s != o_.baseline) others.insert(s);
    }
    results_.push_back(std::move(r));
  }
  strategies_.push_back(o_.baseline);
  strategies_.insert(strategies_.end(), others.begin(), others.end());
  if (o_.title.empty()) {
    std::vector<std::string> names;
    for (const auto& r : results_) names.push_back(r.entry.experiment);
    title_ = join(names, " + ");
  } else {
    title_ = o_.title;
  }
}

void StudyBuilder::header() {
  doc().heading("Study: " + title_, 1);
  std::size_t runs = 0;
  std::vector<std::string> lines;
  std::vector<std::string> exclusions;
  for (const auto& r : results_) {
    const ExperimentRow& e = r.data.experiment;
    runs += r.data.seeds.size();
    lines.push_back("`" + e.name + "` in `" + r.entry.db_path + "`: " + std::to_string(r.data.seeds.size()) +
                    " seeds, " + std::to_string(r.data.strategies.size()) + " strategies, " +
                    std::to_string(r.data.trials_used) + " finished trials used, " +
                    std::to_string(r.data.trials_excluded) + " excluded; LibTorch " + e.torch_version + ", " +
                    e.device + ", git `" + e.git_revision + "`");
    for (const auto& x : r.data.exclusions) exclusions.push_back("`" + e.name + "`: " + x);
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
  doc().heading("Exclusions and warnings");
  if (exclusions.empty()) doc().paragraph("None: every trial of every experiment finished.");
  doc().list(exclusions);
  summary_.warnings = exclusions;
}

void StudyBuilder::claims_table() {
  const std::string k = std::to_string(o_.early_steps);
  doc().heading("The three claims per experiment");
  doc().paragraph("Each strategy minus `" + o_.baseline + "` on the same seeds, in percentage points: the noise "
                 "fraction of the error energy at step 1 (claim 1, lower is less noise), the mean test accuracy "
                 "over steps 1.." + k + " (claim 2, early speed) and the test accuracy at the last evaluated step "
                 "(claim 3). Mean paired difference, 95% t interval, Holm-adjusted paired t p within the "
                 "experiment; **bold**: significant at 0.05 after Holm.");
  Table t("study_claims", {{"Experiment", {"experiment", "db"}},
                           {"Strategy", {"strategy"}},
                           {"n pairs", {"n_pairs"}},
                           {"Noise diff. (pp)", {"noise_diff_mean", "noise_diff_ci_low", "noise_diff_ci_high"}},
                           {"Holm p", {"noise_p_holm", "noise_significant"}},
                           {"Early diff. (pp)", {"early_diff_mean"}},
                           {"95% CI (pp)", {"early_diff_ci_low", "early_diff_ci_high"}},
                           {"Holm p", {"early_p_holm", "early_significant"}},
                           {"Final diff. (pp)", {"final_diff_mean"}},
                           {"95% CI (pp)", {"final_diff_ci_low", "final_diff_ci_high"}},
                           {"Holm p", {"final_p_holm", "final_significant"}}});
  for (const auto& r : results_) {
    for (const auto& s : strategies_) {
      const Comparison* n = find(r.noise, s);
      const Comparison* e = find(r.early, s);
      const Comparison* f = find(r.final_acc, s);
      if (!n || !e || !f) continue;
      std::vector<std::string> noise_csv = {opt_full(n->t.mean_diff)};
      for (auto& v : ci_csv(n->t.ci)) noise_csv.push_back(v);
      t.row({{r.entry.experiment, {r.entry.experiment, r.entry.db_path}},
             {s, {s}},
             {std::to_string(f->t.n), {std::to_string(f->t.n)}},
             {opt_diff(n->t.mean_diff), noise_csv, n->significant},
             {p_text(n->p_holm), {opt_full(n->p_holm), n->significant ? "1" : "0"}},
             {opt_diff(e->t.mean_diff), {opt_full(e->t.mean_diff)}, e->significant},
             {pct_ci(e->t.ci), ci_csv(e->t.ci), e->significant},
             {p_text(e->p_holm), {opt_full(e->p_holm), e->significant ? "1" : "0"}},
             {opt_diff(f->t.mean_diff), {opt_full(f->t.mean_diff)}, f->significant},
             {pct_ci(f->t.ci), ci_csv(f->t.ci), f->significant},
             {p_text(f->p_holm), {opt_full(f->p_holm), f->significant ? "1" : "0"}}});
    }
  }
  folder_->table(t);
}

std::vector<Aggregate> StudyBuilder::aggregate(std::vector<Comparison> ExperimentResult::*claim) const {
  std::vector<Aggregate> out;
  for (const auto& s : strategies_) {
    if (s == o_.baseline) continue;
    Aggregate a;
    a.strategy = s;
    PairedStrata strata;
    for (const auto& r : results_) {
      const Comparison* c = find(r.*claim, s);
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
    folder_->figure("forest_" + name, "Forest plot: " + what + ", IQM of the paired differences to `" + o_.baseline +
                                     "` over every (experiment, seed) run with its 95% stratified bootstrap "
                                     "interval; filled: the interval excludes 0",
               figures_.forest(o_.out_dir, "forest_" + name, axes, rows, "interval excludes 0",
                               "interval includes 0"));
  }
}

void StudyBuilder::queries() {
  doc().heading("The SQL behind the tables");
  std::vector<std::string> binds;
  for (const auto& r : results_) {
    binds.push_back("`" + r.entry.db_path + "`: ?1 = " + std::to_string(r.data.experiment.id) + " (experiment '" +
                    r.entry.experiment + "')");
  }
  doc().paragraph("Each experiment's database is read with the queries of a single report, bound as follows; "
                 "?2 of the early-speed query is " + std::to_string(o_.early_steps) + ".");
  doc().list(binds);
  doc().code(std::string(sql::kInitial) + ";\n\n" + sql::kEarly + ";\n\n" + sql::kFinal + ";");
}

ReportSummary StudyBuilder::run() {
  if (o_.entries.empty()) throw ConfigError("study: no experiments given");
  check_comparison_options(o_.early_steps, std::nullopt, "", 0);
  if (o_.out_dir.empty()) throw ConfigError("report: no output folder given (--out)");
  read();
  folder_.emplace(o_.out_dir);
  header();
  claims_table();
  doc().heading("Across the experiments");
  aggregate_table("study_early", "Early speed (mean acc. steps 1.." + std::to_string(o_.early_steps) + ")",
                  &ExperimentResult::early);
  aggregate_table("study_final", "Final accuracy", &ExperimentResult::final_acc);
  if (!figures_.available()) {
    doc().paragraph("Figures were skipped: gnuplot could not be run (`" + o_.gnuplot_command + "`).");
    summary_.warnings.push_back("figures skipped: gnuplot could not be run");
  }
  queries();
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

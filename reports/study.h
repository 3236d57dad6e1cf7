// A study report: several experiments (from one or several databases) side by side, each strategy
// against the baseline per experiment, and aggregated over all (experiment, seed) runs as rliable
// does (Agarwal et al. 2021): wins / losses / ties after Holm, the interquartile mean of the paired
// differences with a stratified bootstrap interval, and the probability of improvement. On request
// also the paired TOST, the selection of sweeps' variants, the mean accuracy at chosen steps and
// the means of per-step measurements, each experiment in its own rows.
#pragma once

#include "reports/report.h"
#include "reports/study_data.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace harness::reports {

struct StudyEntry {
  std::string db_path;
  std::string experiment;  // empty: the database's only experiment
};

struct StudyOptions {
  std::string title;  // "Study: TITLE"; default: the experiments' names joined
  std::vector<StudyEntry> entries;
  std::string baseline = "he_base";
  std::string out_dir;
  int early_steps = 10;
  // As ReportOptions: the paired TOST of the final accuracy within +-margin (a fraction), per
  // experiment, Holm across that experiment's strategies.
  std::optional<double> equivalence_margin;
  // As ReportOptions: per experiment and sweep, only the variant with the best mean accuracy on
  // this split ("validation" or "test") at select_step (0: the last evaluated step) is compared;
  // across experiments a sweep's picked variants count as one strategy, its base name.
  std::string select_on;
  int64_t select_step = 0;
  // Mean test accuracy at these steps (ascending) over each experiment's complete seeds, and the
  // paired difference to the baseline at the last of them. Empty: no such table.
  std::vector<int64_t> at_steps;
  // Means of per-step measurements (columns of `steps`) at their steps over the complete seeds.
  std::vector<Measurement> dynamics;
  std::vector<std::string> dynamics_strategies;  // rows of that table; empty: every strategy
  uint64_t bootstrap_seed = 0;
  std::size_t bootstrap_resamples = 10000;
  std::string gnuplot_command = "gnuplot";
};

// A study file: one experiment per line, "DATABASE [EXPERIMENT]"; '#' starts a comment, blank
// lines are skipped; a relative DATABASE is relative to the study file's folder. Throws
// ConfigError naming the file and line for a malformed line, a missing database or an empty file.
std::vector<StudyEntry> read_study_file(const std::string& path);

// Writes report.md, report.html, one CSV per table (study_status, study_claims,
// study_initial_noise, study_early_speed, study_final_accuracy, study_early, study_final; with
// the options also study_selection, study_equivalence, study_at_steps, study_dynamics) and the
// aggregate forest plots into out_dir. Throws as write_report does, per experiment, and
// ConfigError for no experiment, the same experiment twice, bad options, a --dynamics column
// that is not a measurement of a database or a --dynamics-strategies name no experiment has.
ReportSummary write_study_report(const StudyOptions& options);

}  // namespace harness::reports

// A study report: several experiments (from one or several databases) side by side, each strategy
// against the baseline per experiment, and aggregated over all (experiment, seed) runs as rliable
// does (Agarwal et al. 2021): wins / losses / ties after Holm, the interquartile mean of the paired
// differences with a stratified bootstrap interval, and the probability of improvement.
#pragma once

#include "reports/report.h"

#include <cstdint>
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
  uint64_t bootstrap_seed = 0;
  std::size_t bootstrap_resamples = 10000;
  std::string gnuplot_command = "gnuplot";
};

// A study file: one experiment per line, "DATABASE [EXPERIMENT]"; '#' starts a comment, blank
// lines are skipped; a relative DATABASE is relative to the study file's folder. Throws
// ConfigError naming the file and line for a malformed line, a missing database or an empty file.
std::vector<StudyEntry> read_study_file(const std::string& path);

// Writes report.md, report.html, study_claims.csv, study_early.csv, study_final.csv and the
// aggregate forest plots into out_dir. Throws as write_report does, per experiment, and ConfigError
// for fewer than one experiment, the same experiment twice, or no experiment with the baseline.
ReportSummary write_study_report(const StudyOptions& options);

}  // namespace harness::reports

// `harness report`: the paper's tables, statistics and figures of one experiment of a results database.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace harness::reports {

struct ReportOptions {
  std::string db_path;
  std::string experiment;  // empty: the database's only experiment (ConfigError if it holds several)
  std::string baseline = "he_base";
  std::string out_dir;
  int early_steps = 10;                   // Table 3: mean test accuracy over steps 1..early_steps
  std::optional<double> target_accuracy;  // steps-to-target, in [0, 1]; default 90% of the baseline's final mean
  // Paired TOST of the final accuracy against the baseline within +-margin (a fraction: 0.01 is
  // 1 percentage point); none: the report says how to ask for it.
  std::optional<double> equivalence_margin;
  uint64_t bootstrap_seed = 0;
  // Sweeps (labels "BASE[key=value;...]"): pick per BASE the variant with the best mean accuracy
  // on this split ("validation", or "test", which the report labels as peeking) at select_step
  // (0: each trial's last evaluated step), and compare only the picked variants. Empty: every
  // variant is a strategy of its own.
  std::string select_on;
  int64_t select_step = 0;
  std::string gnuplot_command = "gnuplot";  // figures are skipped when it cannot be run
};

// What write_report wrote, for the CLI to print.
struct ReportSummary {
  std::string experiment;   // the experiment reported on
  std::string report_md;    // path of report.md
  std::string report_html;  // path of report.html
  std::vector<std::string> files;  // every file written, report.md first
  std::size_t seeds = 0;           // distinct seeds among the finished trials
  std::vector<std::string> strategies;  // baseline first
  std::size_t trials_used = 0;
  std::size_t trials_excluded = 0;
  bool figures_written = false;
  std::vector<std::string> warnings;  // exclusions and skipped parts, one line each

  // A few lines: where the report is, what it covers, what was excluded.
  std::string describe() const;
};

// Reads the database read-only and writes into out_dir (created if needed):
// report.md, report.html (self-contained, figures inline), one CSV per table and
// each figure as PNG and SVG.
// Throws DbError when the database cannot be opened, ConfigError for an unknown
// experiment or baseline (listing what exists) or bad options, and
// std::filesystem::filesystem_error / DataError when out_dir cannot be written.
ReportSummary write_report(const ReportOptions& options);

}  // namespace harness::reports

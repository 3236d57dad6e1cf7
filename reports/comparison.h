// Paired comparisons of every strategy with the baseline on one per-seed value: the tests, Holm
// across the strategies, and the equivalence test. Tables and figures read these, computed once.
#pragma once

#include "reports/report_data.h"
#include "reports/stats.h"
#include "reports/table.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace harness::reports {

inline constexpr double kAlpha = 0.05;

struct Comparison {
  std::string strategy;
  Pairs pairs;
  TTestResult t;
  WilcoxonResult wilcoxon;
  std::optional<double> p_holm;
  bool significant = false;  // Holm-adjusted paired t p < kAlpha
  std::optional<TostResult> tost;
  std::optional<double> tost_p_holm;
  bool equivalent = false;  // Holm-adjusted TOST p < kAlpha (zero variance: the value inside the margin)
};

// Every strategy of `strategies` but the baseline, in that order; Holm across them.
std::vector<Comparison> compare(const std::vector<std::string>& strategies, const ByStrategy& values,
                                const std::string& baseline, std::optional<double> margin);

// The options every report's comparisons take, checked before anything is read: early_steps >= 1,
// a margin in (0, 1) (a fraction: 0.01 is 1 pp), select_on empty, "validation" or "test", a
// select_step >= 0. Throws ConfigError naming the command-line option.
void check_comparison_options(int early_steps, std::optional<double> equivalence_margin, const std::string& select_on,
                              int64_t select_step);

const Comparison* find(const std::vector<Comparison>& comparisons, const std::string& strategy);

// The note under a table of `comparisons`: each comparison whose Wilcoxon cannot give p < kAlpha with
// its differences (WilcoxonResult::min_p, so the note and the table's p come from one result), with the
// number of non-zero differences the test used and its method; nothing when every one can.
std::optional<std::string> wilcoxon_small_sample_note(const std::vector<Comparison>& comparisons);

// The paired TOST of a comparison with an equivalence margin (a fraction), as the columns after the
// strategy's of an equivalence table and one row's entries for them: n pairs, difference, 90% CI,
// both one-sided p, TOST p, Holm p, verdict. The experiment report's `equivalence` table and the
// study's `study_equivalence` are built from these.
std::vector<Column> tost_columns(const std::string& diff_header);
std::vector<Entry> tost_entries(const Comparison& c, double margin);

// One table's comparisons and its name in messages ("early speed").
struct ComparisonTable {
  std::string name;
  const std::vector<Comparison>* comparisons = nullptr;
};
// The exclusion lines for the seeds these tables leave out of their pairs: one line per strategy when
// every table leaves out the same seeds, otherwise one per table, naming it.
std::vector<std::string> unpaired_seed_exclusions(const std::vector<ComparisonTable>& tables,
                                                  const std::string& baseline);

}  // namespace harness::reports

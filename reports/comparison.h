// Paired comparisons of every strategy with the baseline on one per-seed value: the tests, Holm
// across the strategies, and the equivalence test. Tables and figures read these, computed once.
#pragma once

#include "reports/report_data.h"
#include "reports/stats.h"

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

const Comparison* find(const std::vector<Comparison>& comparisons, const std::string& strategy);

}  // namespace harness::reports

// Selection without peeking: per sweep (labels "BASE[key=value;...]"), the variant with the best
// mean accuracy on the validation split (or, by name and labelled so, on the test split) is kept,
// the others dropped before any comparison. The experiment report and the study report both use it.
#pragma once

#include "reports/report_data.h"
#include "reports/stats.h"

#include <cstdint>
#include <string>
#include <vector>

namespace harness::reports {

// "mei[lr=1e-3]" -> "mei"; a label without a sweep is its own base.
std::string base_of(const std::string& label);

struct VariantChoice {
  std::string base, variant;
  MeanCi accuracy;  // on the split selected on, over the finished seeds
  bool picked = false;
};

struct Selection {
  bool on_test = false;
  int64_t step = 0;      // 0: each trial's last evaluated step
  std::string baseline;  // the baseline, or its picked variant when it was swept
  std::vector<VariantChoice> variants;  // every swept variant, by sweep and then label
};

// Picks per sweep and removes every variant not picked from data.strategies (the baseline, or
// its picked variant, first). `on` is "validation" or "test". Throws ConfigError naming the
// database and experiment when selecting on validation without validation values, or when a
// sweep has no accuracy at the step to select on.
Selection select_variants(ReportData& data, const std::string& db_path, const std::string& baseline,
                          const std::string& on, int64_t step);

// What the selection did and why it can (validation) or cannot (test) be trusted, for the report.
std::string selection_paragraph(const Selection& selection);

}  // namespace harness::reports

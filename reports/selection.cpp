// Per-sweep selection of variants (see selection.h).
#include "reports/selection.h"

#include "harness/errors.h"

#include <algorithm>
#include <map>
#include <set>

namespace harness::reports {
namespace {

std::string step_text(int64_t step) {
  return step > 0 ? "step " + std::to_string(step) : "the last evaluated step";
}

// The variant's values on the split selected on: at `step`, or each trial's last evaluation.
std::vector<double> selection_values(const ByStrategy& final_values, const SeriesByStrategy& series,
                                     const std::string& variant, int64_t step) {
  std::vector<double> values;
  if (step > 0) {
    auto it = series.find(variant);
    if (it == series.end()) return values;
    for (const auto& [seed, steps] : it->second) {
      auto at = steps.find(step);
      if (at != steps.end()) values.push_back(at->second);
    }
    return values;
  }
  auto it = final_values.find(variant);
  if (it != final_values.end()) values = values_of(it->second);
  return values;
}

}  // namespace

std::string base_of(const std::string& label) { return label.substr(0, label.find('[')); }

Selection select_variants(ReportData& data, const std::string& db_path, const std::string& baseline,
                          const std::string& on, int64_t step) {
  Selection selection;
  selection.on_test = on == "test";
  selection.step = step;
  selection.baseline = baseline;
  const std::string& name = data.experiment.name;
  if (!selection.on_test && data.val_acc.empty()) {
    throw ConfigError(db_path + ": --select-on validation, but experiment '" + name +
                      "' recorded no validation accuracy" +
                      (data.has_validation_column ? std::string("") : " (its database predates schema version 2)") +
                      "; run it with [data] validation_fraction > 0, or select on test by name (--select-on test)");
  }
  const ByStrategy& final_values = selection.on_test ? data.final_acc : data.final_val_acc;
  const SeriesByStrategy& series = selection.on_test ? data.test_acc : data.val_acc;
  std::map<std::string, std::vector<std::string>> sweeps;  // base -> variants, in label order
  for (const auto& s : data.strategies) {
    if (s.find('[') != std::string::npos) sweeps[base_of(s)].push_back(s);
  }
  std::set<std::string> dropped;
  for (const auto& [base, variants] : sweeps) {
    std::vector<VariantChoice> choices;
    std::size_t best = variants.size();
    for (const auto& v : variants) {
      VariantChoice c{base, v, mean_ci(selection_values(final_values, series, v, step))};
      if (c.accuracy.mean && (best == variants.size() || *c.accuracy.mean > *choices[best].accuracy.mean)) {
        best = choices.size();
      }
      choices.push_back(std::move(c));
    }
    if (best == variants.size()) {
      throw ConfigError(db_path + ": experiment '" + name + "', sweep '" + base + "' has no " +
                        (selection.on_test ? "test" : "validation") + " accuracy at " + step_text(step) +
                        " to select on");
    }
    choices[best].picked = true;
    for (const auto& c : choices) {
      if (!c.picked) dropped.insert(c.variant);
    }
    if (base == baseline) selection.baseline = choices[best].variant;
    selection.variants.insert(selection.variants.end(), choices.begin(), choices.end());
  }
  std::vector<std::string> kept;
  for (const auto& s : data.strategies) {
    if (!dropped.count(s)) kept.push_back(s);
  }
  // The baseline (possibly the picked variant of it) first, as everywhere in a report.
  std::stable_partition(kept.begin(), kept.end(), [&](const std::string& s) { return s == selection.baseline; });
  data.strategies = kept;
  return selection;
}

std::string selection_paragraph(const Selection& selection) {
  if (selection.on_test) {
    return "**Selected on the TEST split** (--select-on test): each sweep's variant was picked by its mean test "
           "accuracy at " + step_text(selection.step) + ", and the same test split is compared below, so the picked "
           "variants' differences are optimistically biased (Dodge et al. 2019). Select on validation for an honest "
           "comparison.";
  }
  return "Each sweep's variant was picked by its mean validation accuracy at " + step_text(selection.step) +
         " over the finished seeds (the validation split is carved out of the training split; the test split "
         "played no part in the choice); the tables below compare the picked variants on the test split.";
}

}  // namespace harness::reports

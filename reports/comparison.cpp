// Paired comparisons against the baseline (see comparison.h).
#include "reports/comparison.h"

#include "harness/errors.h"

#include <sstream>

namespace harness::reports {

std::vector<Comparison> compare(const std::vector<std::string>& strategies, const ByStrategy& values,
                                const std::string& baseline, std::optional<double> margin) {
  std::vector<Comparison> out;
  static const BySeed kNone;
  auto of = [&](const std::string& s) -> const BySeed& {
    auto it = values.find(s);
    return it == values.end() ? kNone : it->second;
  };
  const BySeed& base = of(baseline);
  std::vector<std::optional<double>> raw, raw_tost;
  for (const auto& s : strategies) {
    if (s == baseline) continue;
    Comparison c;
    c.strategy = s;
    c.pairs = pair_up(of(s), base);
    c.t = paired_t_test(c.pairs.strategy, c.pairs.baseline);
    c.wilcoxon = wilcoxon_signed_rank(c.pairs.strategy, c.pairs.baseline);
    raw.push_back(c.t.p);
    if (margin) {
      c.tost = paired_tost(c.pairs.strategy, c.pairs.baseline, *margin, kAlpha);
      raw_tost.push_back(c.tost->p);
    }
    out.push_back(std::move(c));
  }
  std::vector<std::optional<double>> adjusted = holm_adjust(raw);
  std::vector<std::optional<double>> adjusted_tost = holm_adjust(raw_tost);
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i].p_holm = adjusted[i];
    out[i].significant = adjusted[i] && *adjusted[i] < kAlpha;
    if (out[i].tost) {
      out[i].tost_p_holm = adjusted_tost[i];
      out[i].equivalent = out[i].tost->p ? (adjusted_tost[i] && *adjusted_tost[i] < kAlpha) : out[i].tost->equivalent;
    }
  }
  return out;
}

void check_comparison_options(int early_steps, std::optional<double> equivalence_margin, const std::string& select_on,
                              int64_t select_step) {
  if (early_steps < 1) {
    throw ConfigError("report: early_steps = " + std::to_string(early_steps) + ", expected >= 1");
  }
  if (equivalence_margin && !(*equivalence_margin > 0.0 && *equivalence_margin < 1.0)) {
    std::ostringstream message;
    message << "report: equivalence margin (--equivalence-margin) " << 100 * *equivalence_margin
            << " pp is not a margin: expected a number of percentage points in (0, 100)";
    throw ConfigError(message.str());
  }
  if (!select_on.empty() && select_on != "validation" && select_on != "test") {
    throw ConfigError("report: --select-on '" + select_on + "': expected validation or test");
  }
  if (select_step < 0) throw ConfigError("report: --select-step " + std::to_string(select_step) + ": expected >= 1");
}

const Comparison* find(const std::vector<Comparison>& cs, const std::string& strategy) {
  for (const auto& c : cs) {
    if (c.strategy == strategy) return &c;
  }
  return nullptr;
}

}  // namespace harness::reports

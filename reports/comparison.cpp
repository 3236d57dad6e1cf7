// Paired comparisons against the baseline (see comparison.h).
#include "reports/comparison.h"

#include "harness/errors.h"
#include "reports/table.h"

#include <algorithm>
#include <map>
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

std::optional<std::string> wilcoxon_small_sample_note(const std::vector<Comparison>& comparisons) {
  std::vector<std::string> parts;
  for (const Comparison& c : comparisons) {
    const WilcoxonResult& w = c.wilcoxon;
    if (!w.p || !w.min_p || !w.method || *w.min_p < kAlpha) continue;
    std::string part = "`" + c.strategy + "` (" + std::to_string(w.n_nonzero) + " non-zero difference" +
                       (w.n_nonzero == 1 ? "" : "s");
    if (w.n_zero > 0) part += " of " + std::to_string(w.n) + " pairs";
    if (*w.method == WilcoxonMethod::Exact) {
      part += ", exact test: smallest p 2/2^" + std::to_string(w.n_nonzero) + " = " + fixed(*w.min_p, 4) + ")";
    } else {
      const std::string why = w.n_zero > 0 && w.ties ? "zeros and ties" : w.n_zero > 0 ? "zeros" : "ties";
      part += ", normal approximation (" + why + "): smallest p " + fixed(*w.min_p, 4) + ")";
    }
    parts.push_back(part);
  }
  if (parts.empty()) return std::nullopt;
  return "With these pairs a two-sided Wilcoxon signed-rank test cannot give p < " + fixed(kAlpha, 2) + " for " +
         join(parts, ", ") + ": a Wilcoxon p above " + fixed(kAlpha, 2) + " there says nothing about the effect.";
}

std::vector<std::string> unpaired_seed_exclusions(const std::vector<ComparisonTable>& tables,
                                                  const std::string& baseline) {
  // Per strategy, in the order first met: the tables it appears in and what each leaves out.
  struct Gap {
    std::string table;
    std::size_t pairs = 0;
    std::vector<int64_t> unpaired;
  };
  std::vector<std::string> order;
  std::map<std::string, std::vector<Gap>> gaps;
  for (const ComparisonTable& t : tables) {
    for (const Comparison& c : *t.comparisons) {
      if (!gaps.count(c.strategy)) order.push_back(c.strategy);
      gaps[c.strategy].push_back({t.name, c.pairs.seeds.size(), c.pairs.unpaired});
    }
  }
  std::vector<std::string> lines;
  for (const std::string& strategy : order) {
    const std::vector<Gap>& g = gaps.at(strategy);
    const bool same_everywhere = std::all_of(g.begin(), g.end(), [&](const Gap& x) {
      return x.unpaired == g.front().unpaired && x.pairs == g.front().pairs;
    });
    for (const Gap& x : g) {
      if (x.unpaired.empty()) continue;
      lines.push_back("`" + strategy + "` vs `" + baseline + "`" + (same_everywhere ? "" : " (" + x.table + ")") +
                      ": " + std::to_string(x.pairs) + " pairs formed; seeds without a pair (one of the two missing): " +
                      seeds_text(x.unpaired));
      if (same_everywhere) break;
    }
  }
  return lines;
}

std::vector<Column> tost_columns(const std::string& diff_header) {
  return {{"n pairs", {"n_pairs", "margin"}},
          {diff_header, {"diff_mean"}},
          {"90% CI (pp)", {"ci90_low", "ci90_high"}},
          {"p lower", {"t_lower", "p_lower"}},
          {"p upper", {"t_upper", "p_upper"}},
          {"TOST p", {"p_tost"}},
          {"Holm p", {"p_holm"}},
          {"Verdict", {"equivalent"}}};
}

std::vector<Entry> tost_entries(const Comparison& c, double margin) {
  const TostResult& r = *c.tost;
  std::string verdict = c.equivalent ? "equivalent within +-" + fixed(100 * margin, 2) + " pp" : "not shown";
  if (!r.note.empty()) verdict += " (" + r.note + ")";
  return {{std::to_string(r.n), {std::to_string(r.n), full(margin)}},
          {opt_diff(r.mean_diff), {opt_full(r.mean_diff)}},
          {pct_ci(r.ci), ci_csv(r.ci)},
          {p_text(r.p_lower), {opt_full(r.t_lower), opt_full(r.p_lower)}},
          {p_text(r.p_upper), {opt_full(r.t_upper), opt_full(r.p_upper)}},
          {p_text(r.p), {opt_full(r.p)}},
          {p_text(c.tost_p_holm), {opt_full(c.tost_p_holm)}},
          {verdict, {c.equivalent ? "1" : "0"}, c.equivalent}};
}

}  // namespace harness::reports

// Tests of reports/stats.cpp: hundreds of generated cases against scipy, plus the degenerate inputs.
#include "reports/stats.h"

#include "tests/reports/scipy_oracle.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cmath>
#include <random>
#include <set>

namespace harness::reports {
namespace {

using nlohmann::json;
using testing::scipy_answers;

constexpr double kRelTol = 1e-9;
constexpr double kAbsTol = 1e-12;

::testing::AssertionResult close(double got, double want, const std::string& what) {
  double diff = std::fabs(got - want);
  if (diff <= kAbsTol || diff <= kRelTol * std::fabs(want)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << what << ": got " << got << ", scipy " << want << " (diff " << diff << ")";
}

::testing::AssertionResult close_opt(const std::optional<double>& got, const json& want, const std::string& what) {
  if (want.is_null()) {
    if (!got) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << what << ": got " << *got << ", scipy undefined";
  }
  if (!got) return ::testing::AssertionFailure() << what << ": undefined here, scipy " << want.get<double>();
  return close(*got, want.get<double>(), what);
}

// Values on a coarse grid so that ties and zero differences occur, as with test accuracies.
std::vector<double> draw(std::mt19937_64& gen, std::size_t n, double shift, double sd, double grid) {
  std::normal_distribution<double> normal(shift, sd);
  std::vector<double> v(n);
  for (auto& x : v) {
    x = normal(gen);
    if (grid > 0) x = std::round(x / grid) * grid;
  }
  return v;
}

// scipy 1.10's raw t.interval carries its t quantile's ~4e-9 relative error (see
// scipy_reference.py): checked to 1e-9 absolute on these accuracy-scale values.
::testing::AssertionResult close_raw(const Interval& got, const json& raw, const std::string& what) {
  constexpr double kRawAbsTol = 1e-9;
  double lo = raw[0].get<double>();
  double hi = raw[1].get<double>();
  if (std::fabs(got.lower - lo) <= kRawAbsTol && std::fabs(got.upper - hi) <= kRawAbsTol) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << what << ": [" << got.lower << ", " << got.upper << "] vs raw scipy [" << lo
                                       << ", " << hi << "]";
}

std::vector<double> to_vec(const json& j) { return j.get<std::vector<double>>(); }

json generate_cases() {
  json cases;
  std::mt19937_64 gen(20261122);
  std::uniform_int_distribution<int> small_n(2, 12);
  std::uniform_int_distribution<int> any_n(2, 70);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  cases = json::object();
  cases["mean_ci"] = json::array();
  cases["paired"] = json::array();
  cases["welch"] = json::array();
  cases["holm"] = json::array();
  cases["power"] = json::array();
  cases["quantile"] = json::array();
  cases["tost"] = json::array();
  for (int i = 0; i < 300; ++i) {
    std::size_t n = static_cast<std::size_t>(i % 3 == 0 ? small_n(gen) : any_n(gen));
    if (i % 25 == 0) n = 2;
    // A third on a coarse grid (ties and zeros), the rest continuous.
    double grid = i % 3 == 1 ? 1.0 / 64 : 0.0;  // a binary fraction: exact differences
    double sd = 0.02 + 0.1 * unit(gen);
    double shift = (unit(gen) - 0.5) * 0.1;
    std::vector<double> x = draw(gen, n, 0.8, sd, grid);
    std::vector<double> noise = draw(gen, n, shift, sd * unit(gen), grid);
    std::vector<double> y(n);
    for (std::size_t k = 0; k < n; ++k) y[k] = x[k] + noise[k];  // on the grid too when gridded
    if (i % 7 == 0) y[0] = x[0];  // an explicit zero difference
    cases["mean_ci"].push_back({{"x", x}});
    cases["paired"].push_back({{"x", x}, {"y", y}});
    // Margins from well inside to well outside the spread, so both verdicts occur.
    cases["tost"].push_back({{"x", x}, {"y", y}, {"margin", std::array<double, 4>{0.005, 0.02, 0.05, 0.2}[i % 4]}});
    std::vector<double> z = draw(gen, static_cast<std::size_t>(any_n(gen)), 0.8 + shift, 2 * sd, grid);
    cases["welch"].push_back({{"x", x}, {"y", z}});
    std::size_t m = 1 + static_cast<std::size_t>(unit(gen) * 8);
    json p = json::array();
    for (std::size_t k = 0; k < m; ++k) {
      double v = std::pow(unit(gen), 3);
      if (k == 1 && i % 4 == 0) p.push_back(nullptr);
      else if (k == 2 && i % 5 == 0) p.push_back(p[0]);  // tied p-values
      else p.push_back(v);
    }
    cases["holm"].push_back({{"p", p}});
    cases["quantile"].push_back({{"x", x}, {"q", {0.0, 0.025, 0.5, 0.975, 1.0}}});
  }
  // Studies: 1-4 experiments of 2-10 paired seeds, a quarter on a coarse grid (ties for the U).
  cases["aggregate"] = json::array();
  for (int i = 0; i < 16; ++i) {
    json strata = json::array();
    const int experiments = 1 + i % 4;
    for (int e = 0; e < experiments; ++e) {
      const std::size_t n = static_cast<std::size_t>(2 + (i * 7 + e * 3) % 9);
      const double grid = i % 4 == 1 ? 1.0 / 32 : 0.0;
      std::vector<double> y = draw(gen, n, 0.8, 0.05, grid);
      std::vector<double> shift = draw(gen, n, (unit(gen) - 0.4) * 0.05, 0.03, grid);
      json stratum = json::array();
      for (std::size_t k = 0; k < n; ++k) stratum.push_back({y[k] + shift[k], y[k]});
      strata.push_back(stratum);
    }
    cases["aggregate"].push_back({{"strata", strata}, {"seed", 1000 + i}, {"resamples", 400}});
  }
  // Wilcoxon on accuracies of decimal steps: differences equal in exact arithmetic (0.3 - 0.2 and
  // 0.2 - 0.1) are not equal in floating point; scipy gets the exact differences (rounded to 10
  // decimals), this side the floating-point values.
  cases["wilcoxon_near_ties"] = json::array();
  cases["wilcoxon_near_ties"].push_back({{"x", {0.3, 0.2, 0.7, 0.55}}, {"y", {0.2, 0.1, 0.63, 0.5}}});
  cases["wilcoxon_near_ties"].push_back({{"x", {0.95, 0.96, 0.2, 0.71, 0.64}}, {"y", {0.85, 0.86, 0.1, 0.66, 0.61}}});
  // A zero difference as two summation orders of one mean give it: 0.1 + 0.2 + 0.3 against 0.3 + 0.2 + 0.1.
  cases["wilcoxon_near_ties"].push_back(
      {{"x", {(0.1 + 0.2 + 0.3) / 3, 0.91, 0.62, 0.77, 0.85}}, {"y", {(0.3 + 0.2 + 0.1) / 3, 0.84, 0.6, 0.72, 0.81}}});
  {
    std::uniform_int_distribution<int> percent(40, 99);
    std::uniform_int_distribution<int> gain(-20, 40);
    std::uniform_int_distribution<int> pairs(4, 12);
    for (int i = 0; i < 40; ++i) {
      const std::size_t n = static_cast<std::size_t>(pairs(gen));
      std::vector<double> x(n), y(n);
      for (std::size_t k = 0; k < n; ++k) {
        const int b = percent(gen);
        y[k] = b / 100.0;
        x[k] = std::min(100, b + gain(gen)) / 100.0;
      }
      cases["wilcoxon_near_ties"].push_back({{"x", x}, {"y", y}});
    }
  }
  for (double d : {0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, -0.7}) {
    cases["power"].push_back({{"d_z", d}, {"n", {2, 3, 5, 10, 50, 200}}});
  }
  return cases;
}

void check_MeanCiMatchesTInterval(const json& cases, const json& answers) {
  for (std::size_t i = 0; i < cases["mean_ci"].size(); ++i) {
    MeanCi r = mean_ci(to_vec(cases["mean_ci"][i]["x"]));
    const json& a = answers["mean_ci"][i];
    ASSERT_TRUE(r.mean);
    EXPECT_TRUE(close(*r.mean, a["mean"], "mean, case " + std::to_string(i)));
    ASSERT_FALSE(a["ci"].is_null()) << i;
    ASSERT_TRUE(r.ci) << i;
    EXPECT_TRUE(close(r.ci->lower, a["ci"][0], "ci lower, case " + std::to_string(i)));
    EXPECT_TRUE(close(r.ci->upper, a["ci"][1], "ci upper, case " + std::to_string(i)));
    EXPECT_TRUE(close_raw(*r.ci, a["ci_raw"], "raw t.interval, case " + std::to_string(i)));
  }
}

void check_PairedTTestMatchesTtestRel(const json& cases, const json& answers) {
  std::size_t compared = 0;
  for (std::size_t i = 0; i < cases["paired"].size(); ++i) {
    const json& c = cases["paired"][i];
    const json& a = answers["paired"][i];
    TTestResult r = paired_t_test(to_vec(c["x"]), to_vec(c["y"]));
    const std::string tag = ", case " + std::to_string(i);
    EXPECT_TRUE(close(*r.mean_diff, a["mean_diff"], "mean diff" + tag));
    if (a["p"].is_null() || a["ci"].is_null()) {
      EXPECT_FALSE(r.p) << "scipy undefined" << tag;
      continue;
    }
    EXPECT_TRUE(close_opt(r.t, a["t"], "t" + tag));
    EXPECT_TRUE(close_opt(r.p, a["p"], "p" + tag));
    ASSERT_TRUE(r.ci);
    EXPECT_TRUE(close(r.ci->lower, a["ci"][0], "ci lower" + tag));
    EXPECT_TRUE(close(r.ci->upper, a["ci"][1], "ci upper" + tag));
    EXPECT_TRUE(close_raw(*r.ci, a["ci_raw"], "raw t.interval" + tag));
    EXPECT_DOUBLE_EQ(*r.df, static_cast<double>(r.n - 1));
    ++compared;
  }
  EXPECT_GT(compared, 280u);
}

void check_WilcoxonNearTiesAsInExactArithmetic(const json& cases, const json& answers) {
  std::size_t exact = 0, approx = 0, flipped = 0;
  for (std::size_t i = 0; i < cases["wilcoxon_near_ties"].size(); ++i) {
    const json& c = cases["wilcoxon_near_ties"][i];
    const json& a = answers["wilcoxon_near_ties"][i];
    const std::vector<double> x = to_vec(c["x"]), y = to_vec(c["y"]);
    const WilcoxonResult r = wilcoxon_signed_rank(x, y);
    const std::string tag = ", near-tie case " + std::to_string(i);
    EXPECT_TRUE(close_opt(r.statistic, a["w_stat"], "statistic" + tag));
    EXPECT_TRUE(close_opt(r.p, a["w_p"], "p" + tag));
    if (a["w_p"].is_null()) continue;
    ASSERT_TRUE(r.method) << tag;
    const bool scipy_exact = a["wilcoxon_method"] == "exact";
    EXPECT_EQ(*r.method == WilcoxonMethod::Exact, scipy_exact) << tag;
    (scipy_exact ? exact : approx) += 1;
    // The floating-point differences alone would have picked the other method here.
    std::vector<double> d(x.size());
    for (std::size_t k = 0; k < x.size(); ++k) d[k] = std::fabs(x[k] - y[k]);
    const std::set<double> distinct(d.begin(), d.end());
    const bool float_exact = distinct.size() == d.size() && !distinct.count(0.0) && d.size() <= kWilcoxonExactMaxN;
    flipped += float_exact != scipy_exact;
  }
  EXPECT_GT(exact, 0u);
  EXPECT_GT(approx, 20u);
  EXPECT_GE(flipped, 5u);  // two hand-made cases and some of the generated ones
}

void check_TostMatchesTwoOneSidedTtests(const json& cases, const json& answers) {
  std::size_t compared = 0, equivalent = 0;
  for (std::size_t i = 0; i < cases["tost"].size(); ++i) {
    const json& c = cases["tost"][i];
    const json& a = answers["tost"][i];
    TostResult r = paired_tost(to_vec(c["x"]), to_vec(c["y"]), c["margin"].get<double>());
    const std::string tag = ", case " + std::to_string(i);
    if (a["p"].is_null()) {
      EXPECT_FALSE(r.p) << "scipy undefined" << tag;
      continue;
    }
    EXPECT_TRUE(close_opt(r.t_lower, a["t_lower"], "t lower" + tag));
    EXPECT_TRUE(close_opt(r.t_upper, a["t_upper"], "t upper" + tag));
    EXPECT_TRUE(close_opt(r.p_lower, a["p_lower"], "p lower" + tag));
    EXPECT_TRUE(close_opt(r.p_upper, a["p_upper"], "p upper" + tag));
    EXPECT_TRUE(close_opt(r.p, a["p"], "p" + tag));
    ASSERT_TRUE(r.ci) << tag;
    EXPECT_TRUE(close(r.ci->lower, a["ci90"][0], "90% ci lower" + tag));
    EXPECT_TRUE(close(r.ci->upper, a["ci90"][1], "90% ci upper" + tag));
    // The verdict is p < 0.05, and that is the 90% interval inside the margin.
    const double margin = c["margin"].get<double>();
    EXPECT_EQ(r.equivalent, a["p"].get<double>() < 0.05) << tag;
    if (std::fabs(a["p"].get<double>() - 0.05) > 1e-9) {
      EXPECT_EQ(r.equivalent, r.ci->lower > -margin && r.ci->upper < margin) << tag;
    }
    equivalent += r.equivalent;
    ++compared;
  }
  EXPECT_GT(compared, 280u);
  EXPECT_GT(equivalent, 20u);             // both verdicts are exercised
  EXPECT_LT(equivalent, compared - 20u);
}

void check_AggregatesMatchRliableRecipe(const json& cases, const json& answers) {
  for (std::size_t i = 0; i < cases["aggregate"].size(); ++i) {
    const json& c = cases["aggregate"][i];
    const json& a = answers["aggregate"][i];
    const std::string tag = ", case " + std::to_string(i);
    PairedStrata strata;
    for (const auto& st : c["strata"]) {
      strata.emplace_back();
      for (const auto& pr : st) strata.back().emplace_back(pr[0].get<double>(), pr[1].get<double>());
    }
    EXPECT_TRUE(close(pooled_iqm_of_differences(strata), a["iqm"], "IQM vs trim_mean" + tag));
    EXPECT_TRUE(close(mean_probability_of_improvement(strata), a["poi"], "P(improvement) vs Mann-Whitney U" + tag));
    const auto seed = c["seed"].get<uint64_t>();
    const auto resamples = c["resamples"].get<std::size_t>();
    BootstrapCi iqm = stratified_bootstrap_ci(strata, pooled_iqm_of_differences, seed, resamples);
    BootstrapCi poi = stratified_bootstrap_ci(strata, mean_probability_of_improvement, seed, resamples);
    ASSERT_TRUE(iqm.ci && poi.ci) << tag;
    EXPECT_TRUE(close(iqm.ci->lower, a["iqm_ci"][0], "IQM bootstrap lower" + tag));
    EXPECT_TRUE(close(iqm.ci->upper, a["iqm_ci"][1], "IQM bootstrap upper" + tag));
    EXPECT_TRUE(close(poi.ci->lower, a["poi_ci"][0], "P(improvement) bootstrap lower" + tag));
    EXPECT_TRUE(close(poi.ci->upper, a["poi_ci"][1], "P(improvement) bootstrap upper" + tag));
  }
}

void check_WelchMatchesTtestIndUnequalVar(const json& cases, const json& answers) {
  for (std::size_t i = 0; i < cases["welch"].size(); ++i) {
    const json& c = cases["welch"][i];
    const json& a = answers["welch"][i];
    TTestResult r = welch_t_test(to_vec(c["x"]), to_vec(c["y"]));
    const std::string tag = ", case " + std::to_string(i);
    if (a["p"].is_null()) {
      EXPECT_FALSE(r.p) << "scipy undefined" << tag;
      continue;
    }
    EXPECT_TRUE(close_opt(r.t, a["t"], "t" + tag));
    EXPECT_TRUE(close_opt(r.p, a["p"], "p" + tag));
    EXPECT_TRUE(close_opt(r.df, a["df"], "df" + tag));
    ASSERT_TRUE(r.ci);
    EXPECT_TRUE(close(r.ci->lower, a["ci"][0], "ci lower" + tag));
    EXPECT_TRUE(close(r.ci->upper, a["ci"][1], "ci upper" + tag));
    EXPECT_TRUE(close_raw(*r.ci, a["ci_raw"], "raw t.interval" + tag));
  }
}

void check_WilcoxonMatchesScipy(const json& cases, const json& answers) {
  std::size_t exact = 0, approx = 0, with_ties = 0, with_zeros = 0;
  for (std::size_t i = 0; i < cases["paired"].size(); ++i) {
    const json& c = cases["paired"][i];
    const json& a = answers["paired"][i];
    WilcoxonResult r = wilcoxon_signed_rank(to_vec(c["x"]), to_vec(c["y"]));
    const std::string tag = ", case " + std::to_string(i);
    EXPECT_TRUE(close_opt(r.statistic, a["w_stat"], "statistic" + tag));
    EXPECT_TRUE(close_opt(r.p, a["w_p"], "p" + tag));
    if (a["w_p"].is_null()) continue;
    const bool scipy_exact = a["wilcoxon_method"] == "exact";
    ASSERT_TRUE(r.method);
    EXPECT_EQ(*r.method == WilcoxonMethod::Exact, scipy_exact) << tag;
    if (scipy_exact) {
      ++exact;
      EXPECT_TRUE(close_opt(r.p, a["w_p_auto"], "p vs scipy defaults" + tag));
    } else {
      ++approx;
    }
    with_ties += r.ties;
    with_zeros += r.n_zero > 0;
  }
  // The generator must exercise every branch.
  EXPECT_GT(exact, 50u);
  EXPECT_GT(approx, 50u);
  EXPECT_GT(with_ties, 20u);
  EXPECT_GT(with_zeros, 20u);
}

void check_HolmMatchesIndependentPython(const json& cases, const json& answers) {
  for (std::size_t i = 0; i < cases["holm"].size(); ++i) {
    std::vector<std::optional<double>> p;
    for (const auto& v : cases["holm"][i]["p"]) p.push_back(v.is_null() ? std::nullopt : std::optional(v.get<double>()));
    auto adj = holm_adjust(p);
    ASSERT_EQ(adj.size(), p.size());
    for (std::size_t k = 0; k < p.size(); ++k) {
      EXPECT_TRUE(close_opt(adj[k], answers["holm"][i]["adjusted"][k], "holm " + std::to_string(i)));
    }
  }
}

void check_PowerMatchesNoncentralT(const json& cases, const json& answers) {
  for (std::size_t i = 0; i < cases["power"].size(); ++i) {
    double d = cases["power"][i]["d_z"];
    const json& a = answers["power"][i];
    const auto& ns = cases["power"][i]["n"];
    for (std::size_t k = 0; k < ns.size(); ++k) {
      EXPECT_TRUE(close(paired_t_power(d, ns[k].get<int64_t>()), a["power_at_n"][k], "power d=" + std::to_string(d)));
    }
    auto n = paired_t_required_n(d);
    ASSERT_TRUE(n) << d;
    ASSERT_FALSE(a["n_required"].is_null()) << d;
    EXPECT_EQ(*n, a["n_required"].get<int64_t>()) << "d_z " << d;
    EXPECT_TRUE(close(paired_t_power(d, *n), a["power_at_required"], "power at n"));
  }
}

void check_QuantileMatchesNumpyPercentile(const json& cases, const json& answers) {
  for (std::size_t i = 0; i < cases["quantile"].size(); ++i) {
    std::vector<double> x = to_vec(cases["quantile"][i]["x"]);
    std::sort(x.begin(), x.end());
    const auto& qs = cases["quantile"][i]["q"];
    for (std::size_t k = 0; k < qs.size(); ++k) {
      EXPECT_TRUE(close(quantile_sorted(x, qs[k]), answers["quantile"][i]["q"][k], "quantile"));
    }
  }
}

// One process, one python run: gtest_discover_tests starts a process per test, and
// scipy's import and the 300 cases take seconds.
TEST(StatsVsScipy, AllStatisticsAgree) {
  const json cases = generate_cases();
  const json answers = scipy_answers(cases);
  ASSERT_FALSE(answers.is_null());
  {
    SCOPED_TRACE("MeanCiMatchesTInterval");
    check_MeanCiMatchesTInterval(cases, answers);
  }
  {
    SCOPED_TRACE("PairedTTestMatchesTtestRel");
    check_PairedTTestMatchesTtestRel(cases, answers);
  }
  {
    SCOPED_TRACE("WelchMatchesTtestIndUnequalVar");
    check_WelchMatchesTtestIndUnequalVar(cases, answers);
  }
  {
    SCOPED_TRACE("study aggregates (IQM, probability of improvement, stratified bootstrap)");
    check_AggregatesMatchRliableRecipe(cases, answers);
  }
  {
    SCOPED_TRACE("paired TOST");
    check_TostMatchesTwoOneSidedTtests(cases, answers);
  }
  {
    SCOPED_TRACE("WilcoxonMatchesScipy");
    check_WilcoxonMatchesScipy(cases, answers);
  }
  {
    SCOPED_TRACE("WilcoxonNearTiesAsInExactArithmetic");
    check_WilcoxonNearTiesAsInExactArithmetic(cases, answers);
  }
  {
    SCOPED_TRACE("HolmMatchesIndependentPython");
    check_HolmMatchesIndependentPython(cases, answers);
  }
  {
    SCOPED_TRACE("PowerMatchesNoncentralT");
    check_PowerMatchesNoncentralT(cases, answers);
  }
  {
    SCOPED_TRACE("QuantileMatchesNumpyPercentile");
    check_QuantileMatchesNumpyPercentile(cases, answers);
  }
}

TEST(Stats, AggregatesOnHandMadeCases) {
  EXPECT_DOUBLE_EQ(interquartile_mean({1, 2, 3, 4, 5, 6, 7, 100}), 4.5);  // 2 cut from each end
  EXPECT_DOUBLE_EQ(interquartile_mean({1, 2, 3}), 2.0);                   // int(3 / 4) = 0 cut
  EXPECT_DOUBLE_EQ(probability_of_improvement({2, 3}, {1, 3}), 0.625);   // (1 + 0 + 1 + 0.5) / 4
  EXPECT_DOUBLE_EQ(probability_of_improvement({1}, {1}), 0.5);
  EXPECT_THROW(interquartile_mean({}), std::invalid_argument);
  // One stratum of one pair: a value, no interval.
  BootstrapCi one = stratified_bootstrap_ci({{{0.9, 0.8}}}, pooled_iqm_of_differences, 1, 100);
  ASSERT_TRUE(one.mean);
  EXPECT_NEAR(*one.mean, 0.1, 1e-15);
  EXPECT_FALSE(one.ci);
  // Same seed, same interval; another seed, another.
  PairedStrata s = {{{0.9, 0.8}, {0.85, 0.8}, {0.7, 0.75}}, {{0.6, 0.5}, {0.65, 0.6}}};
  BootstrapCi a = stratified_bootstrap_ci(s, pooled_iqm_of_differences, 3, 500);
  BootstrapCi b = stratified_bootstrap_ci(s, pooled_iqm_of_differences, 3, 500);
  BootstrapCi c = stratified_bootstrap_ci(s, pooled_iqm_of_differences, 4, 500);
  ASSERT_TRUE(a.ci && b.ci && c.ci);
  EXPECT_EQ(a.ci->lower, b.ci->lower);
  EXPECT_EQ(a.ci->upper, b.ci->upper);
  EXPECT_TRUE(a.ci->lower != c.ci->lower || a.ci->upper != c.ci->upper);
}

TEST(Stats, TostWithoutSpreadOrWithABadMarginSaysSo) {
  // Identical runs (a recipe that reduces to the baseline): every difference is 0.
  TostResult same = paired_tost({0.9, 0.8, 0.7}, {0.9, 0.8, 0.7}, 0.01);
  EXPECT_FALSE(same.p);
  EXPECT_TRUE(same.equivalent);
  EXPECT_NE(same.note.find("inside the margin"), std::string::npos) << same.note;
  TostResult shifted = paired_tost({0.95, 0.85, 0.75}, {0.9, 0.8, 0.7}, 0.01);  // every difference 0.05
  EXPECT_FALSE(shifted.p);
  EXPECT_FALSE(shifted.equivalent);
  EXPECT_NE(shifted.note.find("outside the margin"), std::string::npos) << shifted.note;
  TostResult one = paired_tost({0.9}, {0.8}, 0.5);
  EXPECT_FALSE(one.p);
  EXPECT_FALSE(one.equivalent);
  // A mean difference of exactly 0 with spread: the two statistics are +-margin / se.
  TostResult centred = paired_tost({0.9, 0.7}, {0.8, 0.8}, 0.2);
  ASSERT_TRUE(centred.t_lower && centred.t_upper);
  EXPECT_NEAR(*centred.t_lower, 2.0, 1e-12);  // se = sd / sqrt(2) = 0.1
  EXPECT_NEAR(*centred.t_upper, -2.0, 1e-12);
  EXPECT_THROW(paired_tost({0.9, 0.8}, {0.9, 0.8}, 0.0), std::invalid_argument);
  EXPECT_THROW(paired_tost({0.9, 0.8}, {0.9, 0.8}, -0.01), std::invalid_argument);
  EXPECT_THROW(paired_tost({0.9, 0.8}, {0.9, 0.8}, std::nan("")), std::invalid_argument);
  EXPECT_THROW(paired_tost({0.9, 0.8}, {0.9}, 0.01), std::invalid_argument);
}

TEST(Stats, DegenerateInputsSayWhatTheyAre) {
  MeanCi empty = mean_ci({});
  EXPECT_EQ(empty.n, 0u);
  EXPECT_FALSE(empty.mean);
  MeanCi one = mean_ci({0.7});
  ASSERT_TRUE(one.mean);
  EXPECT_DOUBLE_EQ(*one.mean, 0.7);
  EXPECT_FALSE(one.ci);
  EXPECT_FALSE(one.sd);
  MeanCi constant = mean_ci({0.5, 0.5, 0.5});
  EXPECT_TRUE(constant.zero_variance);
  ASSERT_TRUE(constant.ci);
  EXPECT_EQ(constant.ci->lower, 0.5);
  EXPECT_EQ(constant.ci->upper, 0.5);

  TTestResult single = paired_t_test({0.9}, {0.8});
  EXPECT_FALSE(single.t);
  EXPECT_FALSE(single.p);
  EXPECT_NE(single.note.find("n < 2"), std::string::npos);
  // Differences equal up to rounding (0.95-0.85 vs 0.96-0.86): zero variance, not t ~ 1e16.
  TTestResult same = paired_t_test({0.95, 0.96, 0.97}, {0.85, 0.86, 0.87});
  EXPECT_FALSE(same.t);
  EXPECT_FALSE(same.p);
  EXPECT_NE(same.note.find("zero variance"), std::string::npos) << same.note;
  EXPECT_NEAR(*same.mean_diff, 0.1, 1e-12);
  EXPECT_TRUE(paired_t_test({}, {}).note == "no pairs");
  EXPECT_THROW(paired_t_test({1.0}, {1.0, 2.0}), std::invalid_argument);

  WilcoxonResult zeros = wilcoxon_signed_rank({0.0, 0.0, 0.0});
  EXPECT_FALSE(zeros.p);
  EXPECT_EQ(zeros.n_zero, 3u);
  EXPECT_NE(zeros.note.find("zero"), std::string::npos);
  // n = 5, all one sign: the smallest exact two-sided p, 1/16 > 0.05.
  WilcoxonResult five = wilcoxon_signed_rank({0.1, 0.2, 0.3, 0.4, 0.5});
  EXPECT_EQ(five.method, WilcoxonMethod::Exact);
  EXPECT_DOUBLE_EQ(*five.p, 0.0625);
  EXPECT_DOUBLE_EQ(wilcoxon_min_exact_p(5), 0.0625);
  EXPECT_DOUBLE_EQ(wilcoxon_min_exact_p(6), 0.03125);

  EXPECT_TRUE(holm_adjust({}).empty());
  auto h = holm_adjust({std::nullopt, 0.01});
  EXPECT_FALSE(h[0]);
  EXPECT_DOUBLE_EQ(*h[1], 0.01);

  PowerResult pw = paired_power({1.0, 2.0, 3.0}, {1.0, 2.0, 3.0});
  EXPECT_FALSE(pw.d_z);
  EXPECT_FALSE(paired_t_required_n(0.0));
  EXPECT_FALSE(paired_t_required_n(1e-6));  // would need ~8e12 pairs
  EXPECT_EQ(*paired_t_required_n(2.0), *paired_t_required_n(-2.0));
}

TEST(Stats, AHugePairedEffectNeedsTwoPairsInsteadOfAborting) {
  // Differences 1, 1 + 1e-5, 1 + 2e-5: d_z = 1e5, beyond the ~46,000 where Boost's non-central t
  // cannot be evaluated with 2 pairs (it truncates delta^2 / 2 to an int).
  PowerResult huge = paired_power({2.0, 2.00001, 2.00002}, {1.0, 1.0, 1.0});
  ASSERT_TRUE(huge.d_z);
  EXPECT_NEAR(*huge.d_z, 1e5, 1.0);
  ASSERT_TRUE(huge.n_required) << huge.note;
  EXPECT_EQ(*huge.n_required, 2);
  EXPECT_EQ(*huge.power_at_n, 1.0);
  // Across the whole range, and where Boost still works the shortcut agrees with it.
  for (double d_z = 100.0; d_z < 1e12; d_z *= 3.7) {
    EXPECT_EQ(paired_t_required_n(d_z), 2) << d_z;
    EXPECT_EQ(paired_t_required_n(-d_z), 2) << d_z;
    EXPECT_GE(paired_t_power(d_z, 2), 0.8) << d_z;
  }
  EXPECT_NEAR(paired_t_power(999.0 / std::sqrt(2.0), 2), 1.0, 1e-15);  // Boost, just below the shortcut
  EXPECT_EQ(paired_t_power(1001.0 / std::sqrt(2.0), 2), 1.0);           // the shortcut
  EXPECT_EQ(paired_t_power(1e9, 1000000), 1.0);
}

TEST(Stats, BootstrapIsSeededAndSensible) {
  std::mt19937_64 gen(7);
  std::vector<double> x = draw(gen, 25, 0.1, 0.05, 0.0);
  BootstrapCi a = bootstrap_mean_ci(x, 42);
  BootstrapCi b = bootstrap_mean_ci(x, 42);
  BootstrapCi c = bootstrap_mean_ci(x, 43);
  ASSERT_TRUE(a.ci && b.ci && c.ci);
  EXPECT_EQ(a.ci->lower, b.ci->lower);
  EXPECT_EQ(a.ci->upper, b.ci->upper);
  EXPECT_NE(a.ci->lower, c.ci->lower);
  // For n = 25 the percentile interval is close to the t interval (slightly narrower).
  MeanCi t = mean_ci(x);
  double t_width = t.ci->upper - t.ci->lower;
  double b_width = a.ci->upper - a.ci->lower;
  EXPECT_GT(b_width, 0.75 * t_width);
  EXPECT_LT(b_width, 1.1 * t_width);
  EXPECT_LT(a.ci->lower, *a.mean);
  EXPECT_GT(a.ci->upper, *a.mean);
  EXPECT_NEAR(0.5 * (a.ci->lower + a.ci->upper), *a.mean, 0.25 * t_width);
  EXPECT_FALSE(bootstrap_mean_ci({1.0}, 1).ci);
  BootstrapCi constant = bootstrap_mean_ci({2.0, 2.0, 2.0}, 1);
  EXPECT_EQ(constant.ci->lower, 2.0);
  EXPECT_EQ(constant.ci->upper, 2.0);
}

}  // namespace
}  // namespace harness::reports

// Statistics of the report: t intervals and tests, Wilcoxon, Holm, bootstrap, effect size and power.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace harness::reports {

// Two-sided confidence level used throughout the report.
inline constexpr double kConfidence = 0.95;

// A closed interval [lower, upper].
struct Interval {
  double lower = 0.0;
  double upper = 0.0;
};

// Mean of a sample with its Student-t interval (n - 1 degrees of freedom).
// Degenerate inputs: n == 0 leaves `mean` empty; n == 1 leaves `sd` and `ci`
// empty (no interval from one value); zero variance gives the zero-width interval
// [mean, mean] and sets `zero_variance`.
struct MeanCi {
  std::size_t n = 0;
  std::optional<double> mean;
  std::optional<double> sd;  // sample standard deviation (n - 1 denominator)
  std::optional<Interval> ci;
  bool zero_variance = false;
};
MeanCi mean_ci(const std::vector<double>& x, double confidence = kConfidence);

// Result of a t-test. `t`, `p` are empty where the statistic is undefined; `note`
// says why ("n < 2", "zero variance: every difference equals ...", ...).
struct TTestResult {
  std::size_t n = 0;                  // pairs (paired) or n_x + n_y (Welch)
  std::optional<double> mean_diff;    // mean(x - y) or mean(x) - mean(y)
  std::optional<double> df;           // degrees of freedom
  std::optional<double> t;
  std::optional<double> p;            // two-sided
  std::optional<Interval> ci;         // of mean_diff
  std::string note;                   // empty when everything is defined
};

// Paired t-test of x - y (same length required; throws std::invalid_argument otherwise).
// Same as scipy.stats.ttest_rel, with the interval of the mean difference.
TTestResult paired_t_test(const std::vector<double>& x, const std::vector<double>& y,
                          double confidence = kConfidence);
// Welch's unequal-variance t-test of mean(x) - mean(y), Welch-Satterthwaite df.
// Same as scipy.stats.ttest_ind(equal_var=False). Needs n_x, n_y >= 2.
TTestResult welch_t_test(const std::vector<double>& x, const std::vector<double>& y,
                         double confidence = kConfidence);

// Paired equivalence test: Schuirmann's two one-sided tests (TOST) of the mean difference
// d = x - y against the margin (-margin, +margin), margin > 0 in the data's units.
//   H0: mean(d) <= -margin or mean(d) >= +margin;  H1: -margin < mean(d) < +margin.
//   t_lower = (mean + margin) / se, p_lower = P(T_{n-1} >= t_lower)   (scipy: ttest_1samp(d, -margin,
//   t_upper = (mean - margin) / se, p_upper = P(T_{n-1} <= t_upper)    alternative='greater' / 'less'))
// p = max(p_lower, p_upper); equivalence is shown at level alpha when p < alpha, which is the same
// as the (1 - 2 alpha) t interval (90% at alpha 0.05) lying inside the margin. With zero variance
// the tests are undefined (p empty, note says so) and the interval is [mean, mean]: `equivalent`
// then says whether that single value is inside the margin. Throws std::invalid_argument for
// unequal lengths or a margin that is not a finite positive number.
struct TostResult {
  std::size_t n = 0;
  double margin = 0.0;
  double alpha = 0.05;
  std::optional<double> mean_diff;
  std::optional<double> df;
  std::optional<double> t_lower, t_upper;
  std::optional<double> p_lower, p_upper;
  std::optional<double> p;    // max of the two one-sided p-values
  std::optional<Interval> ci;  // (1 - 2 alpha) interval of mean_diff
  bool equivalent = false;     // p < alpha (or, with zero variance, |mean| < margin)
  std::string note;
};
TostResult paired_tost(const std::vector<double>& x, const std::vector<double>& y, double margin,
                       double alpha = 0.05);

enum class WilcoxonMethod { Exact, NormalApprox };

// Wilcoxon signed-rank test of the differences x - y, as scipy.stats.wilcoxon with
// its defaults (zero_method="wilcox": zero differences are dropped; two-sided;
// correction=False). The exact null distribution is used when there are at most
// kWilcoxonExactMaxN differences, none zero and no ties among |d|; otherwise the
// normal approximation with the tie correction of the variance. A difference counts as zero,
// and two |d| as tied, within a relative tolerance of 1e-12 of the data's magnitude (the
// zero-variance check's): differences equal in exact arithmetic but not in floating point
// (0.3 - 0.2 and 0.2 - 0.1) are ties, whatever the order of the sums that made them. (scipy 1.10's
// method="auto" also takes the exact branch with ties and truncates a half-integer
// rank sum; we use the approximation there, as later scipy versions do.)
struct WilcoxonResult {
  std::size_t n = 0;          // differences given
  std::size_t n_nonzero = 0;  // differences used (zeros dropped)
  std::size_t n_zero = 0;
  bool ties = false;          // ties among the non-zero |d|
  std::optional<double> statistic;  // min(R+, R-)
  std::optional<double> z;          // normal approximation only
  std::optional<double> p;          // two-sided
  std::optional<WilcoxonMethod> method;
  // The smallest p this test can give with these differences (all of one sign): 2 / 2^n for the
  // exact test, the normal approximation's at statistic 0 (with these ties) otherwise.
  std::optional<double> min_p;
  std::string note;
};
inline constexpr std::size_t kWilcoxonExactMaxN = 50;
WilcoxonResult wilcoxon_signed_rank(const std::vector<double>& x, const std::vector<double>& y);
// Same on differences directly; the magnitude for the tolerance is max |d|.
WilcoxonResult wilcoxon_signed_rank(const std::vector<double>& d);
// Same with the magnitude of the values the differences came from (max |x|, |y|) for the tolerance.
WilcoxonResult wilcoxon_signed_rank_scaled(const std::vector<double>& d, double scale);
// Smallest two-sided p-value the exact test can give with n non-zero differences: 2 / 2^n
// (all differences of one sign), capped at 1. With n <= 5 it is >= 0.0625.
double wilcoxon_min_exact_p(std::size_t n);

// Holm-Bonferroni step-down adjusted p-values, in the input order, made monotone
// in the sorted order and capped at 1. Empty entries are left out of the family
// (m counts only the defined ones) and stay empty.
std::vector<std::optional<double>> holm_adjust(const std::vector<std::optional<double>>& p);

// Percentile bootstrap interval of the mean. Each of `resamples` resamples draws n
// indices with std::mt19937_64 seeded with `seed`; an index is the high part of a
// 128-bit product of a raw 64-bit draw and n (Lemire's method with rejection), so
// the resamples are the same on every platform and standard library. The interval
// is the (1-c)/2 and (1+c)/2 quantiles of the resampled means, linear interpolation
// between order statistics (numpy.percentile's default). Empty when n < 2.
struct BootstrapCi {
  std::size_t n = 0;
  std::size_t resamples = 0;
  uint64_t seed = 0;
  std::optional<double> mean;
  std::optional<Interval> ci;
};
inline constexpr std::size_t kDefaultBootstrapResamples = 10000;
BootstrapCi bootstrap_mean_ci(const std::vector<double>& x, uint64_t seed,
                              std::size_t resamples = kDefaultBootstrapResamples,
                              double confidence = kConfidence);
// The q-quantile (0 <= q <= 1) of `sorted` (ascending) with linear interpolation.
double quantile_sorted(const std::vector<double>& sorted, double q);

// Aggregates across experiments (rliable, Agarwal et al. 2021). A study's paired runs are strata:
// one per experiment, each a list of (strategy, baseline) values paired by seed.
using PairedStrata = std::vector<std::vector<std::pair<double, double>>>;
// Interquartile mean: the mean of the middle half, as scipy.stats.trim_mean(x, 0.25) (int(n / 4)
// values cut from each end). Throws std::invalid_argument when empty.
double interquartile_mean(std::vector<double> x);
// P(X > Y) + P(X = Y) / 2 over all (x, y) pairs: the Mann-Whitney U of x against y over n_x n_y.
double probability_of_improvement(const std::vector<double>& x, const std::vector<double>& y);
// The IQM of every stratum's differences x - y pooled, and the mean over strata of each stratum's
// probability of improvement (rliable's aggregate over tasks).
double pooled_iqm_of_differences(const PairedStrata& strata);
double mean_probability_of_improvement(const PairedStrata& strata);
// Stratified percentile bootstrap of a statistic of the strata: each resample draws, stratum by
// stratum in order, as many pairs as the stratum has (with replacement, pairs kept together),
// indices from std::mt19937_64(seed) by the same portable method as bootstrap_mean_ci. `mean`
// holds the statistic of the data itself; no interval when a non-empty stratum has one pair.
BootstrapCi stratified_bootstrap_ci(const PairedStrata& strata,
                                    const std::function<double(const PairedStrata&)>& statistic, uint64_t seed,
                                    std::size_t resamples = kDefaultBootstrapResamples,
                                    double confidence = kConfidence);

// Cohen's d_z of the paired differences d = x - y: mean(d) / sd(d), and the number
// of pairs a two-sided paired t-test at level `alpha` needs for power `power`
// against that effect: the smallest n >= 2 with
//   P(|T| > t_{1-alpha/2, n-1}),  T ~ noncentral t(n - 1, d_z sqrt(n)),
// at least `power` (exact, both tails). `n_required` is empty when d_z is undefined,
// zero or not finite, when more than kMaxPowerN pairs would be needed, or when Boost
// cannot evaluate the power (the note says which). Huge effects need 2 pairs.
struct PowerResult {
  std::size_t n = 0;
  std::optional<double> d_z;
  std::optional<std::int64_t> n_required;
  std::optional<double> power_at_n;  // the power reached with n_required pairs
  std::string note;
};
inline constexpr std::int64_t kMaxPowerN = 100'000'000;
PowerResult paired_power(const std::vector<double>& x, const std::vector<double>& y,
                         double power = 0.8, double alpha = 0.05);
// Power of a two-sided one-sample/paired t-test with n pairs and effect d_z.
double paired_t_power(double d_z, std::int64_t n, double alpha = 0.05);
// Smallest n >= 2 reaching `power` for effect d_z (empty as above).
std::optional<std::int64_t> paired_t_required_n(double d_z, double power = 0.8, double alpha = 0.05);

}  // namespace harness::reports

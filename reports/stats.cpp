// Statistics of the report; every distribution function comes from Boost.Math.
#include "reports/stats.h"

#include <boost/math/distributions/chi_squared.hpp>
#include <boost/math/distributions/non_central_t.hpp>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <sstream>
#include <stdexcept>

namespace harness::reports {
namespace {

namespace bm = boost::math;

// A spread this small relative to the data's magnitude is rounding of equal
// values (e.g. 0.95 - 0.85 and 0.96 - 0.86 differ in the last bit): treated as zero
// variance rather than producing t ~ 1e16.
constexpr double kZeroSpreadRelative = 1e-12;

double sum_of(const std::vector<double>& x) { return std::accumulate(x.begin(), x.end(), 0.0); }

double mean_of(const std::vector<double>& x) { return sum_of(x) / static_cast<double>(x.size()); }

// Sample variance (n - 1 denominator), two-pass.
double variance_of(const std::vector<double>& x, double mean) {
  double ss = 0.0;
  for (double v : x) ss += (v - mean) * (v - mean);
  return ss / static_cast<double>(x.size() - 1);
}

double max_abs(const std::vector<double>& x) {
  double m = 0.0;
  for (double v : x) m = std::max(m, std::fabs(v));
  return m;
}

bool negligible_spread(double sd, double magnitude) { return sd <= kZeroSpreadRelative * magnitude; }

// Two-sided critical value t_{(1+c)/2, df}.
double t_critical(double df, double confidence) {
  return bm::quantile(bm::students_t(df), 0.5 + confidence / 2.0);
}

// Two-sided p-value of a t statistic.
double t_two_sided_p(double t, double df) {
  return std::min(1.0, 2.0 * bm::cdf(bm::complement(bm::students_t(df), std::fabs(t))));
}

// Above this non-centrality the power of a t-test is 1 to double precision (miss_bound shows it
// in each case); Boost's non-central t cannot even be evaluated beyond about 65,000, where it
// truncates delta^2 / 2 to an int (a paired effect of |d_z| > 46,000 with 2 pairs).
constexpr double kLargeNoncentrality = 1000.0;

// An upper bound on P(T <= tc), T ~ noncentral t(df, delta) with delta, tc > 0, which bounds
// 1 - power. T = (Z + delta) / S with S = sqrt(V / df), V ~ chi^2_df; T <= tc needs
// Z <= -delta / 2 or S >= delta / (2 tc), so P(T <= tc) <= Phi(-delta / 2) + P(V >= df (delta / (2 tc))^2).
double miss_bound(double df, double delta, double tc) {
  const double s = delta / (2.0 * tc);
  return bm::cdf(bm::complement(bm::normal(), delta / 2.0)) +
         bm::cdf(bm::complement(bm::chi_squared(df), df * s * s));
}

std::string format_double(double v) {
  std::ostringstream s;
  s.precision(12);
  s << v;
  return s.str();
}

// Lemire's nearly-divisionless unbiased index in [0, n): portable, unlike
// std::uniform_int_distribution whose algorithm differs between libraries.
std::size_t lemire_index(std::mt19937_64& gen, uint64_t n) {
  unsigned __int128 m = static_cast<unsigned __int128>(gen()) * n;
  auto low = static_cast<uint64_t>(m);
  if (low < n) {
    const uint64_t threshold = (0 - n) % n;
    while (low < threshold) {
      m = static_cast<unsigned __int128>(gen()) * n;
      low = static_cast<uint64_t>(m);
    }
  }
  return static_cast<std::size_t>(m >> 64);
}

}  // namespace

MeanCi mean_ci(const std::vector<double>& x, double confidence) {
  MeanCi r;
  r.n = x.size();
  if (x.empty()) return r;
  r.mean = mean_of(x);
  if (x.size() < 2) return r;
  double sd = std::sqrt(variance_of(x, *r.mean));
  if (negligible_spread(sd, max_abs(x))) {
    r.sd = 0.0;
    r.zero_variance = true;
    r.ci = Interval{*r.mean, *r.mean};
    return r;
  }
  r.sd = sd;
  double half = t_critical(static_cast<double>(x.size() - 1), confidence) * sd /
                std::sqrt(static_cast<double>(x.size()));
  r.ci = Interval{*r.mean - half, *r.mean + half};
  return r;
}

TTestResult paired_t_test(const std::vector<double>& x, const std::vector<double>& y, double confidence) {
  if (x.size() != y.size()) {
    throw std::invalid_argument("paired_t_test: x has " + std::to_string(x.size()) + " values, y has " +
                                std::to_string(y.size()) + "; pairs need equal lengths");
  }
  TTestResult r;
  r.n = x.size();
  if (x.empty()) {
    r.note = "no pairs";
    return r;
  }
  std::vector<double> d(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) d[i] = x[i] - y[i];
  double m = mean_of(d);
  r.mean_diff = m;
  if (d.size() < 2) {
    r.note = "n < 2: one pair, no variance, no test";
    return r;
  }
  double df = static_cast<double>(d.size() - 1);
  r.df = df;
  double sd = std::sqrt(variance_of(d, m));
  if (negligible_spread(sd, std::max(max_abs(x), max_abs(y)))) {
    r.ci = Interval{m, m};
    r.note = "zero variance: every difference equals " + format_double(m) + ", t undefined";
    return r;
  }
  double se = sd / std::sqrt(static_cast<double>(d.size()));
  r.t = m / se;
  r.p = t_two_sided_p(*r.t, df);
  double half = t_critical(df, confidence) * se;
  r.ci = Interval{m - half, m + half};
  return r;
}

TostResult paired_tost(const std::vector<double>& x, const std::vector<double>& y, double margin, double alpha) {
  if (!(std::isfinite(margin) && margin > 0.0)) {
    throw std::invalid_argument("paired_tost: margin " + format_double(margin) + " is not a positive number");
  }
  if (!(alpha > 0.0 && alpha < 0.5)) {
    throw std::invalid_argument("paired_tost: alpha " + format_double(alpha) + " is not in (0, 0.5)");
  }
  // The two one-sided tests at alpha each are the two-sided t interval at 1 - 2 alpha.
  TTestResult t = paired_t_test(x, y, 1.0 - 2.0 * alpha);
  TostResult r;
  r.n = t.n;
  r.margin = margin;
  r.alpha = alpha;
  r.mean_diff = t.mean_diff;
  r.df = t.df;
  r.ci = t.ci;
  if (!t.mean_diff || !t.df) {
    r.note = t.note;
    return r;
  }
  const double m = *t.mean_diff;
  if (!t.t) {  // zero variance: the interval is the one value
    r.equivalent = std::fabs(m) < margin;
    r.note = t.note + "; the single difference is " + (r.equivalent ? "inside" : "outside") + " the margin";
    return r;
  }
  const double se = m / *t.t;  // t = m / se
  const bm::students_t dist(*t.df);
  if (m == 0.0) {  // se from t is undefined when the mean is exactly zero
    std::vector<double> d(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) d[i] = x[i] - y[i];
    r.t_lower = margin / (std::sqrt(variance_of(d, 0.0)) / std::sqrt(static_cast<double>(d.size())));
    r.t_upper = -*r.t_lower;
  } else {
    r.t_lower = (m + margin) / se;
    r.t_upper = (m - margin) / se;
  }
  r.p_lower = bm::cdf(bm::complement(dist, *r.t_lower));
  r.p_upper = bm::cdf(dist, *r.t_upper);
  r.p = std::max(*r.p_lower, *r.p_upper);
  r.equivalent = *r.p < alpha;
  return r;
}

TTestResult welch_t_test(const std::vector<double>& x, const std::vector<double>& y, double confidence) {
  TTestResult r;
  r.n = x.size() + y.size();
  if (x.empty() || y.empty()) {
    r.note = "an empty sample";
    return r;
  }
  double mx = mean_of(x);
  double my = mean_of(y);
  r.mean_diff = mx - my;
  if (x.size() < 2 || y.size() < 2) {
    r.note = "n < 2 in a sample: no variance, no test";
    return r;
  }
  double nx = static_cast<double>(x.size());
  double ny = static_cast<double>(y.size());
  double vx = variance_of(x, mx);
  double vy = variance_of(y, my);
  double magnitude = std::max(max_abs(x), max_abs(y));
  if (negligible_spread(std::sqrt(vx), magnitude)) vx = 0.0;
  if (negligible_spread(std::sqrt(vy), magnitude)) vy = 0.0;
  double ax = vx / nx;
  double ay = vy / ny;
  if (ax + ay == 0.0) {
    r.ci = Interval{*r.mean_diff, *r.mean_diff};
    r.note = "zero variance in both samples, t undefined";
    return r;
  }
  // Welch-Satterthwaite degrees of freedom.
  double df = (ax + ay) * (ax + ay) / (ax * ax / (nx - 1.0) + ay * ay / (ny - 1.0));
  r.df = df;
  double se = std::sqrt(ax + ay);
  r.t = *r.mean_diff / se;
  r.p = t_two_sided_p(*r.t, df);
  double half = t_critical(df, confidence) * se;
  r.ci = Interval{*r.mean_diff - half, *r.mean_diff + half};
  return r;
}

WilcoxonResult wilcoxon_signed_rank(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size()) {
    throw std::invalid_argument("wilcoxon_signed_rank: x has " + std::to_string(x.size()) + " values, y has " +
                                std::to_string(y.size()) + "; pairs need equal lengths");
  }
  std::vector<double> d(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) d[i] = x[i] - y[i];
  return wilcoxon_signed_rank_scaled(d, std::max(max_abs(x), max_abs(y)));
}

WilcoxonResult wilcoxon_signed_rank(const std::vector<double>& d) { return wilcoxon_signed_rank_scaled(d, max_abs(d)); }

WilcoxonResult wilcoxon_signed_rank_scaled(const std::vector<double>& d_all, double scale) {
  WilcoxonResult r;
  r.n = d_all.size();
  // Zeros and ties by the zero-variance check's tolerance: differences of values that are equal in exact
  // arithmetic (0.3 - 0.2 and 0.2 - 0.1, or means summed in another order) differ by rounding only, and
  // exact equality would switch between the exact and the normal method on the last bit.
  const double tolerance = kZeroSpreadRelative * std::fabs(scale);
  std::vector<double> d;
  for (double v : d_all) {
    if (std::fabs(v) <= tolerance) {
      ++r.n_zero;
    } else {
      d.push_back(v);
    }
  }
  r.n_nonzero = d.size();
  if (d_all.empty()) {
    r.note = "no pairs";
    return r;
  }
  if (d.empty()) {
    r.note = "every difference is zero: no signed ranks, test undefined";
    return r;
  }
  // Average ranks of |d| (ties share the mean of their positions). A tie group is every |d| within the
  // tolerance of the group's smallest, so a chain of near-equal values does not merge into one group.
  const std::size_t n = d.size();
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return std::fabs(d[a]) < std::fabs(d[b]); });
  std::vector<double> rank(n);
  double tie_term = 0.0;  // sum over tie groups of t (t^2 - 1)
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    while (j + 1 < n && std::fabs(d[order[j + 1]]) - std::fabs(d[order[i]]) <= tolerance) ++j;
    double avg = (static_cast<double>(i) + static_cast<double>(j)) / 2.0 + 1.0;
    for (std::size_t k = i; k <= j; ++k) rank[order[k]] = avg;
    double t = static_cast<double>(j - i + 1);
    if (t > 1.0) {
      r.ties = true;
      tie_term += t * (t * t - 1.0);
    }
    i = j + 1;
  }
  double r_plus = 0.0;
  double r_minus = 0.0;
  for (std::size_t i = 0; i < n; ++i) (d[i] > 0 ? r_plus : r_minus) += rank[i];
  r.statistic = std::min(r_plus, r_minus);

  if (r.n_zero == 0 && !r.ties && n <= kWilcoxonExactMaxN) {
    // Exact null distribution of R+: each rank k is + or - with probability 1/2.
    r.method = WilcoxonMethod::Exact;
    r.min_p = wilcoxon_min_exact_p(n);
    std::vector<double> pmf{1.0};
    for (std::size_t k = 1; k <= n; ++k) {
      std::vector<double> next(k * (k + 1) / 2 + 1, 0.0);
      for (std::size_t s = 0; s < pmf.size(); ++s) {
        next[s] += 0.5 * pmf[s];
        next[s + k] += 0.5 * pmf[s];
      }
      pmf.swap(next);
    }
    auto rp = static_cast<std::size_t>(std::llround(r_plus));
    if (rp == (pmf.size() - 1) / 2) {
      r.p = 1.0;  // the centre of the distribution (scipy's convention)
    } else {
      double p_less = std::accumulate(pmf.begin(), pmf.begin() + static_cast<std::ptrdiff_t>(rp) + 1, 0.0);
      double p_greater = std::accumulate(pmf.begin() + static_cast<std::ptrdiff_t>(rp), pmf.end(), 0.0);
      r.p = std::min(1.0, 2.0 * std::min(p_less, p_greater));
    }
    return r;
  }
  r.method = WilcoxonMethod::NormalApprox;
  double nn = static_cast<double>(n);
  double mn = nn * (nn + 1.0) / 4.0;
  double se = std::sqrt((nn * (nn + 1.0) * (2.0 * nn + 1.0) - 0.5 * tie_term) / 24.0);
  auto two_sided = [](double z) { return std::min(1.0, 2.0 * bm::cdf(bm::complement(bm::normal(), std::fabs(z)))); };
  r.z = (*r.statistic - mn) / se;
  r.p = two_sided(*r.z);
  r.min_p = two_sided(mn / se);  // every difference of one sign: statistic 0
  return r;
}

double wilcoxon_min_exact_p(std::size_t n) {
  return std::min(1.0, 2.0 / std::ldexp(1.0, static_cast<int>(n)));
}

std::vector<std::optional<double>> holm_adjust(const std::vector<std::optional<double>>& p) {
  std::vector<std::size_t> idx;
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (p[i]) idx.push_back(i);
  }
  std::stable_sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return *p[a] < *p[b]; });
  std::vector<std::optional<double>> adj(p.size());
  const double m = static_cast<double>(idx.size());
  double running = 0.0;
  for (std::size_t k = 0; k < idx.size(); ++k) {
    running = std::max(running, std::min(1.0, (m - static_cast<double>(k)) * *p[idx[k]]));
    adj[idx[k]] = running;
  }
  return adj;
}

double quantile_sorted(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) throw std::invalid_argument("quantile_sorted: empty sample");
  double h = (static_cast<double>(sorted.size()) - 1.0) * q;
  auto lo = static_cast<std::size_t>(std::floor(h));
  if (lo + 1 >= sorted.size()) return sorted.back();
  return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[lo + 1] - sorted[lo]);
}

BootstrapCi bootstrap_mean_ci(const std::vector<double>& x, uint64_t seed, std::size_t resamples,
                              double confidence) {
  BootstrapCi r;
  r.n = x.size();
  r.resamples = resamples;
  r.seed = seed;
  if (x.empty()) return r;
  r.mean = mean_of(x);
  if (x.size() < 2 || resamples == 0) return r;
  std::mt19937_64 gen(seed);
  const uint64_t n = x.size();
  auto draw_index = [&]() { return lemire_index(gen, n); };
  std::vector<double> means(resamples);
  for (std::size_t b = 0; b < resamples; ++b) {
    double s = 0.0;
    for (std::size_t i = 0; i < n; ++i) s += x[draw_index()];
    means[b] = s / static_cast<double>(n);
  }
  std::sort(means.begin(), means.end());
  r.ci = Interval{quantile_sorted(means, (1.0 - confidence) / 2.0), quantile_sorted(means, (1.0 + confidence) / 2.0)};
  return r;
}

double paired_t_power(double d_z, std::int64_t n, double alpha) {
  if (n < 2) throw std::invalid_argument("paired_t_power: n = " + std::to_string(n) + ", need n >= 2");
  double df = static_cast<double>(n - 1);
  double tc = bm::quantile(bm::students_t(df), 1.0 - alpha / 2.0);
  const double delta = std::fabs(d_z) * std::sqrt(static_cast<double>(n));
  if (delta > kLargeNoncentrality && miss_bound(df, delta, tc) < std::numeric_limits<double>::epsilon() / 2) {
    return 1.0;  // the power lies in (1 - eps/2, 1]
  }
  bm::non_central_t dist(df, delta);
  return bm::cdf(bm::complement(dist, tc)) + bm::cdf(dist, -tc);
}

std::optional<std::int64_t> paired_t_required_n(double d_z, double power, double alpha) {
  if (!std::isfinite(d_z) || d_z == 0.0) return std::nullopt;
  // Normal-approximation guess, only to refuse hopeless effects before the search.
  bm::normal z;
  double guess = std::pow((bm::quantile(z, 1.0 - alpha / 2.0) + bm::quantile(z, power)) / std::fabs(d_z), 2);
  if (guess > static_cast<double>(kMaxPowerN)) return std::nullopt;
  // Power rises with n: double until reached, then bisect (lo fails, hi reaches).
  std::int64_t lo = 1;
  std::int64_t hi = 2;
  while (paired_t_power(d_z, hi, alpha) < power) {
    lo = hi;
    hi *= 2;
    if (hi > 2 * kMaxPowerN) return std::nullopt;
  }
  while (hi - lo > 1) {
    std::int64_t mid = lo + (hi - lo) / 2;
    if (paired_t_power(d_z, mid, alpha) >= power) {
      hi = mid;
    } else {
      lo = mid;
    }
  }
  if (hi > kMaxPowerN) return std::nullopt;
  return hi;
}

PowerResult paired_power(const std::vector<double>& x, const std::vector<double>& y, double power, double alpha) {
  TTestResult t = paired_t_test(x, y);
  PowerResult r;
  r.n = t.n;
  if (t.n < 2) {
    r.note = "n < 2: d_z undefined";
    return r;
  }
  if (!t.t) {
    r.note = "zero variance of the differences: d_z undefined";
    return r;
  }
  // d_z = mean(d) / sd(d) = t / sqrt(n).
  r.d_z = *t.t / std::sqrt(static_cast<double>(t.n));
  if (!std::isfinite(*r.d_z)) {
    r.note = "d_z is not finite: no power";
    return r;
  }
  try {
    r.n_required = paired_t_required_n(*r.d_z, power, alpha);
    if (r.n_required) r.power_at_n = paired_t_power(*r.d_z, *r.n_required, alpha);
  } catch (const std::exception& e) {  // a Boost evaluation error: the values stay empty, the note says why
    r.n_required.reset();
    r.power_at_n.reset();
    r.note = "power not computable for d_z = " + format_double(*r.d_z) + ": " + e.what();
    return r;
  }
  if (!r.n_required) {
    r.note = *r.d_z == 0.0 ? "d_z = 0: no number of pairs detects it"
                           : "more than " + std::to_string(kMaxPowerN) + " pairs needed";
  }
  return r;
}

}  // namespace harness::reports

namespace harness::reports {

double interquartile_mean(std::vector<double> x) {
  if (x.empty()) throw std::invalid_argument("interquartile_mean: empty sample");
  std::sort(x.begin(), x.end());
  const std::size_t cut = x.size() / 4;  // scipy.stats.trim_mean(x, 0.25): int(0.25 n) from each end
  double s = 0.0;
  for (std::size_t i = cut; i < x.size() - cut; ++i) s += x[i];
  return s / static_cast<double>(x.size() - 2 * cut);
}

double probability_of_improvement(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.empty() || y.empty()) throw std::invalid_argument("probability_of_improvement: an empty sample");
  double wins = 0.0;
  for (double a : x) {
    for (double b : y) wins += a > b ? 1.0 : a == b ? 0.5 : 0.0;
  }
  return wins / (static_cast<double>(x.size()) * static_cast<double>(y.size()));
}

double pooled_iqm_of_differences(const PairedStrata& strata) {
  std::vector<double> d;
  for (const auto& stratum : strata) {
    for (const auto& [x, y] : stratum) d.push_back(x - y);
  }
  return interquartile_mean(std::move(d));
}

double mean_probability_of_improvement(const PairedStrata& strata) {
  double s = 0.0;
  std::size_t used = 0;
  for (const auto& stratum : strata) {
    if (stratum.empty()) continue;
    std::vector<double> x, y;
    for (const auto& [a, b] : stratum) {
      x.push_back(a);
      y.push_back(b);
    }
    s += probability_of_improvement(x, y);
    ++used;
  }
  if (used == 0) throw std::invalid_argument("mean_probability_of_improvement: no pairs");
  return s / static_cast<double>(used);
}

BootstrapCi stratified_bootstrap_ci(const PairedStrata& strata,
                                    const std::function<double(const PairedStrata&)>& statistic, uint64_t seed,
                                    std::size_t resamples, double confidence) {
  BootstrapCi r;
  r.resamples = resamples;
  r.seed = seed;
  std::size_t smallest = 0;
  for (const auto& stratum : strata) {
    r.n += stratum.size();
    if (!stratum.empty()) smallest = smallest == 0 ? stratum.size() : std::min(smallest, stratum.size());
  }
  if (r.n == 0) return r;
  r.mean = statistic(strata);
  if (smallest < 2 || resamples == 0) return r;  // a stratum of one pair cannot be resampled
  std::mt19937_64 gen(seed);
  std::vector<double> values(resamples);
  PairedStrata resampled(strata.size());
  for (std::size_t b = 0; b < resamples; ++b) {
    for (std::size_t k = 0; k < strata.size(); ++k) {
      const auto& stratum = strata[k];
      resampled[k].resize(stratum.size());
      for (auto& pair : resampled[k]) pair = stratum[lemire_index(gen, stratum.size())];
    }
    values[b] = statistic(resampled);
  }
  std::sort(values.begin(), values.end());
  r.ci = Interval{quantile_sorted(values, (1.0 - confidence) / 2.0),
                  quantile_sorted(values, (1.0 + confidence) / 2.0)};
  return r;
}

}  // namespace harness::reports

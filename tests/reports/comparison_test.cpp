// Tests of reports/comparison.cpp: the Wilcoxon note agrees with the Wilcoxon results, and every seed a
// comparison table leaves out is named.
#include "reports/comparison.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace harness::reports {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Strategy minus baseline at each seed is d[seed]; the baseline is 0.5 + seed / 100.
ByStrategy values_with_differences(const std::map<std::string, std::vector<double>>& d) {
  ByStrategy v;
  std::size_t n = 0;
  for (const auto& [s, ds] : d) {
    for (std::size_t k = 0; k < ds.size(); ++k) v[s][static_cast<int64_t>(k)] = 0.5 + k / 100.0 + ds[k];
    n = std::max(n, ds.size());
  }
  for (std::size_t k = 0; k < n; ++k) v["base"][static_cast<int64_t>(k)] = 0.5 + k / 100.0;
  return v;
}

TEST(WilcoxonSmallSampleNote, NamesOnlyTheComparisonsWhoseTestCannotReachTheLevel) {
  const ByStrategy v = values_with_differences({
      {"four", {0.01, 0.02, 0.03, 0.04}},               // exact, smallest p 2/2^4
      {"six", {0.01, 0.02, 0.03, 0.04, 0.05, 0.06}},    // exact, smallest p 2/2^6 < 0.05
      {"tied", {0.01, 0.01, 0.03, 0.04, 0.05}},         // ties: normal, smallest p 0.042 < 0.05
      {"zeroed", {0.0, 0.0, 0.02, 0.03, 0.04, 0.05}},   // 4 non-zero of 6: normal, smallest p 0.068
  });
  const std::vector<Comparison> cs = compare({"base", "four", "six", "tied", "zeroed"}, v, "base", std::nullopt);
  const auto note = wilcoxon_small_sample_note(cs);
  ASSERT_TRUE(note);
  EXPECT_THAT(*note, HasSubstr("`four` (4 non-zero differences, exact test: smallest p 2/2^4 = 0.1250)"));
  EXPECT_THAT(*note, HasSubstr("`zeroed` (4 non-zero differences of 6 pairs, normal approximation (zeros): "
                               "smallest p 0.0679)"));
  EXPECT_THAT(*note, Not(HasSubstr("`six`")));
  // Five pairs with ties take the normal approximation, which can go below 0.05: the note must not
  // claim otherwise next to that p.
  EXPECT_THAT(*note, Not(HasSubstr("`tied`")));
  const Comparison* tied = find(cs, "tied");
  ASSERT_TRUE(tied && tied->wilcoxon.p && tied->wilcoxon.min_p);
  EXPECT_EQ(tied->wilcoxon.method, WilcoxonMethod::NormalApprox);
  EXPECT_LT(*tied->wilcoxon.p, 0.05);
  EXPECT_NEAR(*tied->wilcoxon.min_p, *tied->wilcoxon.p, 1e-15);  // every difference positive

  const std::vector<Comparison> large = compare({"base", "six"}, v, "base", std::nullopt);
  EXPECT_FALSE(wilcoxon_small_sample_note(large));
}

TEST(WilcoxonSmallSampleNote, NearTiesCountAsTiesForTheNoteToo) {
  // 0.3 - 0.2 and 0.2 - 0.1 differ in floating point: still a tie, so the normal approximation.
  ByStrategy v;
  v["base"] = {{0, 0.2}, {1, 0.1}, {2, 0.63}, {3, 0.5}, {4, 0.4}};
  v["s"] = {{0, 0.3}, {1, 0.2}, {2, 0.7}, {3, 0.55}, {4, 0.44}};
  const std::vector<Comparison> cs = compare({"base", "s"}, v, "base", std::nullopt);
  ASSERT_EQ(cs.size(), 1u);
  EXPECT_TRUE(cs[0].wilcoxon.ties);
  EXPECT_EQ(cs[0].wilcoxon.method, WilcoxonMethod::NormalApprox);
  EXPECT_FALSE(wilcoxon_small_sample_note(cs));  // smallest p 0.042
}

TEST(UnpairedSeedExclusions, OneLineWhenEveryTableLeavesOutTheSameSeedsElseOnePerTable) {
  ByStrategy early, final_acc;
  for (int64_t seed = 0; seed < 6; ++seed) {
    for (const char* s : {"base", "a", "b"}) {
      early[s][seed] = 0.5;
      final_acc[s][seed] = 0.9;
    }
  }
  early["a"].erase(2);
  final_acc["a"].erase(2);  // a: seed 2 missing from both tables
  early["b"].erase(4);      // b: seed 4 has a final accuracy but no early value
  const auto e = compare({"base", "a", "b"}, early, "base", std::nullopt);
  const auto f = compare({"base", "a", "b"}, final_acc, "base", std::nullopt);
  const std::vector<std::string> lines = unpaired_seed_exclusions({{"early speed", &e}, {"final accuracy", &f}}, "base");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "`a` vs `base`: 5 pairs formed; seeds without a pair (one of the two missing): 2");
  EXPECT_EQ(lines[1], "`b` vs `base` (early speed): 5 pairs formed; seeds without a pair (one of the two missing): 4");
}

}  // namespace
}  // namespace harness::reports

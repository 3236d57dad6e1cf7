// Tests of reports/report.cpp on generated databases with known effects and degenerate designs.
#include "reports/report.h"

#include "harness/errors.h"
#include "reports/stats.h"
#include "tests/reports/synthetic_db.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <unistd.h>

namespace harness::reports {
namespace {

namespace fs = std::filesystem;
using testing::make_synthetic_db;
using testing::SyntheticSpec;
using testing::SyntheticTruth;

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// CSV rows keyed by the first column (strategy); our CSVs have no quoted fields.
std::map<std::string, std::map<std::string, std::string>> read_csv(const fs::path& p) {
  std::ifstream in(p);
  std::string line;
  std::vector<std::string> header;
  std::map<std::string, std::map<std::string, std::string>> rows;
  auto split = [](const std::string& l) {
    std::vector<std::string> f;
    std::stringstream ss(l);
    std::string x;
    while (std::getline(ss, x, ',')) f.push_back(x);
    if (!l.empty() && l.back() == ',') f.push_back("");
    return f;
  };
  std::getline(in, line);
  header = split(line);
  while (std::getline(in, line)) {
    auto f = split(line);
    for (std::size_t i = 0; i < header.size() && i < f.size(); ++i) rows[f[0]][header[i]] = f[i];
  }
  return rows;
}

double num(const std::string& s) {
  EXPECT_FALSE(s.empty()) << "an empty CSV field where a number was expected";
  return s.empty() ? std::nan("") : std::stod(s);
}

class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("harness_report_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    db_ = (dir_ / "results.sqlite").string();
    out_ = (dir_ / "out").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  static SyntheticSpec three_strategies() {
    SyntheticSpec spec;
    spec.strategies = {{"he_base", 0.0, 0.6, 1.0}, {"mei", 0.1, 0.05, 2.0}, {"warmup", 0.0, 0.5, 1.0}};
    return spec;
  }
  ReportOptions options() const {
    ReportOptions o;
    o.db_path = db_;
    o.experiment = "synthetic";
    o.out_dir = out_;
    o.bootstrap_seed = 7;
    return o;
  }
  // Paired differences strategy - baseline of a truth map, over the seeds both have.
  static std::vector<double> diffs(const std::map<std::pair<std::string, int>, double>& m, const std::string& s) {
    std::vector<double> d;
    for (const auto& [key, v] : m) {
      if (key.first != s) continue;
      auto b = m.find({"he_base", key.second});
      if (b != m.end()) d.push_back(v - b->second);
    }
    return d;
  }
  static double mean(const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x;
    return s / static_cast<double>(v.size());
  }

  fs::path dir_;
  std::string db_, out_;
};

TEST_F(ReportTest, KnownShiftAppearsInEveryTable) {
  SyntheticTruth truth = make_synthetic_db(db_, three_strategies());
  ReportSummary s = write_report(options());

  for (const char* f : {"report.md", "report.html", "initial_noise.csv", "early_speed.csv", "final_accuracy.csv",
                        "steps_to_target.csv", "effect_sizes.csv"}) {
    EXPECT_TRUE(fs::exists(fs::path(out_) / f)) << f;
  }
  EXPECT_EQ(s.report_md, (fs::path(out_) / "report.md").string());
  EXPECT_EQ(s.seeds, 6u);
  EXPECT_EQ(s.strategies, (std::vector<std::string>{"he_base", "mei", "warmup"}));
  EXPECT_EQ(s.trials_used, 18u);
  EXPECT_EQ(s.trials_excluded, 0u);
  EXPECT_NE(s.describe().find("report.md"), std::string::npos);

  // Final accuracy: the +0.1 shift, computed independently from what was inserted.
  auto fin = read_csv(fs::path(out_) / "final_accuracy.csv");
  std::vector<double> d = diffs(truth.final_acc, "mei");
  ASSERT_EQ(d.size(), 6u);
  EXPECT_NEAR(num(fin["mei"]["diff_mean"]), mean(d), 1e-12);
  EXPECT_NEAR(num(fin["mei"]["diff_mean"]), 0.1, 0.01);
  EXPECT_EQ(fin["mei"]["n_pairs"], "6");
  EXPECT_EQ(fin["mei"]["significant"], "1");
  TTestResult expected = paired_t_test(d, std::vector<double>(d.size(), 0.0));
  EXPECT_NEAR(num(fin["mei"]["p_paired_t"]), *expected.p, 1e-12 + 1e-9 * *expected.p);
  // Holm with two comparisons: the smaller p doubled at least.
  EXPECT_GE(num(fin["mei"]["p_holm"]), num(fin["mei"]["p_paired_t"]));
  EXPECT_EQ(fin["warmup"]["significant"], "0");
  double base_final = 0;
  for (int seed = 0; seed < 6; ++seed) base_final += truth.final_acc[{"he_base", seed}] / 6;
  EXPECT_NEAR(num(fin["he_base"]["final_acc_mean"]), base_final, 1e-12);

  // Early speed over steps 1..10.
  auto early = read_csv(fs::path(out_) / "early_speed.csv");
  EXPECT_NEAR(num(early["mei"]["diff_mean"]), mean(diffs(truth.early_acc, "mei")), 1e-12);
  EXPECT_GT(num(early["mei"]["diff_mean"]), 0.1);  // mei learns twice as fast on top of the shift
  EXPECT_EQ(early["mei"]["wilcoxon_method"], "exact");
  EXPECT_EQ(early["mei"]["significant"], "1");
  EXPECT_GE(num(early["mei"]["p_holm"]), num(early["mei"]["p_paired_t"]));
  EXPECT_NEAR(num(early["mei"]["p_wilcoxon"]), 0.03125, 1e-15);  // 6 positive pairs: 2/2^6

  // Initial noise at step 1.
  auto noise = read_csv(fs::path(out_) / "initial_noise.csv");
  double nf = 0;
  for (int seed = 0; seed < 6; ++seed) nf += truth.noise_fraction[{"mei", seed}] / 6;
  EXPECT_NEAR(num(noise["mei"]["noise_fraction_mean"]), nf, 1e-12);
  EXPECT_LT(num(noise["mei"]["noise_fraction_ci_high"]), num(noise["he_base"]["noise_fraction_ci_low"]));

  // Steps to 90% of the baseline's final mean: mei is faster.
  auto target = read_csv(fs::path(out_) / "steps_to_target.csv");
  EXPECT_NEAR(num(target["mei"]["target"]), 0.9 * base_final, 1e-12);
  EXPECT_GT(num(target["mei"]["speedup"]), 1.5);
  EXPECT_EQ(target["he_base"]["n_never"], "0");

  auto effect = read_csv(fs::path(out_) / "effect_sizes.csv");
  EXPECT_GT(num(effect["mei"]["d_z"]), 2.0);
  EXPECT_LE(num(effect["mei"]["n_for_80_power"]), 6.0);
  EXPECT_LT(num(effect["mei"]["bootstrap_ci_low"]), mean(d));
  EXPECT_GT(num(effect["mei"]["bootstrap_ci_high"]), mean(d));

  const std::string md = slurp(fs::path(out_) / "report.md");
  EXPECT_NE(md.find("# Report: synthetic"), std::string::npos);
  EXPECT_NE(md.find("abc1234"), std::string::npos);  // provenance
  EXPECT_NE(md.find("testhost"), std::string::npos);
  EXPECT_NE(md.find("precise reading"), std::string::npos);
  EXPECT_NE(md.find("AND s.step BETWEEN 1 AND ?2 AND s.test_acc IS NOT NULL"), std::string::npos);
  EXPECT_NE(md.find("-- ?2 = 10"), std::string::npos);
  // mei's final accuracy is bold, the baseline's is not.
  std::ostringstream mei_cell;
  mei_cell << "| mei | 6 | **" << std::fixed << std::setprecision(2)
           << 100 * (base_final + mean(d)) << "** |";
  EXPECT_NE(md.find(mei_cell.str()), std::string::npos) << mei_cell.str() << "\n" << md;
  EXPECT_EQ(md.find("| he_base | 6 | **"), std::string::npos);

  const std::string html = slurp(fs::path(out_) / "report.html");
  EXPECT_NE(html.find("<b>"), std::string::npos);
  if (s.figures_written) {
    for (const char* f : {"accuracy", "accuracy_early", "feature_variance", "noise_fraction", "difference",
                          "difference_early", "forest_early_speed", "forest_final_accuracy"}) {
      EXPECT_GT(fs::file_size(fs::path(out_) / (std::string(f) + ".png")), 1000u) << f;
      EXPECT_GT(fs::file_size(fs::path(out_) / (std::string(f) + ".svg")), 1000u) << f;
    }
    EXPECT_NE(html.find("src=\"data:image/png;base64,iVBORw0KGgo"), std::string::npos);  // PNG magic, inlined
    EXPECT_EQ(html.find("src=\"accuracy"), std::string::npos);                              // nothing external
  } else {
    ADD_FAILURE() << "gnuplot is installed here but no figure was written: " << s.describe();
  }
}

TEST_F(ReportTest, EquivalenceTestsFinalAccuracyWithinTheGivenMargin) {
  SyntheticTruth truth = make_synthetic_db(db_, three_strategies());
  ReportOptions o = options();
  o.gnuplot_command = "false";
  write_report(o);
  EXPECT_FALSE(fs::exists(fs::path(out_) / "equivalence.csv"));
  EXPECT_NE(slurp(fs::path(out_) / "report.md").find("--equivalence-margin PP"), std::string::npos);

  o.equivalence_margin = 0.02;  // 2 pp
  write_report(o);
  auto eq = read_csv(fs::path(out_) / "equivalence.csv");
  ASSERT_EQ(eq.size(), 2u);  // mei and warmup; the baseline is not compared with itself
  std::vector<std::optional<double>> raw;
  for (const char* s : {"mei", "warmup"}) {
    std::vector<double> d = diffs(truth.final_acc, s);
    TostResult want = paired_tost(d, std::vector<double>(d.size(), 0.0), 0.02);
    ASSERT_TRUE(want.p && want.ci) << s;
    raw.push_back(want.p);
    EXPECT_NEAR(num(eq[s]["diff_mean"]), mean(d), 1e-12) << s;
    EXPECT_NEAR(num(eq[s]["p_lower"]), *want.p_lower, 1e-12) << s;
    EXPECT_NEAR(num(eq[s]["p_upper"]), *want.p_upper, 1e-12) << s;
    EXPECT_NEAR(num(eq[s]["p_tost"]), *want.p, 1e-12) << s;
    EXPECT_NEAR(num(eq[s]["ci90_low"]), want.ci->lower, 1e-12) << s;
    EXPECT_NEAR(num(eq[s]["ci90_high"]), want.ci->upper, 1e-12) << s;
    EXPECT_EQ(num(eq[s]["margin"]), 0.02);
  }
  std::vector<std::optional<double>> holm = holm_adjust(raw);
  EXPECT_NEAR(num(eq["mei"]["p_holm"]), *holm[0], 1e-12);
  EXPECT_NEAR(num(eq["warmup"]["p_holm"]), *holm[1], 1e-12);
  // mei ends 10 pp above the baseline: not level. warmup has no shift, and its 6 pairs differ by
  // well under a point: level within 2 pp.
  EXPECT_EQ(eq["mei"]["equivalent"], "0");
  EXPECT_EQ(eq["warmup"]["equivalent"], "1");
  const std::string md = slurp(fs::path(out_) / "report.md");
  EXPECT_NE(md.find("**equivalent within +-2.00 pp**"), std::string::npos) << md;

  o.equivalence_margin = 0.0;
  EXPECT_THROW(write_report(o), ConfigError);
  o.equivalence_margin = 1.5;  // 150 pp
  EXPECT_THROW(write_report(o), ConfigError);
}

TEST_F(ReportTest, PairedDifferencesByStepAreTheSeedwiseDifferences) {
  SyntheticTruth truth = make_synthetic_db(db_, three_strategies());
  ReportOptions o = options();
  o.gnuplot_command = "false";  // the data file is written without gnuplot too
  write_report(o);
  // CSV keyed by strategy only keeps the last row; read the whole file.
  std::ifstream in(fs::path(out_) / "difference_by_step.csv");
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "strategy,step,n_pairs,diff_mean,diff_ci_low,diff_ci_high");
  std::size_t checked = 0;
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string strategy, step, n, m, lo, hi;
    std::getline(ss, strategy, ',');
    std::getline(ss, step, ',');
    std::getline(ss, n, ',');
    std::getline(ss, m, ',');
    std::getline(ss, lo, ',');
    std::getline(ss, hi, ',');
    // Independently: the truth's evaluations at that step, strategy minus baseline per seed.
    std::vector<double> d;
    for (int seed = 0; seed < 6; ++seed) {
      double a = std::nan(""), b = std::nan("");
      for (const auto& [t, v] : truth.evaluated[{strategy, seed}]) if (t == std::stoi(step)) a = v;
      for (const auto& [t, v] : truth.evaluated[{"he_base", seed}]) if (t == std::stoi(step)) b = v;
      if (!std::isnan(a) && !std::isnan(b)) d.push_back(a - b);
    }
    ASSERT_EQ(std::to_string(d.size()), n) << line;
    MeanCi want = mean_ci(d);
    EXPECT_NEAR(std::stod(m), *want.mean, 1e-12) << line;
    EXPECT_NEAR(std::stod(lo), want.ci->lower, 1e-12) << line;
    EXPECT_NEAR(std::stod(hi), want.ci->upper, 1e-12) << line;
    ++checked;
  }
  // Every evaluated step (1..30 dense, then 35, 40) for the two strategies.
  EXPECT_EQ(checked, 2u * 32u);
}

TEST_F(ReportTest, SweepsAreSelectedOnValidationAndTheTablesCompareOnlyThePicked) {
  SyntheticSpec spec;
  // On test, mei[lr=1e-3] is 10 pp better than mei[lr=3e-3]; on validation the other way round.
  spec.strategies = {{"he_base[lr=1e-3]", 0.0, 0.6, 1.0}, {"he_base[lr=3e-3]", -0.05, 0.6, 1.0},
                     {"mei[lr=1e-3]", 0.1, 0.05, 2.0}, {"mei[lr=3e-3]", 0.0, 0.05, 2.0}, {"warmup", 0.0, 0.5, 1.0}};
  spec.val_shift = {{"he_base[lr=1e-3]", 0.02}, {"he_base[lr=3e-3]", 0.0}, {"mei[lr=1e-3]", 0.0},
                    {"mei[lr=3e-3]", 0.03}, {"warmup", 0.0}};
  make_synthetic_db(db_, spec);
  ReportOptions o = options();
  o.gnuplot_command = "false";
  o.select_on = "validation";
  ReportSummary s = write_report(o);
  EXPECT_EQ(s.strategies, (std::vector<std::string>{"he_base[lr=1e-3]", "mei[lr=3e-3]", "warmup"}));
  std::ifstream in(fs::path(out_) / "selection.csv");
  std::string csv((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(csv.find("he_base,he_base[lr=1e-3],6,"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",1\n"), std::string::npos);
  auto fin = read_csv(fs::path(out_) / "final_accuracy.csv");
  EXPECT_EQ(fin.count("mei[lr=1e-3]"), 0u);
  ASSERT_EQ(fin.count("mei[lr=3e-3]"), 1u);
  EXPECT_EQ(fin["he_base[lr=1e-3]"]["diff_mean"], "");  // the baseline row
  EXPECT_NEAR(num(fin["mei[lr=3e-3]"]["diff_mean"]), 0.0, 0.01);
  const std::string md = slurp(fs::path(out_) / "report.md");
  EXPECT_NE(md.find("picked by its mean validation accuracy"), std::string::npos);
  EXPECT_EQ(md.find("TEST split"), std::string::npos);

  // Selecting on test picks the other mei, and says it peeked.
  o.select_on = "test";
  s = write_report(o);
  EXPECT_EQ(s.strategies, (std::vector<std::string>{"he_base[lr=1e-3]", "mei[lr=1e-3]", "warmup"}));
  EXPECT_NE(slurp(fs::path(out_) / "report.md").find("**Selected on the TEST split**"), std::string::npos);

  // Without a selection, a swept baseline must be named.
  o.select_on.clear();
  s = write_report(o);
  EXPECT_NE(slurp(fs::path(out_) / "report.md").find("the baseline `he_base` was swept"), std::string::npos);
  o.select_on = "train";
  EXPECT_THROW(write_report(o), ConfigError);
}

TEST_F(ReportTest, SelectingOnValidationWithoutAValidationSplitIsRefused) {
  make_synthetic_db(db_, three_strategies());
  ReportOptions o = options();
  o.gnuplot_command = "false";
  o.select_on = "validation";
  try {
    write_report(o);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("recorded no validation accuracy"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("validation_fraction"), std::string::npos) << e.what();
  }
}

TEST_F(ReportTest, UnfinishedTrialsOfAStrategyAreOneLineWithSeedRanges) {
  SyntheticSpec spec = three_strategies();
  spec.running = {{"warmup", 1}, {"warmup", 3}, {"warmup", 4}, {"warmup", 5}, {"mei", 0}};
  make_synthetic_db(db_, spec);
  const ReportSummary s = write_report(options());
  EXPECT_EQ(s.trials_excluded, 5u);
  const std::string md = slurp(s.report_md);
  EXPECT_NE(md.find("excluded `warmup`: 4 running (unfinished) trials, seeds 1, 3-5"), std::string::npos) << md;
  EXPECT_NE(md.find("excluded `mei`: 1 running (unfinished) trial, seed 0"), std::string::npos) << md;
}

TEST_F(ReportTest, FailedRunningAndMissingTrialsAreListedAndPairsShrink) {
  SyntheticSpec spec = three_strategies();
  spec.failed = {{"mei", 2}};
  spec.running = {{"warmup", 4}};
  spec.missing = {{"he_base", 5}};
  make_synthetic_db(db_, spec);
  ReportSummary s = write_report(options());
  EXPECT_EQ(s.trials_excluded, 2u);
  const std::string md = slurp(s.report_md);
  EXPECT_NE(md.find("excluded trial `mei` seed 2: failed (error: CUDA out of memory (synthetic))"), std::string::npos)
      << md;
  EXPECT_NE(md.find("excluded `warmup`: 1 running (unfinished) trial, seed 4"), std::string::npos);
  EXPECT_NE(md.find("`mei` vs `he_base`: 4 pairs formed; seeds without a pair (one of the two missing): 2, 5"),
            std::string::npos);
  auto fin = read_csv(fs::path(out_) / "final_accuracy.csv");
  EXPECT_EQ(fin["mei"]["n_pairs"], "4");
  EXPECT_EQ(fin["mei"]["n"], "5");
  EXPECT_EQ(fin["he_base"]["n"], "5");
  // n = 4 pairs: the report says an exact Wilcoxon cannot reach 0.05.
  EXPECT_NE(md.find("With these pairs a two-sided Wilcoxon signed-rank test cannot give p < 0.05 for `mei` (4 "
                    "non-zero differences, exact test: smallest p 2/2^4 = 0.1250)"),
            std::string::npos)
      << md;
}

TEST_F(ReportTest, ASeedMissingFromTheEarlyTableOnlyIsListedWithThatTable) {
  make_synthetic_db(db_, three_strategies());
  {  // mei seed 3 has no evaluation among the early steps, but a final accuracy
    db::Database db = db::Database::open(db_, db::OpenMode::ReadWrite);
    db.exec("UPDATE steps SET test_acc = NULL WHERE step <= 10 AND trial_id = "
            "(SELECT id FROM trials WHERE strategy = 'mei' AND seed = 3)");
  }
  const ReportSummary s = write_report(options());
  const std::string md = slurp(s.report_md);
  EXPECT_NE(md.find("`mei` vs `he_base` (early speed): 5 pairs formed; seeds without a pair (one of the two "
                    "missing): 3"),
            std::string::npos)
      << md;
  EXPECT_EQ(read_csv(fs::path(out_) / "early_speed.csv")["mei"]["n_pairs"], "5");
  EXPECT_EQ(read_csv(fs::path(out_) / "final_accuracy.csv")["mei"]["n_pairs"], "6");
}

TEST_F(ReportTest, OneSeedHasNoIntervalAndSaysSo) {
  SyntheticSpec spec = three_strategies();
  spec.seeds = 1;
  make_synthetic_db(db_, spec);
  ReportSummary s = write_report(options());
  const std::string md = slurp(s.report_md);
  EXPECT_NE(md.find("only one seed: no intervals and no tests"), std::string::npos);
  EXPECT_NE(md.find("n < 2: one pair, no variance, no test"), std::string::npos);
  auto fin = read_csv(fs::path(out_) / "final_accuracy.csv");
  EXPECT_EQ(fin["mei"]["final_acc_ci_low"], "");
  EXPECT_EQ(fin["mei"]["p_paired_t"], "");
}

TEST_F(ReportTest, UnknownExperimentListsThePresentOnes) {
  make_synthetic_db(db_, three_strategies());
  ReportOptions o = options();
  o.experiment = "nope";
  try {
    write_report(o);
    FAIL() << "no error for an unknown experiment";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("no experiment named 'nope'; experiments present: synthetic"),
              std::string::npos)
        << e.what();
  }
  o = options();
  o.baseline = "missing_base";
  try {
    write_report(o);
    FAIL() << "no error for an unknown baseline";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("strategies present: he_base, mei, warmup"), std::string::npos) << e.what();
  }
}

TEST_F(ReportTest, WithoutANameTheOnlyExperimentIsReported) {
  make_synthetic_db(db_, three_strategies());
  ReportOptions o = options();
  o.experiment.clear();
  ReportSummary s = write_report(o);
  EXPECT_EQ(s.experiment, "synthetic");
  EXPECT_NE(slurp(s.report_md).find("# Report: synthetic"), std::string::npos);
  SyntheticSpec second = three_strategies();
  second.experiment = "another";
  make_synthetic_db(db_, second);
  try {
    write_report(o);
    FAIL() << "no error with two experiments and none named";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("the database holds 2: another, synthetic; name one with --experiment"),
              std::string::npos)
        << e.what();
  }
}

TEST_F(ReportTest, EmptyDatabaseIsAClearError) {
  db::Database::open(db_, db::OpenMode::ReadWrite);
  try {
    write_report(options());
    FAIL() << "no error for an empty database";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("holds no experiments (empty database)"), std::string::npos) << e.what();
  }
  ReportOptions o = options();
  o.db_path = (dir_ / "absent.sqlite").string();
  EXPECT_THROW(write_report(o), DbError);
}

TEST_F(ReportTest, WithoutGnuplotTheTablesAreStillWritten) {
  make_synthetic_db(db_, three_strategies());
  ReportOptions o = options();
  o.gnuplot_command = (dir_ / "no-such-gnuplot").string();
  ReportSummary s = write_report(o);
  EXPECT_FALSE(s.figures_written);
  const std::string md = slurp(s.report_md);
  EXPECT_NE(md.find("Figures were skipped: gnuplot could not be run"), std::string::npos);
  EXPECT_TRUE(fs::exists(fs::path(out_) / "final_accuracy.csv"));
  EXPECT_FALSE(fs::exists(fs::path(out_) / "accuracy.png"));
  EXPECT_NE(s.describe().find("figures skipped"), std::string::npos);
}

TEST_F(ReportTest, BootstrapSeedMakesTheReportReproducible) {
  make_synthetic_db(db_, three_strategies());
  ReportOptions o = options();
  o.gnuplot_command = "false";  // no figures needed here
  write_report(o);
  const std::string first = slurp(fs::path(out_) / "effect_sizes.csv");
  write_report(o);
  EXPECT_EQ(first, slurp(fs::path(out_) / "effect_sizes.csv"));
  o.bootstrap_seed = 8;
  write_report(o);
  EXPECT_NE(first, slurp(fs::path(out_) / "effect_sizes.csv"));
}

}  // namespace
}  // namespace harness::reports

// Tests of reports/study.cpp: several generated experiments in one report, the aggregates
// recomputed here from what was inserted, and the refusals of bad study files.
#include "reports/study.h"

#include "harness/errors.h"
#include "reports/stats.h"
#include "tests/reports/synthetic_db.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
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

// CSV rows keyed by the given columns joined with '|'.
std::map<std::string, std::map<std::string, std::string>> read_csv(const fs::path& p,
                                                                   const std::vector<std::string>& key) {
  std::ifstream in(p);
  std::string line;
  auto split = [](const std::string& l) {
    std::vector<std::string> f;
    std::stringstream ss(l);
    std::string x;
    while (std::getline(ss, x, ',')) f.push_back(x);
    if (!l.empty() && l.back() == ',') f.push_back("");
    return f;
  };
  std::getline(in, line);
  const std::vector<std::string> header = split(line);
  std::map<std::string, std::map<std::string, std::string>> rows;
  while (std::getline(in, line)) {
    std::map<std::string, std::string> row;
    auto f = split(line);
    for (std::size_t i = 0; i < header.size() && i < f.size(); ++i) row[header[i]] = f[i];
    std::string k;
    for (const auto& c : key) k += (k.empty() ? "" : "|") + row[c];
    rows[k] = row;
  }
  return rows;
}

class StudyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("harness_study_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Two databases: "digits" (mei +10 pp, warmup level) and "fashion" (mei +5 pp, warmup -3 pp),
  // each with its own seed effects.
  void make_two() {
    SyntheticSpec a;
    a.experiment = "digits";
    a.strategies = {{"he_base", 0.0, 0.6, 1.0}, {"mei", 0.1, 0.05, 2.0}, {"warmup", 0.0, 0.5, 1.0}};
    a.rng_seed = 11;
    truth_a_ = make_synthetic_db((dir_ / "a.db").string(), a);
    SyntheticSpec b;
    b.experiment = "fashion";
    b.strategies = {{"he_base", 0.0, 0.6, 1.0}, {"mei", 0.05, 0.05, 2.0}, {"warmup", -0.03, 0.5, 1.0}};
    b.seeds = 5;
    b.rng_seed = 12;
    truth_b_ = make_synthetic_db((dir_ / "b.db").string(), b);
  }
  StudyOptions options() const {
    StudyOptions o;
    o.entries = {{(dir_ / "a.db").string(), ""}, {(dir_ / "b.db").string(), "fashion"}};
    o.out_dir = (dir_ / "out").string();
    o.bootstrap_seed = 3;
    o.bootstrap_resamples = 2000;
    return o;
  }
  static std::vector<double> diffs(const SyntheticTruth& t, const std::string& s) {
    std::vector<double> d;
    for (const auto& [key, v] : t.final_acc) {
      if (key.first == s) d.push_back(v - t.final_acc.at({"he_base", key.second}));
    }
    return d;
  }

  fs::path dir_;
  SyntheticTruth truth_a_, truth_b_;
};

TEST_F(StudyTest, ClaimsPerExperimentAndAggregatesFromTheInsertedValues) {
  make_two();
  ReportSummary s = write_study_report(options());
  EXPECT_EQ(s.strategies, (std::vector<std::string>{"he_base", "mei", "warmup"}));
  EXPECT_EQ(s.seeds, 11u);  // 6 + 5 (experiment, seed) runs
  EXPECT_EQ(s.trials_used, 33u);

  auto claims = read_csv(dir_ / "out" / "study_claims.csv", {"experiment", "strategy"});
  ASSERT_EQ(claims.size(), 4u);
  auto mean = [](const std::vector<double>& v) {
    double x = 0;
    for (double e : v) x += e;
    return x / static_cast<double>(v.size());
  };
  EXPECT_NEAR(std::stod(claims["digits|mei"]["final_diff_mean"]), mean(diffs(truth_a_, "mei")), 1e-12);
  EXPECT_NEAR(std::stod(claims["fashion|warmup"]["final_diff_mean"]), mean(diffs(truth_b_, "warmup")), 1e-12);
  EXPECT_EQ(claims["digits|mei"]["final_significant"], "1");
  EXPECT_EQ(claims["fashion|warmup"]["final_significant"], "1");  // -3 pp with noise of ~0.5 pp
  EXPECT_EQ(claims["digits|warmup"]["final_significant"], "0");
  EXPECT_EQ(claims["fashion|mei"]["n_pairs"], "5");

  auto fin = read_csv(dir_ / "out" / "study_final.csv", {"strategy"});
  ASSERT_EQ(fin.size(), 2u);
  EXPECT_EQ(fin["mei"]["wins"], "2");
  EXPECT_EQ(fin["mei"]["losses"], "0");
  EXPECT_EQ(fin["warmup"]["wins"], "0");
  EXPECT_EQ(fin["warmup"]["losses"], "1");
  EXPECT_EQ(fin["warmup"]["ties"], "1");
  EXPECT_EQ(fin["mei"]["runs"], "11");
  // IQM of the 11 pooled differences, by hand: sort, drop int(11 / 4) = 2 from each end.
  std::vector<double> pooled = diffs(truth_a_, "mei");
  for (double d : diffs(truth_b_, "mei")) pooled.push_back(d);
  std::sort(pooled.begin(), pooled.end());
  double iqm = 0;
  for (std::size_t i = 2; i < 9; ++i) iqm += pooled[i] / 7;
  EXPECT_NEAR(std::stod(fin["mei"]["iqm_diff"]), iqm, 1e-12);
  EXPECT_LT(std::stod(fin["mei"]["iqm_ci_low"]), iqm);
  EXPECT_GT(std::stod(fin["mei"]["iqm_ci_high"]), iqm);
  EXPECT_GT(std::stod(fin["mei"]["iqm_ci_low"]), 0.0);
  // mei is above the baseline on every seed of both experiments: P(improvement) = 1 in each.
  EXPECT_EQ(std::stod(fin["mei"]["poi"]), 1.0);
  EXPECT_EQ(fin["mei"]["bootstrap_resamples"], "2000");

  const std::string md = slurp(dir_ / "out" / "report.md");
  EXPECT_NE(md.find("# Study: digits + fashion"), std::string::npos);
  EXPECT_NE(md.find("2 experiments, 11 (experiment, seed) runs"), std::string::npos) << md;
  EXPECT_NE(md.find("?1 = 1 (experiment 'fashion')"), std::string::npos);
  if (s.figures_written) {
    for (const char* f : {"forest_study_early", "forest_study_final"}) {
      EXPECT_GT(fs::file_size(dir_ / "out" / (std::string(f) + ".png")), 1000u) << f;
    }
  } else {
    ADD_FAILURE() << "gnuplot is installed here but no figure was written: " << s.describe();
  }
}

TEST_F(StudyTest, AStudyFileNamesItsBadLines) {
  make_two();
  const fs::path file = dir_ / "study.txt";
  std::ofstream(file) << "# two experiments\na.db   # the digits\n\nb.db fashion\n";
  std::vector<StudyEntry> entries = read_study_file(file.string());
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].db_path, (dir_ / "a.db").string());  // relative to the study file
  EXPECT_EQ(entries[0].experiment, "");
  EXPECT_EQ(entries[1].experiment, "fashion");

  std::ofstream(file) << "a.db\nb.db fashion extra\n";
  try {
    read_study_file(file.string());
    FAIL() << "three words accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("study.txt:2: 'b.db fashion extra'"), std::string::npos) << e.what();
  }
  std::ofstream(file) << "missing.db\n";
  try {
    read_study_file(file.string());
    FAIL() << "a missing database accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("study.txt:1: database"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("missing.db does not exist"), std::string::npos) << e.what();
  }
  std::ofstream(file) << "# nothing\n";
  EXPECT_THROW(read_study_file(file.string()), ConfigError);
  EXPECT_THROW(read_study_file((dir_ / "absent.txt").string()), ConfigError);
}

TEST_F(StudyTest, TheSameExperimentTwiceOrAnUnknownOneIsRefused) {
  make_two();
  StudyOptions o = options();
  o.entries.push_back({(dir_ / "a.db").string(), "digits"});
  try {
    write_study_report(o);
    FAIL() << "a duplicate accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("listed twice"), std::string::npos) << e.what();
  }
  o = options();
  o.entries[1].experiment = "nope";
  try {
    write_study_report(o);
    FAIL() << "an unknown experiment accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("no experiment named 'nope'; experiments present: fashion"),
              std::string::npos)
        << e.what();
  }
  o = options();
  o.entries.clear();
  EXPECT_THROW(write_study_report(o), ConfigError);
}

}  // namespace
}  // namespace harness::reports

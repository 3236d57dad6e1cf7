// Tests of reports/study.cpp: several generated experiments in one report, the aggregates and the
// means recomputed here from what was inserted, the statistics checked against scipy, and the
// refusals of bad study files and options.
#include "reports/study.h"

#include "harness/errors.h"
#include "reports/stats.h"
#include "tests/reports/scipy_oracle.h"
#include "tests/reports/synthetic_db.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace harness::reports {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::make_synthetic_db;
using testing::scipy_answers;
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

// The test accuracy a trial recorded at `step`, if it was evaluated there.
std::optional<double> acc_at(const SyntheticTruth& t, const std::string& strategy, int seed, int step) {
  auto it = t.evaluated.find({strategy, seed});
  if (it == t.evaluated.end()) return std::nullopt;
  for (const auto& [s, v] : it->second) {
    if (s == step) return v;
  }
  return std::nullopt;
}

double csv_num(const std::map<std::string, std::string>& row, const std::string& column) {
  auto it = row.find(column);
  EXPECT_TRUE(it != row.end() && !it->second.empty()) << "no value in column " << column;
  return it == row.end() || it->second.empty() ? std::nan("") : std::stod(it->second);
}

// Relative 1e-9 or absolute 1e-12, the tolerance of the scipy checks in stats_test.
::testing::AssertionResult near_scipy(double got, const json& want, const std::string& what) {
  if (want.is_null()) return ::testing::AssertionFailure() << what << ": scipy has no value";
  const double w = want.get<double>();
  const double diff = std::fabs(got - w);
  if (diff <= 1e-12 || diff <= 1e-9 * std::fabs(w)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << what << ": got " << got << ", scipy " << w;
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
  ASSERT_EQ(claims.size(), 6u);  // the baselines' rows carry their means only
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
  EXPECT_EQ(claims["digits|he_base"]["final_diff_mean"], "");
  double base_final = 0;
  for (int seed = 0; seed < 6; ++seed) base_final += truth_a_.final_acc.at({"he_base", seed}) / 6;
  EXPECT_NEAR(std::stod(claims["digits|he_base"]["final_mean"]), base_final, 1e-12);
  double mei_noise = 0;
  for (int seed = 0; seed < 5; ++seed) mei_noise += truth_b_.noise_fraction.at({"mei", seed}) / 5;
  EXPECT_NEAR(std::stod(claims["fashion|mei"]["noise_mean"]), mei_noise, 1e-12);

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

TEST_F(StudyTest, StatusCountsSeedsTrialsAndTheWallTimeOfTheDoneTrials) {
  SyntheticSpec a;
  a.experiment = "digits";
  a.strategies = {{"he_base", 0.0, 0.6, 1.0}, {"mei", 0.1, 0.05, 2.0}, {"warmup", 0.0, 0.5, 1.0}};
  a.failed = {{"warmup", 2}};
  a.running = {{"mei", 4}};
  SyntheticTruth truth = make_synthetic_db((dir_ / "a.db").string(), a);
  SyntheticSpec b;
  b.experiment = "fashion";
  b.strategies = a.strategies;
  b.seeds = 40;  // 120 trials of 30-52 s: over an hour
  b.steps = 12;
  b.dense_eval_steps = 12;
  SyntheticTruth truth_b = make_synthetic_db((dir_ / "b.db").string(), b);
  StudyOptions o = options();
  o.entries[1].experiment = "";
  o.gnuplot_command = "false";
  write_study_report(o);

  auto status = read_csv(dir_ / "out" / "study_status.csv", {"experiment"});
  ASSERT_EQ(status.size(), 2u);
  auto& d = status["digits"];
  EXPECT_EQ(d["trials"], "18");
  EXPECT_EQ(d["done"], "16");
  EXPECT_EQ(d["failed"], "1");
  EXPECT_EQ(d["seeds"], "6");
  EXPECT_EQ(d["complete_seeds"], "4");  // seeds 2 and 4 each have an unfinished trial
  EXPECT_EQ(d["min_steps"], "40");
  EXPECT_EQ(d["max_steps"], "40");
  double seconds = 0;
  for (const auto& [key, wall] : truth.wall_seconds) seconds += wall;
  EXPECT_EQ(truth.wall_seconds.size(), 16u);
  EXPECT_NEAR(csv_num(d, "done_wall_seconds"), seconds, 1e-9);
  double seconds_b = 0;
  for (const auto& [key, wall] : truth_b.wall_seconds) seconds_b += wall;
  EXPECT_NEAR(csv_num(status["fashion"], "done_wall_seconds"), seconds_b, 1e-9);
  EXPECT_EQ(status["fashion"]["complete_seeds"], "40");

  const std::string md = slurp(dir_ / "out" / "report.md");
  auto minutes = [](double s) { return static_cast<long>(std::floor(s / 60.0 + 0.5)); };
  EXPECT_NE(md.find("| digits | 40 | 4 of 6 | 16 of 18 (1 failed) | " + std::to_string(minutes(seconds)) + " min |"),
            std::string::npos)
      << md;
  const long mb = minutes(seconds_b);
  ASSERT_GE(mb, 60);
  const std::string mm = (mb % 60 < 10 ? "0" : "") + std::to_string(mb % 60);
  EXPECT_NE(md.find("| fashion | 12 | 40 of 40 | 120 of 120 | " + std::to_string(mb / 60) + " h " + mm + " min |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("COUNT(DISTINCT seed) - COUNT(DISTINCT CASE WHEN status <> 'done' THEN seed END)"),
            std::string::npos);
}

TEST_F(StudyTest, PerClaimTablesAgreeWithTheInsertedValuesAndScipy) {
  make_two();
  StudyOptions o = options();
  o.gnuplot_command = "false";
  write_study_report(o);
  auto early = read_csv(dir_ / "out" / "study_early_speed.csv", {"experiment", "strategy"});
  auto fin = read_csv(dir_ / "out" / "study_final_accuracy.csv", {"experiment", "strategy"});
  auto noise = read_csv(dir_ / "out" / "study_initial_noise.csv", {"experiment", "strategy"});
  ASSERT_EQ(early.size(), 6u);
  ASSERT_EQ(fin.size(), 6u);
  ASSERT_EQ(noise.size(), 6u);

  // Every comparison of both experiments, in the order sent to scipy.
  struct Case {
    std::string experiment, strategy, table;
  };
  std::vector<Case> order;
  json cases;
  cases["paired"] = json::array();
  cases["holm"] = json::array();
  for (const auto* truth : {&truth_a_, &truth_b_}) {
    const std::string name = truth == &truth_a_ ? "digits" : "fashion";
    const int seeds = truth == &truth_a_ ? 6 : 5;
    for (const char* table : {"early", "final"}) {
      const auto& values = std::string(table) == "early" ? truth->early_acc : truth->final_acc;
      for (const char* s : {"mei", "warmup"}) {
        std::vector<double> x, y;
        for (int seed = 0; seed < seeds; ++seed) {
          x.push_back(values.at({s, seed}));
          y.push_back(values.at({"he_base", seed}));
        }
        cases["paired"].push_back({{"x", x}, {"y", y}});
        order.push_back({name, s, table});
      }
    }
    double base = 0, nf = 0;
    for (int seed = 0; seed < seeds; ++seed) {
      base += truth->early_acc.at({"he_base", seed}) / seeds;
      nf += truth->noise_fraction.at({"warmup", seed}) / seeds;
    }
    EXPECT_NEAR(csv_num(early[name + "|he_base"], "early_acc_mean"), base, 1e-12) << name;
    EXPECT_EQ(early[name + "|he_base"]["diff_mean"], "");
    EXPECT_NEAR(csv_num(noise[name + "|warmup"], "noise_fraction_mean"), nf, 1e-12) << name;
  }
  const json paired = scipy_answers(cases);
  ASSERT_FALSE(paired.is_null());
  // Holm within each experiment and table, over its two comparisons.
  for (std::size_t i = 0; i < order.size(); i += 2) {
    cases["holm"].push_back({{"p", {paired["paired"][i]["p"], paired["paired"][i + 1]["p"]}}});
  }
  const json answers = scipy_answers(cases);
  ASSERT_FALSE(answers.is_null());
  for (std::size_t i = 0; i < order.size(); ++i) {
    const Case& c = order[i];
    auto& row = c.table == "early" ? early[c.experiment + "|" + c.strategy] : fin[c.experiment + "|" + c.strategy];
    const json& want = answers["paired"][i];
    const std::string what = c.experiment + " " + c.strategy + " " + c.table;
    EXPECT_TRUE(near_scipy(csv_num(row, "diff_mean"), want["mean_diff"], what));
    EXPECT_TRUE(near_scipy(csv_num(row, "p_paired_t"), want["p"], what));
    EXPECT_TRUE(near_scipy(csv_num(row, "diff_ci_low"), want["ci"][0], what));
    EXPECT_TRUE(near_scipy(csv_num(row, "diff_ci_high"), want["ci"][1], what));
    EXPECT_TRUE(near_scipy(csv_num(row, "p_holm"), answers["holm"][i / 2]["adjusted"][i % 2], what));
  }
}

TEST_F(StudyTest, EquivalencePerExperimentAgreesWithScipy) {
  make_two();
  StudyOptions o = options();
  o.gnuplot_command = "false";
  write_study_report(o);
  EXPECT_FALSE(fs::exists(dir_ / "out" / "study_equivalence.csv"));
  EXPECT_NE(slurp(dir_ / "out" / "report.md").find("--equivalence-margin PP"), std::string::npos);

  o.equivalence_margin = 0.02;
  write_study_report(o);
  auto eq = read_csv(dir_ / "out" / "study_equivalence.csv", {"experiment", "strategy"});
  ASSERT_EQ(eq.size(), 4u);
  json cases;
  cases["tost"] = json::array();
  std::vector<std::string> keys;
  for (const auto* truth : {&truth_a_, &truth_b_}) {
    const std::string name = truth == &truth_a_ ? "digits" : "fashion";
    for (const char* s : {"mei", "warmup"}) {
      std::vector<double> x, y;
      for (int seed = 0; seed < (truth == &truth_a_ ? 6 : 5); ++seed) {
        x.push_back(truth->final_acc.at({s, seed}));
        y.push_back(truth->final_acc.at({"he_base", seed}));
      }
      cases["tost"].push_back({{"x", x}, {"y", y}, {"margin", 0.02}});
      keys.push_back(name + "|" + s);
    }
  }
  json first = scipy_answers(cases);
  ASSERT_FALSE(first.is_null());
  cases["holm"] = json::array({{{"p", {first["tost"][0]["p"], first["tost"][1]["p"]}}},
                               {{"p", {first["tost"][2]["p"], first["tost"][3]["p"]}}}});
  const json answers = scipy_answers(cases);
  ASSERT_FALSE(answers.is_null());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    auto& row = eq[keys[i]];
    const json& want = answers["tost"][i];
    EXPECT_TRUE(near_scipy(csv_num(row, "p_lower"), want["p_lower"], keys[i]));
    EXPECT_TRUE(near_scipy(csv_num(row, "p_upper"), want["p_upper"], keys[i]));
    EXPECT_TRUE(near_scipy(csv_num(row, "p_tost"), want["p"], keys[i]));
    EXPECT_TRUE(near_scipy(csv_num(row, "t_lower"), want["t_lower"], keys[i]));
    EXPECT_TRUE(near_scipy(csv_num(row, "ci90_low"), want["ci90"][0], keys[i]));
    EXPECT_TRUE(near_scipy(csv_num(row, "ci90_high"), want["ci90"][1], keys[i]));
    const json& holm = answers["holm"][i / 2]["adjusted"][i % 2];
    EXPECT_TRUE(near_scipy(csv_num(row, "p_holm"), holm, keys[i]));
    EXPECT_EQ(row["equivalent"], holm.get<double>() < 0.05 ? "1" : "0") << keys[i];
    EXPECT_EQ(csv_num(row, "margin"), 0.02);
  }
  // mei ends 10 and 5 pp above, warmup -3 pp on fashion: none level within 2 pp but digits' warmup.
  EXPECT_EQ(eq["digits|warmup"]["equivalent"], "1");
  EXPECT_EQ(eq["digits|mei"]["equivalent"], "0");
  EXPECT_EQ(eq["fashion|warmup"]["equivalent"], "0");
  EXPECT_NE(slurp(dir_ / "out" / "report.md").find("**equivalent within +-2.00 pp**"), std::string::npos);

  o.equivalence_margin = 0.0;
  EXPECT_THROW(write_study_report(o), ConfigError);
}

TEST_F(StudyTest, AccuracyAtStepsIsTheMeanOverCompleteSeedsAndPairedAtTheLast) {
  SyntheticSpec a;
  a.experiment = "digits";
  a.strategies = {{"he_base", 0.0, 0.6, 1.0}, {"mei", 0.1, 0.05, 2.0}, {"warmup", 0.0, 0.5, 1.0}};
  a.running = {{"warmup", 1}};  // seed 1 is not complete: no mean uses it, the mei pairs do
  truth_a_ = make_synthetic_db((dir_ / "a.db").string(), a);
  StudyOptions o = options();
  o.entries = {{(dir_ / "a.db").string(), ""}};
  o.gnuplot_command = "false";
  o.at_steps = {10, 33, 40};  // 33 is not evaluated (dense to 30, then every 5)
  write_study_report(o);
  auto at = read_csv(dir_ / "out" / "study_at_steps.csv", {"strategy"});
  ASSERT_EQ(at.size(), 3u);
  for (const char* s : {"he_base", "mei", "warmup"}) {
    EXPECT_EQ(at[s]["n_seeds"], "5") << s;
    for (int step : {10, 40}) {
      double sum = 0;
      int n = 0;
      for (int seed = 0; seed < 6; ++seed) {
        if (seed == 1) continue;
        sum += *acc_at(truth_a_, s, seed, step);
        ++n;
      }
      EXPECT_NEAR(csv_num(at[s], "test_acc_at_" + std::to_string(step)), sum / n, 1e-12) << s << " " << step;
    }
    EXPECT_EQ(at[s]["test_acc_at_33"], "") << s;
  }
  EXPECT_EQ(at["he_base"]["diff_mean"], "");
  json cases;
  cases["paired"] = json::array();
  for (const char* s : {"mei", "warmup"}) {
    std::vector<double> x, y;
    for (int seed = 0; seed < 6; ++seed) {
      const auto v = acc_at(truth_a_, s, seed, 40);
      if (!v) continue;
      x.push_back(*v);
      y.push_back(*acc_at(truth_a_, "he_base", seed, 40));
    }
    cases["paired"].push_back({{"x", x}, {"y", y}});
  }
  const json first = scipy_answers(cases);
  ASSERT_FALSE(first.is_null());
  cases["holm"] = json::array({{{"p", {first["paired"][0]["p"], first["paired"][1]["p"]}}}});
  const json answers = scipy_answers(cases);
  ASSERT_FALSE(answers.is_null());
  EXPECT_EQ(at["mei"]["n_pairs"], "6");
  EXPECT_EQ(at["warmup"]["n_pairs"], "5");
  for (std::size_t i = 0; i < 2; ++i) {
    const std::string s = i == 0 ? "mei" : "warmup";
    const json& want = answers["paired"][i];
    EXPECT_TRUE(near_scipy(csv_num(at[s], "diff_mean"), want["mean_diff"], s));
    EXPECT_TRUE(near_scipy(csv_num(at[s], "diff_ci_low"), want["ci"][0], s));
    EXPECT_TRUE(near_scipy(csv_num(at[s], "diff_ci_high"), want["ci"][1], s));
    EXPECT_TRUE(near_scipy(csv_num(at[s], "p_paired_t"), want["p"], s));
    EXPECT_TRUE(near_scipy(csv_num(at[s], "p_holm"), answers["holm"][0]["adjusted"][i], s));
  }
  const std::string md = slurp(dir_ / "out" / "report.md");
  EXPECT_NE(md.find("| Experiment | Strategy | n seeds | Step 10 (%) | Step 33 (%) | Step 40 (%) | Diff. at 40 (pp) |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("AVG(s.test_acc) AS mean"), std::string::npos);
  EXPECT_NE(md.find("s.step IN (10, 33, 40)"), std::string::npos);
}

TEST_F(StudyTest, DynamicsAreMeansOfTheNamedMeasurementsOverCompleteSeeds) {
  SyntheticSpec a;
  a.experiment = "digits";
  a.strategies = {{"he_base", 0.0, 0.6, 1.0}, {"mei", 0.1, 0.05, 2.0}, {"warmup", 0.0, 0.5, 1.0}};
  a.failed = {{"mei", 3}};
  truth_a_ = make_synthetic_db((dir_ / "a.db").string(), a);
  StudyOptions o = options();
  o.entries = {{(dir_ / "a.db").string(), ""}};
  o.gnuplot_command = "false";
  o.dynamics = {parse_measurement("train_loss@10,30,40", "--dynamics"), parse_measurement("test_acc@30", "--dynamics")};
  o.dynamics_strategies = {"he_base", "mei"};
  write_study_report(o);
  auto dyn = read_csv(dir_ / "out" / "study_dynamics.csv", {"strategy"});
  ASSERT_EQ(dyn.size(), 2u);  // warmup left out
  for (const char* s : {"he_base", "mei"}) {
    EXPECT_EQ(dyn[s]["n_seeds"], "5");
    for (int step : {10, 30, 40}) {
      // The generator records train_loss = 2 (1 - accuracy of the step).
      double loss = 0, acc = 0;
      for (int seed = 0; seed < 6; ++seed) {
        if (seed == 3) continue;
        loss += 2.0 * (1.0 - *acc_at(truth_a_, s, seed, step)) / 5;
        acc += *acc_at(truth_a_, s, seed, step) / 5;
      }
      EXPECT_NEAR(csv_num(dyn[s], "train_loss_at_" + std::to_string(step)), loss, 1e-12) << s << " " << step;
      if (step == 30) {
        EXPECT_NEAR(csv_num(dyn[s], "test_acc_at_30"), acc, 1e-12) << s;
      }
    }
  }
  const std::string md = slurp(dir_ / "out" / "report.md");
  EXPECT_NE(md.find("| train_loss at 10, 30, 40 | test_acc (%) at 30 |"), std::string::npos) << md;
  EXPECT_NE(md.find("AVG(s.train_loss) AS mean"), std::string::npos);

  for (const char* bad : {"phase@1", "nope@1"}) {
    o.dynamics = {parse_measurement(bad, "--dynamics")};
    try {
      write_study_report(o);
      FAIL() << bad << " accepted";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("not a per-step measurement"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("feature_grad_energy"), std::string::npos) << e.what();
    }
  }
  o.dynamics = {parse_measurement("zeta@1", "--dynamics"), parse_measurement("zeta@2", "--dynamics")};
  EXPECT_THROW(write_study_report(o), ConfigError);
  o.dynamics = {parse_measurement("zeta@1", "--dynamics")};
  o.dynamics_strategies = {"nope"};
  try {
    write_study_report(o);
    FAIL() << "an unknown strategy accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("'nope', which no experiment of the study has"), std::string::npos)
        << e.what();
  }
  for (const char* bad : {"zeta", "@1", "zeta@", "zeta@0", "zeta@30,10", "zeta@5,5", "Zeta@1", "zeta@1;x"}) {
    EXPECT_THROW(parse_measurement(bad, "--dynamics"), ConfigError) << bad;
  }
  EXPECT_EQ(parse_steps(" 150, 300,450 ", "--at-steps"), (std::vector<int64_t>{150, 300, 450}));
  EXPECT_THROW(parse_steps("150,-3", "--at-steps"), ConfigError);
  EXPECT_THROW(parse_steps("", "--at-steps"), ConfigError);
}

TEST_F(StudyTest, SweepsArePickedPerExperimentAndAggregatedUnderTheirBase) {
  // digits: on validation mei[lr=3e-3] looks better, fashion: mei[lr=1e-3]; on test the reverse in digits.
  SyntheticSpec a;
  a.experiment = "digits";
  a.strategies = {{"he_base", 0.0, 0.6, 1.0}, {"mei[lr=1e-3]", 0.1, 0.05, 2.0}, {"mei[lr=3e-3]", 0.0, 0.05, 2.0}};
  a.val_shift = {{"he_base", 0.0}, {"mei[lr=1e-3]", 0.0}, {"mei[lr=3e-3]", 0.03}};
  truth_a_ = make_synthetic_db((dir_ / "a.db").string(), a);
  SyntheticSpec b;
  b.experiment = "fashion";
  b.seeds = 5;
  b.rng_seed = 12;
  b.strategies = {{"he_base", 0.0, 0.6, 1.0}, {"mei[lr=1e-3]", 0.05, 0.05, 2.0}, {"mei[lr=3e-3]", 0.0, 0.05, 2.0}};
  b.val_shift = {{"he_base", 0.0}, {"mei[lr=1e-3]", 0.02}, {"mei[lr=3e-3]", 0.0}};
  truth_b_ = make_synthetic_db((dir_ / "b.db").string(), b);
  StudyOptions o = options();
  o.gnuplot_command = "false";
  o.select_on = "validation";
  ReportSummary s = write_study_report(o);
  EXPECT_EQ(s.strategies, (std::vector<std::string>{"he_base", "mei"}));
  auto sel = read_csv(dir_ / "out" / "study_selection.csv", {"experiment", "variant"});
  ASSERT_EQ(sel.size(), 4u);
  EXPECT_EQ(sel["digits|mei[lr=3e-3]"]["picked"], "1");
  EXPECT_EQ(sel["digits|mei[lr=1e-3]"]["picked"], "0");
  EXPECT_EQ(sel["fashion|mei[lr=1e-3]"]["picked"], "1");
  auto claims = read_csv(dir_ / "out" / "study_claims.csv", {"experiment", "strategy"});
  EXPECT_EQ(claims.size(), 4u);
  EXPECT_EQ(claims.count("digits|mei[lr=1e-3]"), 0u);
  ASSERT_EQ(claims.count("digits|mei[lr=3e-3]"), 1u);
  ASSERT_EQ(claims.count("fashion|mei[lr=1e-3]"), 1u);
  // The aggregate pools the two picked variants as "mei".
  auto fin = read_csv(dir_ / "out" / "study_final.csv", {"strategy"});
  ASSERT_EQ(fin.size(), 1u);
  EXPECT_EQ(fin["mei"]["experiments"], "2");
  EXPECT_EQ(fin["mei"]["runs"], "11");
  std::string md = slurp(dir_ / "out" / "report.md");
  EXPECT_NE(md.find("picked by its mean validation accuracy"), std::string::npos);
  EXPECT_EQ(md.find("TEST split"), std::string::npos);

  o.select_on = "test";
  write_study_report(o);
  sel = read_csv(dir_ / "out" / "study_selection.csv", {"experiment", "variant"});
  EXPECT_EQ(sel["digits|mei[lr=1e-3]"]["picked"], "1");
  EXPECT_NE(slurp(dir_ / "out" / "report.md").find("**Selected on the TEST split**"), std::string::npos);

  o.select_on = "train";
  EXPECT_THROW(write_study_report(o), ConfigError);
  // An experiment without a validation split cannot be selected on one: the error names it.
  SyntheticSpec c;
  c.experiment = "plain";
  c.strategies = {{"he_base", 0.0, 0.6, 1.0}, {"mei[lr=1e-3]", 0.1, 0.05, 2.0}};
  make_synthetic_db((dir_ / "c.db").string(), c);
  o.select_on = "validation";
  o.entries.push_back({(dir_ / "c.db").string(), ""});
  try {
    write_study_report(o);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("c.db: --select-on validation, but experiment 'plain' recorded no "
                                         "validation accuracy"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace harness::reports

// The `harness` binary refuses bad options and broken plugins with a clear message and exit status 2
// (or carries on, for a plugin it does not use) instead of crashing: each case once crashed or was accepted.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/harness/harness_process.h"

namespace harness {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using testing::read_text;
using testing::spawn_harness;
using testing::TempDir;
using testing::wait_exit;

constexpr int kExitUsage = 2;

class CliRefusals : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>();
    testing::write_idx_task(dir_->file("data"), 7, /*wrong_labels=*/false);
  }
  static void TearDownTestSuite() { dir_.reset(); }

  // Runs the binary; returns its exit status, with its output in `output_`.
  int harness(const std::vector<std::string>& args) {
    const std::string log = dir_->file("out.log");
    const int status = wait_exit(spawn_harness(args, log));
    output_ = read_text(log);
    return status;
  }
  // `harness pretrain` on the generated data (so a bad option that slipped through would reach training).
  int pretrain(const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"pretrain", "--dataset", "idx", "--data-path", dir_->file("data"), "--device",
                                     "cpu", "--out", dir_->file("never.pt")};
    args.insert(args.end(), extra.begin(), extra.end());
    if (extra.front().rfind("--threads", 0) != 0) args.insert(args.end(), {"--threads", "1"});
    return harness(args);
  }

  static std::unique_ptr<TempDir> dir_;
  std::string output_;
};
std::unique_ptr<TempDir> CliRefusals::dir_;

TEST_F(CliRefusals, PretrainChecksEveryOptionBeforeUsingIt) {
  const std::pair<std::vector<std::string>, const char*> cases[] = {
      {{"--batch-size", "0"}, "--batch-size"},   {{"--batch-size=-4"}, "--batch-size"},
      {{"--epochs", "0"}, "--epochs"},           {{"--epochs=-2"}, "--epochs"},
      {{"--lr", "0"}, "--lr"},                   {{"--lr=-1e-3"}, "--lr"},
      {{"--lr", "nan"}, "--lr"},                 {{"--lr", "inf"}, "--lr"},
      {{"--lr", "1e308"}, "--lr"},               {{"--aux-binary-weight", "nan"}, "--aux-binary-weight"},
      {{"--threads=-1"}, "--threads"},           {{"--seed=-1"}, "--seed"},
      {{"--seed", "99999999999999999999"}, "--seed"}, {{"--test-fraction", "nan"}, "--test-fraction"},
      {{"--arch", "lenet"}, "--arch"},
  };
  for (const auto& [extra, option] : cases) {
    SCOPED_TRACE(extra.front());
    EXPECT_EQ(pretrain(extra), kExitUsage) << output_;
    EXPECT_THAT(output_, AllOf(HasSubstr("harness pretrain: error"), HasSubstr(option))) << output_;
  }
  EXPECT_FALSE(std::filesystem::exists(dir_->file("never.pt")));
}

TEST_F(CliRefusals, RunAndReportRefuseBadNumbers) {
  EXPECT_EQ(harness({"run", "--threads=-1"}), kExitUsage) << output_;
  EXPECT_THAT(output_, HasSubstr("--threads -1"));
  for (const char* target : {"nan", "2", "-0.5"}) {
    EXPECT_EQ(harness({"report", "--db", dir_->file("none.db"), "--target-accuracy", target}), kExitUsage) << output_;
    EXPECT_THAT(output_, AllOf(HasSubstr("--target-accuracy"), HasSubstr("[0, 1]"))) << target;
  }
  for (const char* margin : {"0", "-1", "100", "nan"}) {
    EXPECT_EQ(harness({"report", "--db", dir_->file("none.db"), "--equivalence-margin", margin}), kExitUsage)
        << output_;
    EXPECT_THAT(output_, AllOf(HasSubstr("--equivalence-margin"), HasSubstr("(0, 100)"))) << margin;
  }
  // A study report: the experiments come from one place, --db paired with --experiment in order.
  EXPECT_EQ(harness({"report", "--study", dir_->file("none.study"), "--db", dir_->file("none.db")}), kExitUsage)
      << output_;
  EXPECT_THAT(output_, HasSubstr("--study lists the experiments"));
  EXPECT_EQ(harness({"report", "--db", "a.db", "--db", "b.db", "--experiment", "x", "--experiment", "y",
                     "--experiment", "z"}),
            kExitUsage)
      << output_;
  EXPECT_THAT(output_, HasSubstr("2 --db and 3 --experiment"));
  EXPECT_EQ(harness({"report", "--db", "a.db", "--db", "b.db", "--target-accuracy", "0.5"}), kExitUsage) << output_;
  EXPECT_THAT(output_, HasSubstr("a study report does not take it"));
  // A study takes the comparisons' options of one report, checked before any database is opened.
  EXPECT_EQ(harness({"report", "--db", "a.db", "--db", "b.db", "--equivalence-margin", "0"}), kExitUsage) << output_;
  EXPECT_THAT(output_, AllOf(HasSubstr("--equivalence-margin"), HasSubstr("(0, 100)")));
  EXPECT_EQ(harness({"report", "--db", "a.db", "--db", "b.db", "--select-on", "train"}), kExitUsage) << output_;
  EXPECT_THAT(output_, HasSubstr("--select-on 'train'"));
  EXPECT_EQ(harness({"report", "--db", "a.db", "--db", "b.db", "--at-steps", "300,150"}), kExitUsage) << output_;
  EXPECT_THAT(output_, HasSubstr("--at-steps '300,150': steps must be ascending"));
  EXPECT_EQ(harness({"report", "--db", "a.db", "--db", "b.db", "--dynamics", "zeta"}), kExitUsage) << output_;
  EXPECT_THAT(output_, HasSubstr("expected COLUMN@STEPS"));
  // ... and the step tables are a study's only.
  EXPECT_EQ(harness({"report", "--db", dir_->file("none.db"), "--at-steps", "10"}), kExitUsage) << output_;
  EXPECT_THAT(output_, HasSubstr("apply to a study report"));
  EXPECT_EQ(harness({"report", "--db", dir_->file("none.db"), "--bootstrap-seed=-1"}), kExitUsage) << output_;
  EXPECT_THAT(output_, AllOf(HasSubstr("--bootstrap-seed '-1'"), HasSubstr("whole number")));
}

TEST_F(CliRefusals, AFolderWithATruncatedOrThrowingPluginDoesNotStopACommandThatDoesNotUseIt) {
  const std::string folder = dir_->file("plugins");
  std::filesystem::create_directories(folder);
  std::ifstream in(std::string(HARNESS_TEST_PLUGIN_DIR) + "/good/good_plugin.so", std::ios::binary);
  const std::string whole(std::istreambuf_iterator<char>(in), {});
  std::ofstream(folder + "/half_written.so", std::ios::binary) << whole.substr(0, whole.size() / 2);
  const std::string throwing = std::string(HARNESS_TEST_PLUGIN_DIR) + "/throwing";

  EXPECT_EQ(harness({"strategies", "list", "--plugin-path", folder, "--plugin-path", throwing}), 0) << output_;
  EXPECT_THAT(output_, AllOf(HasSubstr("he_base"), HasSubstr("half_written"), HasSubstr("BROKEN"),
                             HasSubstr(folder + "/half_written.so"), HasSubstr("truncated"),
                             HasSubstr("throwing_parameters"), HasSubstr("parameters failed on purpose")));
  EXPECT_EQ(harness({"strategies", "show", "he_base", "--plugin-path", folder, "--plugin-path", throwing}), 0)
      << output_;
  // Only using a broken plugin is an error, and it names the file.
  EXPECT_EQ(harness({"strategies", "show", "throwing_parameters", "--plugin-path", throwing}), kExitUsage) << output_;
  EXPECT_THAT(output_, AllOf(HasSubstr("throwing_parameters.so"), HasSubstr("parameters() threw")));
  EXPECT_EQ(harness({"strategies", "show", "half_written", "--plugin-path", folder}), kExitUsage) << output_;
  EXPECT_THAT(output_, AllOf(HasSubstr("half_written.so"), HasSubstr("truncated")));
}

}  // namespace
}  // namespace harness

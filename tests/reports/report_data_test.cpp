// Tests of reports/report_data.cpp: the validation values are read when the database has them,
// and a database of schema version 1 (without the columns) is read as before, unmodified.
#include "reports/report_data.h"

#include "tests/reports/synthetic_db.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <unistd.h>

namespace harness::reports {
namespace {

namespace fs = std::filesystem;
using testing::make_synthetic_db;
using testing::SyntheticSpec;

class ReportDataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("report_data_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    db_ = (dir_ / "r.db").string();
    SyntheticSpec spec;
    spec.strategies = {{"he_base", 0.0, 0.5, 1.0}, {"mei", 0.02, 0.1, 1.5}};
    spec.seeds = 3;
    spec.steps = 12;
    spec.dense_eval_steps = 3;
    spec.eval_every = 5;
    make_synthetic_db(db_, spec);
  }
  void TearDown() override { fs::remove_all(dir_); }

  ReportData read() {
    const db::Database db = db::Database::open(db_, db::OpenMode::ReadOnly);
    return read_report_data(db, db_, "synthetic", "he_base", 10);
  }

  fs::path dir_;
  std::string db_;
};

TEST_F(ReportDataTest, ReadsValidationAccuracyAtEveryStepThatHasItAndTheLastOne) {
  {
    db::Database db = db::Database::open(db_, db::OpenMode::ReadWrite);
    // Validation at the evaluation steps except the last: the final one is that of step 10.
    db.exec("UPDATE steps SET val_acc = test_acc - 0.01, val_loss = test_loss WHERE test_acc IS NOT NULL AND step < 12");
  }
  const ReportData data = read();
  EXPECT_TRUE(data.has_validation_column);
  ASSERT_EQ(data.val_acc.size(), 2u);
  for (const auto& [strategy, by_seed] : data.val_acc) {
    ASSERT_EQ(by_seed.size(), 3u) << strategy;
    for (const auto& [seed, series] : by_seed) {
      std::vector<int64_t> steps;
      for (const auto& [step, value] : series) {
        steps.push_back(step);
        EXPECT_NEAR(value, data.test_acc.at(strategy).at(seed).at(step) - 0.01, 1e-12);
      }
      EXPECT_EQ(steps, (std::vector<int64_t>{1, 2, 3, 5, 10}));
      EXPECT_DOUBLE_EQ(data.final_val_acc.at(strategy).at(seed), series.at(10));
    }
  }
}

TEST_F(ReportDataTest, WithoutAValidationSplitTheValidationMapsAreEmpty) {
  const ReportData data = read();
  EXPECT_TRUE(data.has_validation_column);
  EXPECT_TRUE(data.val_acc.empty());
  EXPECT_TRUE(data.final_val_acc.empty());
  EXPECT_EQ(data.final_acc.size(), 2u);
}

TEST_F(ReportDataTest, ASchemaVersionOneDatabaseIsReadAsBeforeAndNotModified) {
  const ReportData current = read();
  {
    db::Database db = db::Database::open(db_, db::OpenMode::ReadWrite);
    db.exec("ALTER TABLE steps DROP COLUMN val_loss; ALTER TABLE steps DROP COLUMN val_acc; PRAGMA user_version = 1; "
            "PRAGMA journal_mode = DELETE");
  }
  std::ifstream in(db_, std::ios::binary);
  const std::string before{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  const ReportData old = read();
  EXPECT_FALSE(old.has_validation_column);
  EXPECT_TRUE(old.val_acc.empty());
  EXPECT_EQ(old.final_acc, current.final_acc);
  EXPECT_EQ(old.early, current.early);
  EXPECT_EQ(old.test_acc, current.test_acc);
  std::ifstream again(db_, std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(again), std::istreambuf_iterator<char>()), before);
  const db::Database db = db::Database::open(db_, db::OpenMode::ReadOnly);
  EXPECT_EQ(db.version(), 1);
}

}  // namespace
}  // namespace harness::reports

// Tests of reports/report_folder.cpp: every table and figure is recorded in order, a figure that could
// not be drawn is said in the document and the warnings, and a failed write is a DataError.
#include "reports/report_folder.h"

#include "harness/errors.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace harness::reports {
namespace {

namespace fs = std::filesystem;

class ReportFolderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("harness_folder_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(ReportFolderTest, TablesAndFiguresAreRecordedInOrderAndTheDocumentsWrittenLast) {
  ReportFolder folder((dir_ / "out").string());
  EXPECT_TRUE(fs::is_directory(dir_ / "out"));
  Table shown("shown", {{"Strategy", {"strategy"}}, {"Value", {"value", "value_ci"}}});
  shown.row({{"mei", {"mei"}}, {"1.00", {"1", "0.5"}}});
  Table hidden("hidden", {{"Step", {"step"}}});
  hidden.row({{"3", {"3"}}});
  folder.table(shown);
  folder.csv(hidden);
  folder.figure("drawn", "A figure", "");
  folder.figure("broken", "Another", "gnuplot said no");
  folder.write_documents("Title");
  const auto out = [&](const char* f) { return (dir_ / "out" / f).string(); };
  EXPECT_EQ(folder.files(), (std::vector<std::string>{out("report.md"), out("report.html"), out("shown.csv"),
                                                      out("hidden.csv"), out("drawn.png"), out("drawn.svg")}));
  EXPECT_TRUE(folder.figures_written());
  ASSERT_EQ(folder.warnings().size(), 1u);
  EXPECT_EQ(folder.warnings()[0], "figure broken skipped: gnuplot said no");
  std::ifstream csv(out("shown.csv"));
  std::string text((std::istreambuf_iterator<char>(csv)), {});
  EXPECT_EQ(text, "strategy,value,value_ci\nmei,1,0.5\n");
  std::ifstream md(out("report.md"));
  std::string markdown((std::istreambuf_iterator<char>(md)), {});
  EXPECT_NE(markdown.find("| mei | 1.00 |"), std::string::npos) << markdown;
  EXPECT_EQ(markdown.find("hidden"), std::string::npos);  // CSV only
  EXPECT_NE(markdown.find("Figure `broken` skipped: gnuplot said no"), std::string::npos);
}

TEST_F(ReportFolderTest, AFailedWriteNamesTheFile) {
  ReportFolder folder((dir_ / "out").string());
  fs::create_directories(dir_ / "out" / "t.csv");  // a folder where the CSV should go
  Table t("t", {{"A", {"a"}}});
  try {
    folder.table(t);
    FAIL() << "no error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("t.csv: cannot write the table t"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace harness::reports

// `harness query` end to end: a query without end stops at --timeout with a clear error, bad limits are
// refused, and reading a WAL database leaves no -wal/-shm beside it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
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
constexpr const char* kEndless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c";

class QueryCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = dir_.file("r.db");
    db::Database w = db::Database::open(db_, db::OpenMode::ReadWrite);  // WAL, as a run leaves it part-way
    w.exec("INSERT INTO plugins (name, version, file_path, file_hash) VALUES ('p', '1', 'f', 'h')");
  }
  int query(const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"query", "--db", db_};
    args.insert(args.end(), extra.begin(), extra.end());
    const std::string log = dir_.file("out.log");
    const int status = wait_exit(spawn_harness(args, log));
    output_ = read_text(log);
    return status;
  }

  TempDir dir_;
  std::string db_;
  std::string output_;
};

TEST_F(QueryCommand, AQueryWithoutEndStopsAtItsTimeLimit) {
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(query({kEndless, "--timeout", "0.5"}), kExitUsage) << output_;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
  EXPECT_THAT(output_, AllOf(HasSubstr("harness query: error"), HasSubstr(db_),
                             HasSubstr("stopped at its time limit of 0.5 s"), HasSubstr("--timeout")))
      << output_;
  EXPECT_EQ(query({"SELECT count(*) AS n FROM plugins", "--format", "csv", "--timeout", "0.5"}), 0) << output_;
  EXPECT_EQ(output_, "n\n1\n");
}

TEST_F(QueryCommand, ABadTimeLimitIsRefused) {
  for (const char* bad : {"-1", "nan", "inf", "1e10"}) {
    EXPECT_EQ(query({"SELECT 1", "--timeout", bad}), kExitUsage) << bad;
    EXPECT_THAT(output_, AllOf(HasSubstr("--timeout"), HasSubstr("seconds from 0 (no limit)"))) << bad << output_;
  }
  EXPECT_EQ(query({"SELECT 1", "--timeout", "soon"}), kExitUsage);
  EXPECT_THAT(output_, HasSubstr("timeout"));
}

TEST_F(QueryCommand, ReadingAWalDatabaseLeavesNoFileBeside) {
  ASSERT_FALSE(std::filesystem::exists(db_ + "-wal"));
  EXPECT_EQ(query({"SELECT name FROM plugins", "--format", "csv"}), 0) << output_;
  EXPECT_EQ(output_, "name\np\n");
  EXPECT_FALSE(std::filesystem::exists(db_ + "-wal"));
  EXPECT_FALSE(std::filesystem::exists(db_ + "-shm"));
}

}  // namespace
}  // namespace harness

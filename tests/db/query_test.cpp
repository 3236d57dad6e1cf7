// Tests of db/query.cpp: refusal of every kind of write before anything runs, and the three formats.
#include "db/query.h"

#include "db/store.h"
#include "store_fixture.h"
#include "temp_dir.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <sstream>

namespace harness::db {
namespace {

using ::testing::HasSubstr;
using namespace testing;  // NOLINT: test helpers

class QueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.file("r.db");
    Store store = Store::open(path_);
    const int64_t e = store.ensure_experiment(experiment("main"));
    store.ensure_trials(e, trials({"he_base", "mei"}, 2, 3));
    while (auto t = store.claim_next_trial(e, this_worker())) {
      StepRecorder rec = store.recorder(t->trial_id);
      for (int s = 1; s <= 3; ++s) rec.add(step_row(t->trial_id, s, s != 2));
      rec.finish(1.0);
    }
  }
  std::string run(const std::string& sql, QueryFormat format) {
    std::ostringstream out;
    run_query(path_, sql, format, out);
    return out.str();
  }
  int64_t trial_count() {
    const Database db = Database::open(path_, OpenMode::ReadOnly);
    return scalar(db, "SELECT count(*) FROM trials");
  }

  TempDir dir_;
  std::string path_;
};

TEST_F(QueryTest, WritesAreRefusedBeforeAnythingRuns) {
  const std::string attached = dir_.file("new.db");
  const std::string vacuumed = dir_.file("copy.db");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"INSERT INTO plugins (name, version, file_path, file_hash) VALUES ('a', 'b', 'c', 'd')", "INSERT INTO plugins"},
      {"UPDATE trials SET status = 'pending'", "UPDATE trials SET status"},
      {"DELETE FROM steps", "DELETE FROM steps"},
      {"DROP TABLE steps", "DROP TABLE steps"},
      {"CREATE TABLE x (a)", "CREATE TABLE x (a)"},
      {"CREATE TEMP TABLE x AS SELECT 1", "CREATE TEMP TABLE x"},
      {"ATTACH DATABASE '" + attached + "' AS other", "ATTACH DATABASE"},
      {"PRAGMA user_version = 5", "PRAGMA user_version = 5"},
      {"PRAGMA query_only = 0", "PRAGMA query_only = 0"},
      {"PRAGMA journal_mode = DELETE", "PRAGMA journal_mode = DELETE"},
      {"VACUUM INTO '" + vacuumed + "'", "VACUUM INTO"},
      {"REINDEX", "REINDEX"},
      {"-- a header comment\n/* and another */ DELETE FROM metrics", "DELETE FROM metrics"},
      // A harmless first statement does not run: the write is found first.
      {"SELECT count(*) FROM trials; DELETE FROM trials", "DELETE FROM trials"},
      {"WITH d AS (SELECT 1) DELETE FROM trials", "WITH d AS (SELECT"},
  };
  for (const auto& [sql, words] : cases) {
    try {
      run(sql, QueryFormat::Table);
      ADD_FAILURE() << "not refused: " << sql;
    } catch (const DbError& e) {
      EXPECT_THAT(e.what(), HasSubstr("query is read-only: '" + words)) << sql;
      EXPECT_THAT(e.what(), HasSubstr("would modify the database")) << sql;
    }
  }
  EXPECT_EQ(trial_count(), 4);
  EXPECT_FALSE(std::filesystem::exists(attached));
  EXPECT_FALSE(std::filesystem::exists(vacuumed));
  const Database db = Database::open(path_, OpenMode::ReadOnly);
  EXPECT_EQ(scalar(db, "SELECT count(*) FROM steps"), 12);
  EXPECT_EQ(scalar(db, "PRAGMA user_version"), Database::schema_version());
}

TEST_F(QueryTest, IntrospectionPragmasAndViewsAreAllowed) {
  EXPECT_THAT(run("PRAGMA table_info(steps)", QueryFormat::Csv), HasSubstr("noise_fraction"));
  EXPECT_THAT(run("PRAGMA user_version", QueryFormat::Csv), HasSubstr(std::to_string(Database::schema_version())));
  EXPECT_THAT(run("SELECT name FROM pragma_table_info('trials')", QueryFormat::Csv), HasSubstr("planned_steps"));
  EXPECT_THAT(run("SELECT DISTINCT strategy FROM step_view ORDER BY 1", QueryFormat::Csv), "strategy\nhe_base\nmei\n");
}

TEST_F(QueryTest, MultipleReadStatementsAreRefusedClearly) {
  try {
    run("SELECT 1; SELECT 2;", QueryFormat::Table);
    FAIL() << "expected DbError";
  } catch (const DbError& e) {
    EXPECT_THAT(e.what(), HasSubstr("2 statements"));
  }
  EXPECT_THROW(run("  -- only a comment\n", QueryFormat::Table), DbError);
  // A header comment and a trailing semicolon are one statement.
  EXPECT_EQ(run("-- what it answers\nSELECT 1 AS one;\n-- end\n", QueryFormat::Csv), "one\n1\n");
}

TEST_F(QueryTest, AnEndlessQueryStopsAtItsTimeLimitWithAClearError) {
  const std::string endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c";
  const Database db = Database::open(path_, OpenMode::ReadOnly);
  const auto start = std::chrono::steady_clock::now();
  try {
    run_read_only_query(db, endless, std::chrono::milliseconds(300));
    FAIL() << "the endless query returned";
  } catch (const DbError& e) {
    EXPECT_THAT(e.what(), HasSubstr(path_));
    EXPECT_THAT(e.what(), HasSubstr("stopped at its time limit of 0.3 s"));
    EXPECT_THAT(e.what(), HasSubstr("--timeout"));
  }
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, std::chrono::milliseconds(300));
  EXPECT_LT(took, std::chrono::seconds(10));
  // The connection is usable afterwards, and a query that ends is not stopped; zero is no limit.
  EXPECT_EQ(run_read_only_query(db, "SELECT count(*) FROM trials", std::chrono::milliseconds(300)).rows.size(), 1u);
  std::ostringstream out;
  run_query(path_, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200000) "
            "SELECT count(*) AS n FROM c", QueryFormat::Csv, out, std::chrono::milliseconds(0));
  EXPECT_EQ(out.str(), "n\n200000\n");
}

TEST_F(QueryTest, AQueryOfAWalDatabaseLeavesNoFileBehind) {
  EXPECT_EQ(run("SELECT count(*) AS n FROM trials", QueryFormat::Csv), "n\n4\n");
  EXPECT_FALSE(std::filesystem::exists(path_ + "-wal"));
  EXPECT_FALSE(std::filesystem::exists(path_ + "-shm"));
}

TEST_F(QueryTest, SqlErrorsAreDbErrorsNamingTheFile) {
  try {
    run("SELECT nope FROM trials", QueryFormat::Table);
    FAIL() << "expected DbError";
  } catch (const DbError& e) {
    EXPECT_THAT(e.what(), HasSubstr(path_));
    EXPECT_THAT(e.what(), HasSubstr("no such column: nope"));
  }
  EXPECT_THROW(run_query(dir_.file("missing.db"), "SELECT 1", QueryFormat::Table, std::cout), DbError);
  EXPECT_FALSE(std::filesystem::exists(dir_.file("missing.db")));
}

TEST_F(QueryTest, CsvQuotesCommasQuotesAndNewlines) {
  const std::string csv = run(
      "SELECT 'plain' AS a, 'x,y' AS \"b,c\", 'say \"hi\"' AS d, 'two\nlines' AS e, NULL AS f, 0.1 AS g, 42 AS h",
      QueryFormat::Csv);
  EXPECT_EQ(csv, "a,\"b,c\",d,e,f,g,h\nplain,\"x,y\",\"say \"\"hi\"\"\",\"two\nlines\",,0.1,42\n");
}

TEST_F(QueryTest, CsvDoublesRoundTrip) {
  const std::string csv = run("SELECT 1.0/3 AS third", QueryFormat::Csv);
  EXPECT_EQ(std::stod(csv.substr(csv.find('\n') + 1)), 1.0 / 3);
}

TEST_F(QueryTest, JsonIsAnArrayOfObjectsWithNulls) {
  const auto j = nlohmann::json::parse(
      run("SELECT step, test_acc, phase FROM steps WHERE trial_id = 1 ORDER BY step", QueryFormat::Json));
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 3u);
  EXPECT_EQ(j[0]["step"], 1);
  EXPECT_EQ(j[0]["phase"], "head");
  EXPECT_TRUE(j[0]["test_acc"].is_number_float());
  EXPECT_TRUE(j[1]["test_acc"].is_null());  // step 2 was not evaluated
  EXPECT_EQ(run("SELECT 1 WHERE 0", QueryFormat::Json), "[]\n");
  const auto dup = nlohmann::json::parse(run("SELECT 1 AS id, 2 AS id", QueryFormat::Json));
  EXPECT_EQ(dup[0]["id"], 1);
  EXPECT_EQ(dup[0]["id_2"], 2);
}

TEST_F(QueryTest, TableFormatAlignsColumns) {
  const std::string t = run("SELECT strategy, count(*) AS trials FROM trials GROUP BY strategy ORDER BY strategy",
                            QueryFormat::Table);
  EXPECT_EQ(t,
            "strategy  trials\n"
            "--------  ------\n"
            "he_base        2\n"
            "mei            2\n"
            "(2 rows)\n");
  EXPECT_THAT(run("SELECT NULL AS n", QueryFormat::Table), HasSubstr("NULL"));
}

TEST(QueryFormatTest, ParsesNamesAndRefusesOthers) {
  EXPECT_EQ(parse_query_format("CSV"), QueryFormat::Csv);
  EXPECT_EQ(parse_query_format("json"), QueryFormat::Json);
  EXPECT_EQ(parse_query_format("table"), QueryFormat::Table);
  try {
    parse_query_format("xml");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("'xml'"));
    EXPECT_THAT(e.what(), HasSubstr("table, csv or json"));
  }
  EXPECT_THROW(read_sql_file("/nonexistent/q.sql"), ConfigError);
}

}  // namespace
}  // namespace harness::db

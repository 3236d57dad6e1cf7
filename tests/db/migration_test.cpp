// Tests of db/migrations.cpp and the version handling of db/database.cpp: a committed version-1
// study database (a copy) migrates forward with every row unchanged, a failing or killed step
// leaves the previous version, a read-only open of an older version writes nothing, and the
// column list of db/step_row.h agrees with db/schema.sql.
#include "db/database.h"
#include "db/migrations.h"
#include "db/query.h"
#include "db/step_row.h"
#include "temp_dir.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>

namespace harness::db {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;
namespace fs = std::filesystem;

// A committed study database of schema version 1 (recorded before validation splits existed).
const fs::path kCommitted = fs::path(HARNESS_REPRO_DIR) / "convnet-digits.db";

int64_t scalar(const Database& db, const std::string& sql) {
  return std::get<int64_t>(db.query(sql).rows.at(0).at(0));
}

std::string bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Copies the committed database (and a -wal/-shm beside it, were a run writing it) into `dir`.
std::string copy_committed(const TempDir& dir) {
  const std::string to = dir.file("committed.db");
  fs::copy_file(kCommitted, to);
  for (const char* suffix : {"-wal", "-shm"}) {
    if (fs::exists(kCommitted.string() + suffix)) fs::copy_file(kCommitted.string() + suffix, to + suffix);
  }
  return to;
}

// Every row of every table, the columns given (all of version 1), in a fixed order.
std::map<std::string, Table> contents(const Database& db, const std::string& step_columns) {
  return {{"experiments", db.query("SELECT * FROM experiments ORDER BY id")},
          {"plugins", db.query("SELECT * FROM plugins ORDER BY id")},
          {"trials", db.query("SELECT * FROM trials ORDER BY id")},
          {"steps", db.query("SELECT " + step_columns + " FROM steps ORDER BY trial_id, step")},
          {"metrics", db.query("SELECT * FROM metrics ORDER BY trial_id, step, name")}};
}

std::string column_list(const Database& db, const std::string& table) {
  std::string out;
  for (const auto& row : db.query("PRAGMA table_info(" + table + ")").rows) {
    out += (out.empty() ? "" : ", ") + std::get<std::string>(row.at(1));
  }
  return out;
}

// (name, type, notnull, pk) of each column, as a fresh or migrated database declares them.
std::vector<std::vector<Value>> declared(const Database& db, const std::string& table) {
  std::vector<std::vector<Value>> out;
  for (const auto& row : db.query("PRAGMA table_info(" + table + ")").rows) {
    out.push_back({row.at(1), row.at(2), row.at(3), row.at(5)});
  }
  return out;
}

TEST(Migration, TheCommittedStudyDatabaseIsSchemaVersionOne) {
  ASSERT_TRUE(fs::exists(kCommitted)) << kCommitted;
  TempDir dir;
  const Database db = Database::open(copy_committed(dir), OpenMode::ReadOnly);
  EXPECT_EQ(db.version(), 1);
  EXPECT_FALSE(db.has_column("steps", "val_acc"));
  EXPECT_GT(scalar(db, "SELECT count(*) FROM steps"), 1000);
}

TEST(Migration, ACommittedDatabaseMigratesWithEveryRowUnchangedAndTheNewColumnsNull) {
  TempDir dir;
  const std::string path = copy_committed(dir);
  std::string v1_columns;
  std::map<std::string, Table> before;
  {
    const Database old = Database::open(path, OpenMode::ReadOnly);
    v1_columns = column_list(old, "steps");
    before = contents(old, v1_columns);
  }
  ASSERT_GT(before.at("steps").rows.size(), 1000u);

  const Database db = Database::open(path, OpenMode::ReadWrite);
  EXPECT_EQ(db.version(), Database::schema_version());
  EXPECT_EQ(scalar(db, "PRAGMA user_version"), Database::schema_version());
  const std::map<std::string, Table> after = contents(db, v1_columns);
  for (const auto& [table, rows] : before) {
    EXPECT_EQ(after.at(table).columns, rows.columns) << table;
    // Value compares the variants exactly: doubles bit for bit (no NaN is stored), NULL as NULL.
    EXPECT_TRUE(after.at(table).rows == rows.rows) << table << " changed in the migration";
  }
  EXPECT_EQ(scalar(db, "SELECT count(*) FROM steps WHERE val_acc IS NOT NULL OR val_loss IS NOT NULL"), 0);
  EXPECT_EQ(scalar(db, "SELECT count(*) FROM step_view WHERE val_acc IS NULL"),
            static_cast<int64_t>(before.at("steps").rows.size()));

  // A migrated database declares exactly what a new one does.
  const Database fresh = Database::open(":memory:", OpenMode::ReadWrite);
  for (const char* table : {"experiments", "plugins", "trials", "steps", "metrics"}) {
    EXPECT_EQ(declared(db, table), declared(fresh, table)) << table;
  }
  EXPECT_EQ(column_list(db, "step_view"), column_list(fresh, "step_view"));
}

TEST(Migration, IntegrityHoldsAfterTheMigrationAndAReopenChangesNothing) {
  TempDir dir;
  const std::string path = copy_committed(dir);
  { Database::open(path, OpenMode::ReadWrite); }
  const Database db = Database::open(path, OpenMode::ReadWrite);
  EXPECT_EQ(std::get<std::string>(db.query("PRAGMA integrity_check").rows.at(0).at(0)), "ok");
  EXPECT_TRUE(db.query("PRAGMA foreign_key_check").rows.empty());
  EXPECT_EQ(db.version(), Database::schema_version());
}

TEST(Migration, AReadOnlyOpenOfAnOlderVersionReadsItAndWritesNothing) {
  TempDir dir;
  const std::string path = copy_committed(dir);
  const std::string original = bytes_of(path);
  {
    const Database db = Database::open(path, OpenMode::ReadOnly);
    EXPECT_EQ(db.version(), 1);
    EXPECT_TRUE(db.has_column("steps", "test_acc"));
    EXPECT_FALSE(db.has_column("steps", "val_acc"));
    EXPECT_GT(scalar(db, "SELECT count(*) FROM step_view WHERE test_acc IS NOT NULL"), 0);
  }
  std::ostringstream out;  // harness query's path
  run_query(path, "SELECT count(*) AS n FROM steps", QueryFormat::Csv, out);
  EXPECT_THAT(out.str(), HasSubstr("n\n"));
  EXPECT_EQ(bytes_of(path), original) << "a read-only open must not write the file";
  const Database again = Database::open(path, OpenMode::ReadOnly);
  EXPECT_EQ(scalar(again, "PRAGMA user_version"), 1);
}

TEST(Migration, ReadWriteAsIsLeavesAnOlderVersionAsItIs) {
  TempDir dir;
  const std::string path = copy_committed(dir);
  { Database::open(path, OpenMode::ReadWriteAsIs); }
  const Database db = Database::open(path, OpenMode::ReadOnly);
  EXPECT_EQ(db.version(), 1);
  EXPECT_FALSE(db.has_column("steps", "val_acc"));
}

TEST(Migration, AFailingStepLeavesTheVersionOfTheLastCommittedStepWithNothingLost) {
  TempDir dir;
  const std::string path = copy_committed(dir);
  Database db = Database::open(path, OpenMode::ReadWriteAsIs);
  const std::string v1_columns = column_list(db, "steps");
  const std::map<std::string, Table> before = contents(db, v1_columns);

  // The first step itself fails half-way: its first ALTER is rolled back with it.
  const std::vector<Migration> broken_first = {
      {1, "a broken step", "ALTER TABLE steps ADD COLUMN val_acc REAL; ALTER TABLE no_such_table ADD COLUMN x REAL;"}};
  try {
    migrate(db, 2, broken_first);
    FAIL() << "expected DbError";
  } catch (const DbError& e) {
    EXPECT_THAT(e.what(), HasSubstr(path));
    EXPECT_THAT(e.what(), HasSubstr("from schema version 1 to 2 (a broken step) failed; it stays at version 1"));
    EXPECT_THAT(e.what(), HasSubstr("no_such_table"));
  }
  EXPECT_EQ(scalar(db, "PRAGMA user_version"), 1);
  EXPECT_FALSE(db.has_column("steps", "val_acc"));

  // The real step commits, the next one fails: the database stays at version 2.
  std::vector<Migration> then_broken = schema_migrations();
  then_broken.push_back({2, "a second broken step", "ALTER TABLE steps ADD COLUMN extra REAL; SELECT nope FROM steps;"});
  try {
    migrate(db, 3, then_broken);
    FAIL() << "expected DbError";
  } catch (const DbError& e) {
    EXPECT_THAT(e.what(), HasSubstr("from schema version 2 to 3 (a second broken step) failed; it stays at version 2"));
  }
  EXPECT_EQ(scalar(db, "PRAGMA user_version"), 2);
  EXPECT_TRUE(db.has_column("steps", "val_acc"));
  EXPECT_FALSE(db.has_column("steps", "extra"));
  const std::map<std::string, Table> after = contents(db, v1_columns);
  for (const auto& [table, rows] : before) EXPECT_TRUE(after.at(table).rows == rows.rows) << table;
}

TEST(Migration, AProcessKilledInsideAStepLeavesThePreviousVersion) {
  TempDir dir;
  const std::string path = copy_committed(dir);
  { Database::open(path, OpenMode::ReadWriteAsIs); }  // WAL mode, as every run leaves it
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // What the migration does, stopped before COMMIT: the process dies with the transaction open.
    sqlite3* raw = nullptr;
    if (sqlite3_open(path.c_str(), &raw) != SQLITE_OK) ::_exit(2);
    const char* sql =
        "BEGIN IMMEDIATE; ALTER TABLE steps ADD COLUMN val_acc REAL; ALTER TABLE steps ADD COLUMN val_loss REAL; "
        "UPDATE steps SET val_acc = 0.5; PRAGMA user_version = 2;";
    if (sqlite3_exec(raw, sql, nullptr, nullptr, nullptr) != SQLITE_OK) ::_exit(3);
    ::_exit(0);  // no COMMIT, no close: as a SIGKILL would leave it
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  {
    const Database db = Database::open(path, OpenMode::ReadOnly);
    EXPECT_EQ(db.version(), 1);
    EXPECT_FALSE(db.has_column("steps", "val_acc"));
  }
  const Database db = Database::open(path, OpenMode::ReadWrite);
  EXPECT_EQ(db.version(), Database::schema_version());
  EXPECT_EQ(scalar(db, "SELECT count(*) FROM steps WHERE val_acc IS NOT NULL"), 0);
}

TEST(Migration, ANewerVersionIsRefusedAndNotTouched) {
  TempDir dir;
  const std::string path = dir.file("newer.db");
  { Database::open(path, OpenMode::ReadWrite).exec("PRAGMA user_version = 3"); }
  for (OpenMode mode : {OpenMode::ReadWrite, OpenMode::ReadOnly, OpenMode::ReadWriteAsIs}) {
    try {
      Database::open(path, mode);
      FAIL() << "expected DbError";
    } catch (const DbError& e) {
      EXPECT_THAT(e.what(), HasSubstr("has schema version 3"));
      EXPECT_THAT(e.what(), HasSubstr("a newer harness wrote it"));
    }
  }
  sqlite3* raw = nullptr;  // still version 3: a refused open migrates nothing
  ASSERT_EQ(sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(raw, "PRAGMA user_version", -1, &st, nullptr);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), 3);
  sqlite3_finalize(st);
  sqlite3_close(raw);
}

TEST(Migration, ASyntheticVersionOneDatabaseGetsTheNewColumns) {
  TempDir dir;
  const std::string path = dir.file("v1.db");
  {
    Database db = Database::open(path, OpenMode::ReadWrite);
    db.exec("INSERT INTO plugins (name, version, file_path, file_hash) VALUES ('p', '1', '/x.so', 'h')");
    db.exec("ALTER TABLE steps DROP COLUMN val_loss; ALTER TABLE steps DROP COLUMN val_acc; PRAGMA user_version = 1");
  }
  const Database db = Database::open(path, OpenMode::ReadWrite);
  EXPECT_EQ(db.version(), 2);
  EXPECT_TRUE(db.has_column("steps", "val_acc"));
  EXPECT_TRUE(db.has_column("steps", "val_loss"));
  EXPECT_EQ(scalar(db, "SELECT count(*) FROM plugins"), 1);
}

TEST(Migration, EveryVersionBelowTheCurrentOneHasAStep) {
  const std::vector<Migration>& steps = schema_migrations();
  ASSERT_EQ(static_cast<int>(steps.size()), Database::schema_version() - 1);
  for (std::size_t i = 0; i < steps.size(); ++i) EXPECT_EQ(steps[i].from_version, static_cast<int>(i) + 1);
}

// db/step_row.h's kStepColumns (the recorder's INSERT and binds) and db/schema.sql agree.
TEST(StepColumns, AgreeWithTheSchemaAndEachHasAComment) {
  const Database db = Database::open(":memory:", OpenMode::ReadWrite);
  const Table info = db.query("PRAGMA table_info(steps)");
  ASSERT_EQ(info.rows.size(), 1 + std::size(kStepColumns));
  EXPECT_EQ(info.rows[0][1], Value{std::string("trial_id")});
  for (std::size_t i = 0; i < std::size(kStepColumns); ++i) {
    const StepColumn& c = kStepColumns[i];
    const auto& row = info.rows[i + 1];
    EXPECT_EQ(row[1], Value{std::string(c.name)}) << "column " << i + 1;
    EXPECT_EQ(row[2], Value{std::string(c.type)}) << c.name;
    EXPECT_EQ(row[3], Value{int64_t{c.not_null ? 1 : 0}}) << c.name;
  }
  // Each column's line in schema.sql carries its documentation.
  std::istringstream schema(Database::schema_sql());
  std::string line;
  std::set<std::string> documented;
  bool in_steps = false;
  while (std::getline(schema, line)) {
    if (line.rfind("CREATE TABLE IF NOT EXISTS steps", 0) == 0) in_steps = true;
    if (!in_steps) continue;
    if (line.rfind(")", 0) == 0) break;
    std::istringstream words(line);
    std::string name;
    words >> name;
    if (line.find("-- ") != std::string::npos && line.find("-- ") > line.find(name)) documented.insert(name);
  }
  for (const StepColumn& c : kStepColumns) EXPECT_TRUE(documented.count(c.name)) << c.name << " has no comment";
}

}  // namespace
}  // namespace harness::db

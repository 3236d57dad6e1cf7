// Tests of db/database.cpp, db/statement.cpp and db/transaction.cpp: RAII and schema versions.
#include "db/database.h"
#include "db/statement.h"
#include "db/transaction.h"
#include "temp_dir.h"
#include "without_write_access.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace harness::db {
namespace {

using ::testing::HasSubstr;
using testing::Child;
using testing::run_without_write_access;
using testing::TempDir;
namespace fs = std::filesystem;

int64_t count(const Database& db, const std::string& table) {
  return std::get<int64_t>(db.query("SELECT count(*) FROM " + table).rows.at(0).at(0));
}

TEST(Database, InMemoryGetsTheSchemaAndVersion) {
  const Database db = Database::open(":memory:", OpenMode::ReadWrite);
  const Table version = db.query("PRAGMA user_version");
  EXPECT_EQ(std::get<int64_t>(version.rows.at(0).at(0)), Database::schema_version());
  const Table tables = db.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
  std::vector<std::string> names;
  for (const auto& row : tables.rows) names.push_back(std::get<std::string>(row.at(0)));
  EXPECT_EQ(names, (std::vector<std::string>{"experiments", "metrics", "plugins", "steps", "trials"}));
  EXPECT_GT(Database::schema_version(), 0);
  EXPECT_THAT(std::string(Database::schema_sql()), HasSubstr("CREATE TABLE IF NOT EXISTS steps"));
}

TEST(Database, QueryBindsValuesAndReturnsTypedColumns) {
  const Database db = Database::open(":memory:", OpenMode::ReadWrite);
  const Table t = db.query("SELECT ?1 AS i, ?2 AS d, ?3 AS s, ?4 AS n",
                           {Value{int64_t{42}}, Value{2.5}, Value{std::string("a'b")}, Value{}});
  ASSERT_EQ(t.columns, (std::vector<std::string>{"i", "d", "s", "n"}));
  ASSERT_EQ(t.rows.size(), 1u);
  EXPECT_EQ(std::get<int64_t>(t.rows[0][0]), 42);
  EXPECT_DOUBLE_EQ(std::get<double>(t.rows[0][1]), 2.5);
  EXPECT_EQ(std::get<std::string>(t.rows[0][2]), "a'b");
  EXPECT_TRUE(std::holds_alternative<std::monostate>(t.rows[0][3]));
}

TEST(Database, SqlErrorsNameTheFileAndTheProblem) {
  TempDir dir;
  const std::string path = dir.file("r.db");
  const Database db = Database::open(path, OpenMode::ReadWrite);
  try {
    db.query("SELECT nope FROM trials");
    FAIL() << "expected DbError";
  } catch (const DbError& e) {
    EXPECT_THAT(e.what(), HasSubstr(path));
    EXPECT_THAT(e.what(), HasSubstr("no such column: nope"));
  }
  EXPECT_THROW(db.query("SELECT 1; SELECT 2"), DbError);  // query() runs one statement
}

TEST(Database, ReopeningKeepsDataAndMoveTransfersTheConnection) {
  TempDir dir;
  const std::string path = dir.file("r.db");
  {
    Database db = Database::open(path, OpenMode::ReadWrite);
    db.exec("INSERT INTO plugins (name, version, file_path, file_hash) VALUES ('p', '1', '/x.so', 'h')");
    Database moved = std::move(db);
    EXPECT_EQ(db.handle(), nullptr);
    EXPECT_EQ(count(moved, "plugins"), 1);
  }
  const Database again = Database::open(path, OpenMode::ReadWrite);
  EXPECT_EQ(count(again, "plugins"), 1);
  EXPECT_EQ(std::get<std::string>(again.query("PRAGMA journal_mode").rows.at(0).at(0)), "wal");
}

TEST(Database, OtherSchemaVersionIsRefusedWithBothVersions) {
  TempDir dir;
  const std::string path = dir.file("old.db");
  {
    Database db = Database::open(path, OpenMode::ReadWrite);
    db.exec("PRAGMA user_version = 99");
  }
  for (OpenMode mode : {OpenMode::ReadWrite, OpenMode::ReadOnly}) {
    try {
      Database::open(path, mode);
      FAIL() << "expected DbError";
    } catch (const DbError& e) {
      EXPECT_THAT(e.what(), HasSubstr(path));
      EXPECT_THAT(e.what(), HasSubstr("schema version 99"));
      EXPECT_THAT(e.what(), HasSubstr("version " + std::to_string(Database::schema_version())));
    }
  }
}

TEST(Database, ForeignSqliteFileIsRefused) {
  TempDir dir;
  const std::string path = dir.file("other.db");
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, "CREATE TABLE mine (x)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(raw);
  EXPECT_THROW(Database::open(path, OpenMode::ReadWrite), DbError);
  // And the refusal did not add our tables to it.
  ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(raw, "SELECT count(*) FROM sqlite_master", -1, &st, nullptr);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), 1);
  sqlite3_finalize(st);
  sqlite3_close(raw);
}

TEST(Database, NotADatabaseFileIsADbError) {
  TempDir dir;
  const std::string path = dir.file("text.db");
  { std::ofstream(path) << "this is not sqlite, just a long enough line of text to fill a header....\n"; }
  try {
    Database::open(path, OpenMode::ReadOnly);
    FAIL() << "expected DbError";
  } catch (const DbError& e) {
    EXPECT_THAT(e.what(), HasSubstr(path));
  }
}

TEST(Database, ReadOnlyMissingFileIsRefusedAndNotCreated) {
  TempDir dir;
  const std::string path = dir.file("missing.db");
  try {
    Database::open(path, OpenMode::ReadOnly);
    FAIL() << "expected DbError";
  } catch (const DbError& e) {
    EXPECT_THAT(e.what(), HasSubstr(path));
    EXPECT_THAT(e.what(), HasSubstr("does not exist"));
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(Database, ReadOnlyConnectionCannotWrite) {
  TempDir dir;
  const std::string path = dir.file("r.db");
  Database::open(path, OpenMode::ReadWrite);
  Database ro = Database::open(path, OpenMode::ReadOnly);
  EXPECT_EQ(count(ro, "trials"), 0);
  EXPECT_THROW(ro.exec("INSERT INTO plugins (name, version, file_path, file_hash) VALUES ('p','1','f','h')"),
               DbError);
  EXPECT_THROW(ro.exec("PRAGMA query_only = 0; INSERT INTO plugins VALUES (1, 'p','1','f','h')"), DbError);
  EXPECT_EQ(count(ro, "plugins"), 0);
}

// Byte 18 of an SQLite header: 2 for WAL, 1 for a rollback journal.
int journal_byte(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char header[20] = {};
  in.read(header, sizeof header);
  return header[18];
}

std::string bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

bool has_side_files(const std::string& path) { return fs::exists(path + "-wal") || fs::exists(path + "-shm"); }

// A results database with one plugin row, in WAL mode, its writer closed (so it has no log).
void make_wal_database(const std::string& path) {
  Database db = Database::open(path, OpenMode::ReadWrite);
  db.exec("INSERT INTO plugins (name, version, file_path, file_hash) VALUES ('p', '1', 'f', 'h')");
}

void insert_plugin(Database& db, const std::string& name) {
  db.exec("INSERT INTO plugins (name, version, file_path, file_hash) VALUES ('" + name + "', '1', 'f', 'h')");
}

TEST(DatabaseReading, AWalDatabaseIsReadWithoutLeavingAFileOrChangingABit) {
  TempDir dir;
  const std::string path = dir.file("r.db");
  make_wal_database(path);
  ASSERT_EQ(journal_byte(path), 2);
  ASSERT_FALSE(has_side_files(path));
  const std::string before = bytes_of(path);
  {
    const Database ro = Database::open(path, OpenMode::ReadOnly);
    EXPECT_EQ(ro.read_access(), ReadAccess::SharedCleanup);
    EXPECT_EQ(count(ro, "plugins"), 1);
  }
  EXPECT_FALSE(fs::exists(path + "-wal"));
  EXPECT_FALSE(fs::exists(path + "-shm"));
  EXPECT_EQ(bytes_of(path), before);
  // The files an older reader left behind (an empty log and its index) are removed by the next read.
  std::ofstream(path + "-wal").flush();
  std::ofstream(path + "-shm").flush();
  EXPECT_EQ(count(Database::open(path, OpenMode::ReadOnly), "plugins"), 1);
  EXPECT_FALSE(has_side_files(path));
  EXPECT_EQ(bytes_of(path), before);
}

TEST(DatabaseReading, AReaderLeavesAWritersFilesAndLogToIt) {
  TempDir dir;
  const std::string path = dir.file("r.db");
  make_wal_database(path);
  Database writer = Database::open(path, OpenMode::ReadWrite);
  {  // the writer's log is still empty: the reader's cleanup must not take the files from under it
    const Database ro = Database::open(path, OpenMode::ReadOnly);
    EXPECT_EQ(count(ro, "plugins"), 1);
  }
  ASSERT_TRUE(fs::exists(path + "-wal"));
  ASSERT_TRUE(fs::exists(path + "-shm"));
  insert_plugin(writer, "q");
  const std::string file_before = bytes_of(path);
  {  // a log with a transaction: read under SQLite's locks, never folded into the file by a reader
    const Database ro = Database::open(path, OpenMode::ReadOnly);
    EXPECT_EQ(ro.read_access(), ReadAccess::Shared);
    EXPECT_EQ(count(ro, "plugins"), 2);
  }
  EXPECT_GT(fs::file_size(path + "-wal"), 0u);
  EXPECT_EQ(bytes_of(path), file_before);
  insert_plugin(writer, "r");
  EXPECT_EQ(count(writer, "plugins"), 3);
  writer = Database::open(":memory:", OpenMode::ReadWrite);  // the last connection closes
  EXPECT_FALSE(has_side_files(path));
  EXPECT_EQ(count(Database::open(path, OpenMode::ReadOnly), "plugins"), 3);
}

TEST(DatabaseReading, LeaveWalSwitchesToARollbackJournalOnlyWhenAloneAndAWriterSwitchesBack) {
  TempDir dir;
  const std::string path = dir.file("r.db");
  Database writer = Database::open(path, OpenMode::ReadWrite);
  insert_plugin(writer, "p");
  {
    const Database other = Database::open(path, OpenMode::ReadOnly);
    EXPECT_EQ(count(other, "plugins"), 1);
    const auto start = std::chrono::steady_clock::now();
    EXPECT_FALSE(writer.leave_wal());  // another connection: no wait, stays in WAL
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
    EXPECT_EQ(journal_byte(path), 2);
  }
  EXPECT_TRUE(writer.leave_wal());
  EXPECT_EQ(journal_byte(path), 1);
  EXPECT_FALSE(has_side_files(path));
  insert_plugin(writer, "q");  // still writable, now with a rollback journal
  writer = Database::open(":memory:", OpenMode::ReadWrite);
  {
    const Database ro = Database::open(path, OpenMode::ReadOnly);
    EXPECT_EQ(ro.read_access(), ReadAccess::Shared);
    EXPECT_EQ(count(ro, "plugins"), 2);
    EXPECT_FALSE(has_side_files(path));  // reading a rollback-journal file makes no file at all
  }
  {  // resuming: a read-write open switches back to WAL, and the rows are all there
    Database again = Database::open(path, OpenMode::ReadWrite);
    EXPECT_EQ(journal_byte(path), 2);
    EXPECT_EQ(count(again, "plugins"), 2);
  }
  EXPECT_FALSE(Database::open(path, OpenMode::ReadOnly).read_access() == std::nullopt);
  EXPECT_FALSE(Database::open(":memory:", OpenMode::ReadWrite).leave_wal());
}

TEST(DatabaseReading, AWalDatabaseInAFolderThatCannotBeWrittenIsReadImmutably) {
  TempDir dir;
  const std::string path = dir.file("r.db");
  make_wal_database(path);
  const std::string before = bytes_of(path);
  const auto r = run_without_write_access(fs::path(path).parent_path().string(), [&](const Child& child) {
    const Database ro = Database::open(path, OpenMode::ReadOnly);
    child.say(std::to_string(count(ro, "plugins")));
    return ro.read_access() == ReadAccess::Immutable ? 0 : 1;
  });
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "1");
  EXPECT_FALSE(has_side_files(path));
  EXPECT_EQ(bytes_of(path), before);
}

TEST(DatabaseReading, ARollbackJournalDatabaseInAFolderThatCannotBeWrittenIsReadShared) {
  TempDir dir;
  const std::string path = dir.file("r.db");
  {
    Database db = Database::open(path, OpenMode::ReadWrite);
    insert_plugin(db, "p");
    ASSERT_TRUE(db.leave_wal());
  }
  const auto r = run_without_write_access(fs::path(path).parent_path().string(), [&](const Child& child) {
    const Database ro = Database::open(path, OpenMode::ReadOnly);
    child.say(std::to_string(count(ro, "plugins")));
    return ro.read_access() == ReadAccess::Shared ? 0 : 1;
  });
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "1");
  EXPECT_FALSE(has_side_files(path));
}

TEST(DatabaseReading, AnImmutableReadFailsWhenAnotherProcessWritesTheFileMeanwhile) {
  TempDir dir;
  const std::string path = dir.file("r.db");
  make_wal_database(path);
  const std::string folder = fs::path(path).parent_path().string();
  const auto r = run_without_write_access(
      folder,
      [&](const Child& child) {
        const Database ro = Database::open(path, OpenMode::ReadOnly);
        if (ro.read_access() != ReadAccess::Immutable || count(ro, "plugins") != 1) return 1;
        child.wait_for_parent();
        try {
          count(ro, "plugins");
        } catch (const DbError& e) {
          child.say(e.what());
          return 0;
        }
        return 2;
      },
      [&] {  // the owner writes meanwhile (an ordinary user needs the folder writable again for that)
        fs::permissions(folder, fs::perms::owner_write, fs::perm_options::add);
        Database writer = Database::open(path, OpenMode::ReadWrite);
        insert_plugin(writer, "q");
        writer = Database::open(":memory:", OpenMode::ReadWrite);
        fs::permissions(folder, fs::perms::owner_write, fs::perm_options::remove);
      });
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr(path));
  EXPECT_THAT(r.output, HasSubstr("changed while it was read"));
}

TEST(DatabaseReading, ALogWithTransactionsInAFolderThatCannotBeWrittenIsExplained) {
  TempDir dir;
  const std::string live = dir.file("live.db");
  const std::string copy_dir = dir.file("copy");
  const std::string copy = (fs::path(copy_dir) / "r.db").string();
  fs::create_directory(copy_dir);
  fs::permissions(dir.file(""), fs::perms::others_exec | fs::perms::group_exec, fs::perm_options::add);
  Database writer = Database::open(live, OpenMode::ReadWrite);
  insert_plugin(writer, "p");
  // A copy taken while the writer has it open: the file and a log with its transactions, no -shm.
  fs::copy_file(live, copy);
  fs::copy_file(live + "-wal", copy + "-wal");
  ASSERT_GT(fs::file_size(copy + "-wal"), 0u);
  const auto r = run_without_write_access(copy_dir, [&](const Child& child) {
    try {
      Database::open(copy, OpenMode::ReadOnly);
    } catch (const DbError& e) {
      child.say(e.what());
      return 0;
    }
    return 1;
  });
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr(copy + "-wal holds"));
  EXPECT_THAT(r.output, HasSubstr("-shm"));
  EXPECT_THAT(r.output, HasSubstr("Copy the database with its -wal file"));
  // Where it can be written, the same copy reads with its log's rows.
  EXPECT_EQ(count(Database::open(copy, OpenMode::ReadOnly), "plugins"), 1);
}

TEST(Transaction, RollsBackWhenDestroyedWithoutCommit) {
  Database db = Database::open(":memory:", OpenMode::ReadWrite);
  {
    Transaction t(db);
    db.exec("INSERT INTO plugins (name, version, file_path, file_hash) VALUES ('p', '1', 'f', 'h')");
    EXPECT_EQ(count(db, "plugins"), 1);  // visible inside the transaction
  }
  EXPECT_EQ(count(db, "plugins"), 0);
  {
    Transaction t(db);
    db.exec("INSERT INTO plugins (name, version, file_path, file_hash) VALUES ('p', '1', 'f', 'h')");
    t.commit();
  }
  EXPECT_EQ(count(db, "plugins"), 1);
}

TEST(Transaction, RollsBackWhenAnExceptionUnwinds) {
  Database db = Database::open(":memory:", OpenMode::ReadWrite);
  try {
    Transaction t(db);
    db.exec("INSERT INTO plugins (name, version, file_path, file_hash) VALUES ('p', '1', 'f', 'h')");
    db.exec("INSERT INTO plugins (name, version, file_path, file_hash) VALUES ('p', '1', 'f', 'h')");  // UNIQUE
    t.commit();
    FAIL() << "expected the UNIQUE constraint to fail";
  } catch (const DbError& e) {
    EXPECT_THAT(e.what(), HasSubstr("UNIQUE"));
  }
  EXPECT_EQ(count(db, "plugins"), 0);
  Transaction next(db);  // the connection is out of the failed transaction
  next.commit();
}

TEST(Statement, IsPreparedOnceAndReusedWithNewBindings) {
  Database db = Database::open(":memory:", OpenMode::ReadWrite);
  Statement insert(db, "INSERT INTO plugins (name, version, file_path, file_hash) VALUES (?1, ?2, ?3, ?4)");
  for (int i = 0; i < 5; ++i) {
    insert.bind(1, "p" + std::to_string(i));
    insert.bind(2, std::string("1"));
    insert.bind(3, std::string("f"));
    insert.bind(4, std::string("h"));
    EXPECT_EQ(insert.exec(), 1);
  }
  EXPECT_EQ(count(db, "plugins"), 5);
  Statement select(db, "SELECT name FROM plugins WHERE id > ?1 ORDER BY id");
  select.bind(1, int64_t{3});
  std::vector<std::string> names;
  while (select.step()) names.push_back(select.column_text(0));
  EXPECT_EQ(names, (std::vector<std::string>{"p3", "p4"}));
  EXPECT_TRUE(select.readonly());
  EXPECT_FALSE(insert.readonly());
  // A failed step leaves the statement reusable.
  insert.bind(1, std::string("p0"));
  EXPECT_THROW(insert.exec(), DbError);
  insert.bind(1, std::string("p9"));
  EXPECT_EQ(insert.exec(), 1);
}

TEST(Statement, OptionalDoubleBindsNull) {
  Database db = Database::open(":memory:", OpenMode::ReadWrite);
  Statement s(db, "SELECT ?1 IS NULL, ?2");
  s.bind(1, std::optional<double>{});
  s.bind(2, std::optional<double>{0.25});
  ASSERT_TRUE(s.step());
  EXPECT_EQ(s.column_int64(0), 1);
  EXPECT_DOUBLE_EQ(s.column_double(1), 0.25);
}

TEST(Statement, BadSqlNamesTheStatement) {
  Database db = Database::open(":memory:", OpenMode::ReadWrite);
  try {
    Statement s(db, "SELEC 1");
    FAIL() << "expected DbError";
  } catch (const DbError& e) {
    EXPECT_THAT(e.what(), HasSubstr("SELEC 1"));
    EXPECT_THAT(e.what(), HasSubstr("syntax error"));
  }
}

}  // namespace
}  // namespace harness::db

// A connection to a results database: opens it, applies and checks the schema, runs SQL.
#pragma once

#include "harness/errors.h"

#include <chrono>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

struct sqlite3;

namespace harness::db {

// One SQL value: NULL, INTEGER, REAL or TEXT (BLOBs are returned as hex text).
using Value = std::variant<std::monostate, int64_t, double, std::string>;

// The result of a query: column names and rows of values, in order.
struct Table {
  std::vector<std::string> columns;
  std::vector<std::vector<Value>> rows;
};

// ReadWrite migrates an older database forward (db/migrations.h). ReadOnly reads an older
// version as it is and never writes. ReadWriteAsIs writes but leaves an older version as it is:
// for copying a file whose version a later open migrates (the merge's staging copy).
enum class OpenMode { ReadWrite, ReadOnly, ReadWriteAsIs };

// Longest time a write of the store keeps retrying after SQLITE_BUSY before it
// gives up; each attempt already waits the connection's busy timeout.
inline constexpr std::chrono::seconds kDefaultMaxBusyWait{600};

// SQLITE_BUSY / SQLITE_LOCKED still reported after the busy timeout: another
// process holds the lock. The store retries whole transactions on it.
class BusyError : public DbError {
 public:
  using DbError::DbError;
};

// Owns one sqlite3 connection (closed in the destructor, which never throws).
// ReadWrite creates the file if needed, applies db/schema.sql (embedded at build
// time) and sets PRAGMA user_version; a database of an older version is migrated
// forward, one transaction per version (db/migrations.h). It uses WAL,
// synchronous=NORMAL and a busy timeout so several processes can share the file.
// ReadOnly opens with SQLITE_OPEN_READONLY and PRAGMA query_only; a missing file is
// a DbError; an older version is read as it is (version() says which; readers of a
// column added since check has_column()). A version newer than schema_version(),
// or an SQLite file that is not a results database, is refused (DbError).
// Every SQLite failure is a DbError naming the file and sqlite3_errmsg.
class Database {
 public:
  static constexpr int kDefaultBusyTimeoutMs = 60'000;

  static Database open(const std::string& path, OpenMode mode, int busy_timeout_ms = kDefaultBusyTimeoutMs);

  Database(Database&& other) noexcept;
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  // Runs one statement with `binds` bound to ?1, ?2, ... and returns all its rows.
  Table query(const std::string& sql, const std::vector<Value>& binds = {}) const;
  // Runs one or more statements without parameters (sqlite3_exec).
  void exec(const std::string& sql);

  int64_t last_insert_rowid() const;
  int64_t changes() const;  // rows changed by the most recent INSERT/UPDATE/DELETE

  const std::string& path() const noexcept { return path_; }
  OpenMode mode() const noexcept { return mode_; }
  // The schema version of the file as opened (after any migration): 1..schema_version().
  int version() const noexcept { return version_; }
  // Whether table `table` of the main database has column `column` (PRAGMA table_info).
  bool has_column(const std::string& table, const std::string& column) const;
  sqlite3* handle() const noexcept { return db_; }

  // The schema version this build writes and accepts (from db/schema.sql).
  static int schema_version() noexcept;
  // The schema text embedded at build time.
  static const char* schema_sql() noexcept;

 private:
  Database(sqlite3* db, std::string path, OpenMode mode) noexcept;

  sqlite3* db_ = nullptr;
  std::string path_;
  OpenMode mode_ = OpenMode::ReadWrite;
  int version_ = 0;
};

// Throws DbError (BusyError for SQLITE_BUSY/LOCKED) for result code `rc` on `db`:
// "<file>: <what>: <sqlite3_errmsg>". Shared by Statement and Transaction.
[[noreturn]] void throw_sqlite_error(sqlite3* db, int rc, const std::string& what);
// The file name of the main database of `db` (":memory:" for an in-memory one).
std::string database_file(sqlite3* db);

}  // namespace harness::db

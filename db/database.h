// A connection to a results database: opens it, applies and checks the schema, runs SQL.
#pragma once

#include "harness/errors.h"

#include <chrono>
#include <cstdint>
#include <optional>
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

// How a ReadOnly open reads the file (db/README.md, "Reading never writes"). Every one sets
// PRAGMA query_only.
enum class ReadAccess {
  // SQLITE_OPEN_READONLY with SQLite's locks: a file in rollback-journal mode (which reading
  // leaves as it is, in any folder), or a WAL file whose log holds transactions.
  Shared,
  // A WAL file with no log (or an empty one) in a folder and a file this process can write: as
  // Shared, and after the close, while the log is still empty, a read-write connection that reads
  // only the schema closes too, so that SQLite (when no other connection has the file open)
  // removes the -wal and -shm that reading a WAL file creates and a read-only connection leaves.
  // No statement of the caller ever runs on a handle that could write.
  SharedCleanup,
  // A WAL file with no log (or an empty one) where this process cannot create one (a read-only
  // folder or file): `immutable=1`, no locks and no files. Every query checks afterwards that the
  // file is unchanged (size, modification time, inode) and fails if another process wrote it.
  Immutable,
};

// Owns one sqlite3 connection (closed in the destructor, which never throws).
// ReadWrite creates the file if needed, applies db/schema.sql (embedded at build
// time) and sets PRAGMA user_version; a database of an older version is migrated
// forward, one transaction per version (db/migrations.h). It uses WAL,
// synchronous=NORMAL and a busy timeout so several processes can share the file.
// ReadOnly reads as ReadAccess says (read_access()) with PRAGMA query_only and never
// writes the database or leaves a file; a missing file is a DbError; an older version
// is read as it is (version() says which; readers of a column added since check
// has_column()). A version newer than schema_version(), or an SQLite file that is not
// a results database, is refused (DbError).
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
  // For an Immutable read: throws DbError when the file changed since it was opened (another
  // process wrote it while it was read without locks). A no-op for every other open.
  void check_unchanged() const;
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
  // How a ReadOnly open reads the file (nothing for the read-write modes).
  std::optional<ReadAccess> read_access() const noexcept { return read_access_; }

  // Folds the write-ahead log into the file and switches it to journal_mode = DELETE, so that
  // readers anywhere (a read-only folder, another user) need no -wal or -shm file. Only when no
  // other connection has the file open: it does not wait for the lock, and returns false (the
  // file stays in WAL) when another process has it open. The next read-write open switches it
  // back to WAL. Throws DbError for any other failure (the file then stays in WAL).
  bool leave_wal();

  // The schema version this build writes and accepts (from db/schema.sql).
  static int schema_version() noexcept;
  // The schema text embedded at build time.
  static const char* schema_sql() noexcept;

 private:
  // What identifies the content of an Immutable file: changed by any write.
  struct FileStamp {
    uint64_t device = 0, inode = 0, size = 0;
    int64_t mtime_ns = 0;
    bool operator==(const FileStamp& o) const noexcept {
      return device == o.device && inode == o.inode && size == o.size && mtime_ns == o.mtime_ns;
    }
  };
  static std::optional<FileStamp> stamp_of(const std::string& path);

  Database(sqlite3* db, std::string path, OpenMode mode) noexcept;
  void close() noexcept;

  sqlite3* db_ = nullptr;
  std::string path_;
  OpenMode mode_ = OpenMode::ReadWrite;
  int version_ = 0;
  int busy_timeout_ms_ = kDefaultBusyTimeoutMs;
  std::optional<ReadAccess> read_access_;
  std::optional<FileStamp> stamp_;  // Immutable reads only
};

// Throws DbError (BusyError for SQLITE_BUSY/LOCKED) for result code `rc` on `db`:
// "<file>: <what>: <sqlite3_errmsg>". Shared by Statement and Transaction.
[[noreturn]] void throw_sqlite_error(sqlite3* db, int rc, const std::string& what);
// The file name of the main database of `db` (":memory:" for an in-memory one).
std::string database_file(sqlite3* db);

}  // namespace harness::db

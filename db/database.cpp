// Opening a results database, applying and checking the schema version, running SQL.
#include "db/database.h"

#include "db/migrations.h"
#include "db/statement.h"
#include "db/transaction.h"
#include "db/schema_sql.h"  // generated from schema.sql by db/CMakeLists.txt

#include <sqlite3.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>
#include <utility>

namespace harness::db {

std::string database_file(sqlite3* db) {
  const char* name = db ? sqlite3_db_filename(db, "main") : nullptr;
  return name && *name ? std::string(name) : std::string(":memory:");
}

void throw_sqlite_error(sqlite3* db, int rc, const std::string& what) {
  const std::string message = database_file(db) + ": " + what + ": " +
                              (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  const int primary = rc & 0xff;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) throw BusyError(message);
  throw DbError(message);
}

int Database::schema_version() noexcept { return generated::kSchemaVersion; }
const char* Database::schema_sql() noexcept { return generated::kSchemaSql; }

Database::Database(sqlite3* db, std::string path, OpenMode mode) noexcept
    : db_(db), path_(std::move(path)), mode_(mode) {}

Database::Database(Database&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)),
      path_(std::move(other.path_)),
      mode_(other.mode_),
      version_(other.version_),
      busy_timeout_ms_(other.busy_timeout_ms_),
      read_access_(other.read_access_),
      stamp_(other.stamp_) {}

Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    close();
    db_ = std::exchange(other.db_, nullptr);
    path_ = std::move(other.path_);
    mode_ = other.mode_;
    version_ = other.version_;
    busy_timeout_ms_ = other.busy_timeout_ms_;
    read_access_ = other.read_access_;
    stamp_ = other.stamp_;
  }
  return *this;
}

namespace {

// A read-only connection cannot checkpoint, so its close never removes the -wal and -shm that
// reading a WAL file creates. A read-write connection that reads only the schema does, when it is
// the last one: SQLite checkpoints (an empty log: nothing) and deletes both. Only while the log is
// empty, so that a reader never folds a writer's transactions into the file; with another
// connection open it does nothing (busy timeout 0) and that connection's close removes them.
void remove_files_left_by_reading(const std::string& path) noexcept {
  std::error_code ec;
  if (std::filesystem::file_size(path + "-wal", ec) != 0 || ec) return;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) == SQLITE_OK) {
    sqlite3_exec(db, "PRAGMA query_only = 1; SELECT count(*) FROM sqlite_master", nullptr, nullptr, nullptr);
  }
  sqlite3_close_v2(db);
}

}  // namespace

// close_v2: statements still alive (a recorder outliving its store by mistake)
// keep the connection as a zombie instead of making close fail.
void Database::close() noexcept {
  if (!db_) return;
  sqlite3_close_v2(std::exchange(db_, nullptr));
  if (read_access_ == ReadAccess::SharedCleanup) remove_files_left_by_reading(path_);
}

Database::~Database() { close(); }

namespace {

int64_t user_version(const Database& db) {
  const Table t = db.query("PRAGMA user_version");
  return std::get<int64_t>(t.rows.at(0).at(0));
}

int64_t object_count(const Database& db) {
  const Table t = db.query("SELECT count(*) FROM sqlite_master");
  return std::get<int64_t>(t.rows.at(0).at(0));
}

[[noreturn]] void throw_newer_version(const std::string& path, int64_t found) {
  throw DbError("results database " + path + " has schema version " + std::to_string(found) +
                " but this harness knows schema version " + std::to_string(Database::schema_version()) +
                " at most (db/schema.sql): a newer harness wrote it; read it with that harness, or use a new file");
}

[[noreturn]] void throw_no_version(const std::string& path) {
  throw DbError("results database " + path + " has schema version 0 (an empty file, never set up by a harness) "
                "and it is opened read-only; this harness reads versions 1 to " +
                std::to_string(Database::schema_version()));
}

[[noreturn]] void throw_not_ours(const std::string& path) {
  throw DbError("file " + path + " is an SQLite database but not a harness results database " +
                "(user_version 0 and it already has tables): choose a new file for results");
}

// Switching to WAL needs a moment of exclusive access; when several processes
// open a new file at once it can report busy without calling the busy handler.
void enable_wal(const Database& db, int busy_timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(busy_timeout_ms);
  for (;;) {
    try {
      db.query("PRAGMA journal_mode = WAL");
      return;
    } catch (const BusyError&) {
      if (std::chrono::steady_clock::now() > deadline) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
}

// A WAL file's header has 2 in both bytes 18 and 19 (file format write and read versions).
bool header_says_wal(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char header[20] = {};
  if (!in.read(header, sizeof header)) return false;
  return header[18] == 2 && header[19] == 2;
}

bool can_write(const std::filesystem::path& p) { return ::access(p.c_str(), W_OK) == 0; }

ReadAccess choose_read_access(const std::string& path) {
  if (!header_says_wal(path)) return ReadAccess::Shared;  // rollback journal: reading creates no file
  std::error_code ec;
  const auto log_size = std::filesystem::file_size(path + "-wal", ec);
  // A log with transactions (a run is writing, or was killed): SQLite reads it under its locks.
  // Folding it into the file is a writer's job, not a reader's.
  if (!ec && log_size > 0) return ReadAccess::Shared;
  std::filesystem::path folder = std::filesystem::path(path).parent_path();
  if (folder.empty()) folder = ".";
  if (can_write(folder) && can_write(path)) return ReadAccess::SharedCleanup;
  // Nothing is in a log, and no writer of this user can make one here.
  return ReadAccess::Immutable;
}

// file: URI of `path` with immutable=1 (RFC 3986: every byte but unreserved characters and '/' escaped).
std::string immutable_uri(const std::string& path) {
  std::string uri = "file:";
  for (unsigned char c : std::filesystem::absolute(path).string()) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') {
      uri += static_cast<char>(c);
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      uri += hex;
    }
  }
  return uri + "?immutable=1";
}

// A shared read of a WAL file with a non-empty log needs its -shm file; in a folder this process
// cannot write, SQLite cannot create it.
void explain_unreadable_log(const std::string& path, const DbError& e) {
  std::error_code ec;
  const auto log_size = std::filesystem::file_size(path + "-wal", ec);
  if (ec || log_size == 0 || std::filesystem::exists(path + "-shm", ec)) return;
  throw DbError("cannot read results database " + path + ": its write-ahead log " + path + "-wal holds " +
                std::to_string(log_size) + " bytes of transactions not yet in the file (a run is writing it, or was "
                "killed), and " + path + "-shm, which SQLite needs to read that log, does not exist and cannot be "
                "created in its folder. Copy the database with its -wal file to a folder you can write, or let a "
                "`harness run` on it finish (" + e.what() + ")");
}

}  // namespace

Database Database::open(const std::string& path, OpenMode mode, int busy_timeout_ms) {
  const bool in_memory = path == ":memory:" || path.empty();
  if (mode == OpenMode::ReadOnly && !in_memory && !std::filesystem::exists(path)) {
    throw DbError("results database " + path + " does not exist (it is opened read-only, so it is not created)");
  }
  const ReadAccess access = mode == OpenMode::ReadOnly && !in_memory ? choose_read_access(path) : ReadAccess::Shared;
  int flags = SQLITE_OPEN_NOMUTEX;  // one connection per thread; processes share the file
  std::string name = path;
  std::optional<FileStamp> stamp;
  if (mode != OpenMode::ReadOnly) {
    flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  } else if (access == ReadAccess::Immutable) {
    flags |= SQLITE_OPEN_READONLY | SQLITE_OPEN_URI;
    name = immutable_uri(path);
    stamp = stamp_of(path);
  } else {
    flags |= SQLITE_OPEN_READONLY;
  }
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(name.c_str(), &raw, flags, nullptr);
  Database db(raw, path, mode);  // owns the handle even when opening failed
  db.busy_timeout_ms_ = busy_timeout_ms;
  if (rc != SQLITE_OK) {
    throw DbError("cannot open results database " + path + ": " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, busy_timeout_ms);

  if (mode == OpenMode::ReadOnly) {
    db.read_access_ = in_memory ? std::nullopt : std::optional<ReadAccess>(access);
    db.stamp_ = stamp;
    db.exec("PRAGMA query_only = 1");
    int64_t version = 0;
    try {
      version = user_version(db);  // the first read: SQLite opens the log here
    } catch (const DbError& e) {
      if (access == ReadAccess::Shared && !in_memory) explain_unreadable_log(path, e);
      throw;
    }
    if (version == 0 && object_count(db) > 0) throw_not_ours(path);
    if (version == 0) throw_no_version(path);
    if (version > schema_version()) throw_newer_version(path, version);
    db.version_ = static_cast<int>(version);
    db.check_unchanged();
    return db;
  }

  enable_wal(db, busy_timeout_ms);
  // NORMAL is safe with WAL against a crash of the process (not of the OS); it
  // saves an fsync per transaction.
  db.exec("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON");
  // Check and apply under the write lock, so concurrent first openers apply it once.
  int64_t version = 0;
  {
    Transaction transaction(db, TransactionMode::Immediate);
    version = user_version(db);
    if (version == 0) {
      if (object_count(db) > 0) throw_not_ours(path);
      db.exec(schema_sql());
      db.exec("PRAGMA user_version = " + std::to_string(schema_version()));
      version = schema_version();
    } else if (version > schema_version()) {
      throw_newer_version(path, version);
    }
    transaction.commit();
  }
  if (version < schema_version() && mode == OpenMode::ReadWrite) {
    migrate(db, schema_version());  // each step in its own transaction
    version = schema_version();
  }
  db.version_ = static_cast<int>(version);
  return db;
}

bool Database::has_column(const std::string& table, const std::string& column) const {
  for (const auto& row : query("PRAGMA main.table_info(" + table + ")").rows) {
    if (row.at(1) == Value{column}) return true;
  }
  return false;
}

Table Database::query(const std::string& sql, const std::vector<Value>& binds) const {
  Statement statement(db_, sql);
  for (std::size_t i = 0; i < binds.size(); ++i) statement.bind(static_cast<int>(i) + 1, binds[i]);
  Table table;
  const int n = statement.column_count();
  for (int c = 0; c < n; ++c) table.columns.push_back(statement.column_name(c));
  while (statement.step()) {
    std::vector<Value> row;
    row.reserve(n);
    for (int c = 0; c < n; ++c) row.push_back(statement.column(c));
    table.rows.push_back(std::move(row));
  }
  check_unchanged();
  return table;
}

std::optional<Database::FileStamp> Database::stamp_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  FileStamp stamp;
  stamp.device = static_cast<uint64_t>(st.st_dev);
  stamp.inode = static_cast<uint64_t>(st.st_ino);
  stamp.size = static_cast<uint64_t>(st.st_size);
  stamp.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  return stamp;
}

void Database::check_unchanged() const {
  if (read_access_ != ReadAccess::Immutable) return;
  if (stamp_of(path_) == stamp_) return;
  throw DbError("results database " + path_ + " changed while it was read: it was read without locks "
                "(immutable, since this process cannot write its folder or the file) and another process wrote it "
                "meanwhile, so what was read may mix two versions; read it again");
}

bool Database::leave_wal() {
  if (mode_ == OpenMode::ReadOnly) return false;
  sqlite3_busy_timeout(db_, 0);  // another connection: stay in WAL, do not wait for it
  bool left = false;
  try {
    const Table mode = query("PRAGMA journal_mode = DELETE");
    left = !mode.rows.empty() && !mode.rows[0].empty() && mode.rows[0][0] == Value{std::string("delete")};
  } catch (const BusyError&) {
    left = false;
  } catch (...) {
    sqlite3_busy_timeout(db_, busy_timeout_ms_);
    throw;
  }
  sqlite3_busy_timeout(db_, busy_timeout_ms_);
  return left;
}

void Database::exec(const std::string& sql) {
  char* error = nullptr;
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
  if (rc != SQLITE_OK) {
    sqlite3_free(error);  // sqlite3_errmsg still holds the same text
    const std::string head = sql.size() > 60 ? sql.substr(0, 60) + "..." : sql;
    throw_sqlite_error(db_, rc, "cannot run '" + head + "'");
  }
}

int64_t Database::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
int64_t Database::changes() const { return sqlite3_changes64(db_); }

}  // namespace harness::db

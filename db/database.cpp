// Opening a results database, applying and checking the schema version, running SQL.
#include "db/database.h"

#include "db/migrations.h"
#include "db/statement.h"
#include "db/transaction.h"
#include "db/schema_sql.h"  // generated from schema.sql by db/CMakeLists.txt

#include <sqlite3.h>

#include <chrono>
#include <filesystem>
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
      version_(other.version_) {}

Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    if (db_) sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
    path_ = std::move(other.path_);
    mode_ = other.mode_;
    version_ = other.version_;
  }
  return *this;
}

// close_v2: statements still alive (a recorder outliving its store by mistake)
// keep the connection as a zombie instead of making close fail.
Database::~Database() {
  if (db_) sqlite3_close_v2(db_);
}

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

}  // namespace

Database Database::open(const std::string& path, OpenMode mode, int busy_timeout_ms) {
  const bool in_memory = path == ":memory:" || path.empty();
  if (mode == OpenMode::ReadOnly && !in_memory && !std::filesystem::exists(path)) {
    throw DbError("results database " + path + " does not exist (it is opened read-only, so it is not created)");
  }
  const int flags = (mode == OpenMode::ReadOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
                    SQLITE_OPEN_NOMUTEX;  // one connection per thread; processes share the file
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Database db(raw, path, mode);  // owns the handle even when opening failed
  if (rc != SQLITE_OK) {
    throw DbError("cannot open results database " + path + ": " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, busy_timeout_ms);

  if (mode == OpenMode::ReadOnly) {
    db.exec("PRAGMA query_only = 1");
    const int64_t version = user_version(db);
    if (version == 0 && object_count(db) > 0) throw_not_ours(path);
    if (version == 0) throw_no_version(path);
    if (version > schema_version()) throw_newer_version(path, version);
    db.version_ = static_cast<int>(version);
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
  return table;
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

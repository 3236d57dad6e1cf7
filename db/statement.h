// A prepared SQL statement: prepared once, rebound and reused, finalized on destruction.
#pragma once

#include "db/database.h"

#include <cstdint>
#include <optional>
#include <string>

struct sqlite3;
struct sqlite3_stmt;

namespace harness::db {

// Owns one sqlite3_stmt. Must not outlive the connection it was prepared on.
// Parameter indices are 1-based (?1 ...), column indices 0-based, as in SQLite.
// Throws DbError naming the file and the statement's SQL.
class Statement {
 public:
  Statement(const Database& db, const std::string& sql);
  Statement(sqlite3* db, const std::string& sql);
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  void bind(int index, int64_t value);
  void bind(int index, int value) { bind(index, static_cast<int64_t>(value)); }
  void bind(int index, double value);
  void bind(int index, const std::string& value);
  void bind(int index, const char* value) { bind(index, std::string(value)); }
  void bind(int index, const std::optional<double>& value);
  void bind(int index, const Value& value);
  void bind_null(int index);

  // Advances to the next row: true if a row is available, false when done.
  bool step();
  // Runs a statement that returns no rows (step + reset); returns rows changed.
  int64_t exec();
  // Makes the statement runnable again; bindings are kept until rebound.
  void reset() noexcept;
  void clear_bindings() noexcept;

  int column_count() const;
  std::string column_name(int index) const;
  Value column(int index) const;
  // Column `index` of the current row of any statement: TEXT as is, BLOB as hex.
  static Value value_of(sqlite3_stmt* stmt, int index);
  bool column_is_null(int index) const;
  int64_t column_int64(int index) const;
  double column_double(int index) const;
  std::string column_text(int index) const;

  // True if the statement makes no direct change to the database file (sqlite3_stmt_readonly).
  bool readonly() const;
  std::string sql() const;
  sqlite3_stmt* handle() const noexcept { return stmt_; }

 private:
  void check_bind(int rc, int index);

  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace harness::db

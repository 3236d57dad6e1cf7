// Prepared statements over the SQLite C API.
#include "db/statement.h"

#include <sqlite3.h>

#include <cctype>
#include <utility>

namespace harness::db {
namespace {

std::string abbreviated(const std::string& sql) {
  std::string s;
  for (char c : sql) s += (c == '\n' || c == '\t') ? ' ' : c;
  return s.size() > 80 ? s.substr(0, 80) + "..." : s;
}

// True if `p` holds only white space and SQL comments.
bool only_space_or_comments(const char* p) {
  while (*p) {
    if (std::isspace(static_cast<unsigned char>(*p)) || *p == ';') {
      ++p;
    } else if (p[0] == '-' && p[1] == '-') {
      while (*p && *p != '\n') ++p;
    } else if (p[0] == '/' && p[1] == '*') {
      p += 2;
      while (*p && !(p[0] == '*' && p[1] == '/')) ++p;
      if (*p) p += 2;
    } else {
      return false;
    }
  }
  return true;
}

std::string hex(const void* data, int size) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  const auto* bytes = static_cast<const unsigned char*>(data);
  for (int i = 0; i < size; ++i) {
    out += kDigits[bytes[i] >> 4];
    out += kDigits[bytes[i] & 15];
  }
  return out;
}

}  // namespace

Statement::Statement(const Database& db, const std::string& sql) : Statement(db.handle(), sql) {}

Statement::Statement(sqlite3* db, const std::string& sql) : db_(db) {
  const char* tail = nullptr;
  const int rc = sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()) + 1, &stmt_, &tail);
  if (rc != SQLITE_OK) throw_sqlite_error(db_, rc, "cannot prepare '" + abbreviated(sql) + "'");
  if (!stmt_) throw DbError(database_file(db_) + ": no SQL statement in '" + abbreviated(sql) + "'");
  if (tail && !only_space_or_comments(tail)) {
    sqlite3_finalize(std::exchange(stmt_, nullptr));
    throw DbError(database_file(db_) + ": '" + abbreviated(sql) +
                  "' holds more than one statement; prepare one at a time");
  }
}

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    if (stmt_) sqlite3_finalize(stmt_);
    db_ = other.db_;
    stmt_ = std::exchange(other.stmt_, nullptr);
  }
  return *this;
}

Statement::~Statement() {
  if (stmt_) sqlite3_finalize(stmt_);
}

void Statement::check_bind(int rc, int index) {
  if (rc != SQLITE_OK) {
    throw_sqlite_error(db_, rc, "cannot bind parameter " + std::to_string(index) + " of '" + sql() + "'");
  }
}

void Statement::bind(int index, int64_t value) { check_bind(sqlite3_bind_int64(stmt_, index, value), index); }
void Statement::bind(int index, double value) { check_bind(sqlite3_bind_double(stmt_, index, value), index); }
void Statement::bind(int index, const std::string& value) {
  check_bind(sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT), index);
}
void Statement::bind(int index, const std::optional<double>& value) {
  if (value) {
    bind(index, *value);
  } else {
    bind_null(index);
  }
}
void Statement::bind_null(int index) { check_bind(sqlite3_bind_null(stmt_, index), index); }

void Statement::bind(int index, const Value& value) {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          bind_null(index);
        } else {
          bind(index, v);
        }
      },
      value);
}

bool Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  const std::string text = sql();
  sqlite3_reset(stmt_);  // leaves the statement reusable after the error
  throw_sqlite_error(db_, rc, "'" + abbreviated(text) + "' failed");
}

int64_t Statement::exec() {
  while (step()) {
  }
  reset();
  return sqlite3_changes64(db_);
}

void Statement::reset() noexcept { sqlite3_reset(stmt_); }
void Statement::clear_bindings() noexcept { sqlite3_clear_bindings(stmt_); }

int Statement::column_count() const { return sqlite3_column_count(stmt_); }

std::string Statement::column_name(int index) const {
  const char* name = sqlite3_column_name(stmt_, index);
  return name ? name : "";
}

Value Statement::column(int index) const { return value_of(stmt_, index); }

Value Statement::value_of(sqlite3_stmt* stmt, int index) {
  switch (sqlite3_column_type(stmt, index)) {
    case SQLITE_INTEGER:
      return static_cast<int64_t>(sqlite3_column_int64(stmt, index));
    case SQLITE_FLOAT:
      return sqlite3_column_double(stmt, index);
    case SQLITE_TEXT: {
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, index));
      return text ? std::string(text, sqlite3_column_bytes(stmt, index)) : std::string();
    }
    case SQLITE_BLOB: {
      const void* data = sqlite3_column_blob(stmt, index);
      return hex(data, sqlite3_column_bytes(stmt, index));
    }
    default:
      return std::monostate{};
  }
}

bool Statement::column_is_null(int index) const { return sqlite3_column_type(stmt_, index) == SQLITE_NULL; }
int64_t Statement::column_int64(int index) const { return sqlite3_column_int64(stmt_, index); }
double Statement::column_double(int index) const { return sqlite3_column_double(stmt_, index); }

std::string Statement::column_text(int index) const {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, index));
  return text ? std::string(text, sqlite3_column_bytes(stmt_, index)) : std::string();
}

bool Statement::readonly() const { return sqlite3_stmt_readonly(stmt_) != 0; }

std::string Statement::sql() const {
  const char* text = sqlite3_sql(stmt_);
  return text ? abbreviated(text) : std::string();
}

}  // namespace harness::db

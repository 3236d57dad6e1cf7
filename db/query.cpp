// Read-only queries: statement checks before anything runs, and the table/CSV/JSON writers.
#include "db/query.h"

#include "db/statement.h"

#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <ostream>
#include <set>
#include <sstream>

namespace harness::db {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// The first words of a statement, for messages: "PRAGMA user_version = 5".
std::string first_words(std::string sql, std::size_t max_words = 4) {
  for (;;) {  // skip leading white space and comments
    const auto start = sql.find_first_not_of(" \t\r\n");
    if (start == std::string::npos) return {};
    if (sql.compare(start, 2, "--") == 0) {
      const auto eol = sql.find('\n', start);
      sql = eol == std::string::npos ? std::string() : sql.substr(eol + 1);
    } else if (sql.compare(start, 2, "/*") == 0) {
      const auto close = sql.find("*/", start + 2);
      sql = close == std::string::npos ? std::string() : sql.substr(close + 2);
    } else {
      sql = sql.substr(start);
      break;
    }
  }
  std::istringstream in(sql.substr(0, sql.find(';')));
  std::string word, out;
  for (std::size_t n = 0; n < max_words && in >> word; ++n) out += (out.empty() ? "" : " ") + word;
  if (out.size() > 60) out = out.substr(0, 60) + "...";
  return out;
}

[[noreturn]] void refuse(const std::string& statement) {
  throw DbError("query is read-only: '" + first_words(statement) +
                "' would modify the database (harness query runs SELECT statements only)");
}

// PRAGMAs that only report something, with or without an argument (a table or index name).
const std::set<std::string>& report_pragmas() {
  static const std::set<std::string> k = {"table_info", "table_xinfo", "table_list", "index_list", "index_info",
                                          "index_xinfo", "foreign_key_list", "foreign_key_check", "integrity_check",
                                          "quick_check"};
  return k;
}
// PRAGMAs that report a setting when given no value, and change it when given one.
const std::set<std::string>& setting_pragmas() {
  static const std::set<std::string> k = {
      "user_version", "schema_version", "application_id", "page_count", "page_size", "freelist_count",
      "encoding", "database_list", "collation_list", "function_list", "pragma_list", "module_list",
      "compile_options", "data_version", "journal_mode", "foreign_keys", "query_only"};
  return k;
}

// The authorizer is consulted while each statement is compiled: it denies
// everything but reading, so a write is stopped at prepare time, before any
// statement runs. sqlite3_stmt_readonly and the read-only connection back it up.
struct AuthorizerState {
  bool denied = false;
};

int authorize(void* user, int action, const char* a1, const char* a2, const char*, const char*) {
  auto* state = static_cast<AuthorizerState*>(user);
  switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_FUNCTION:
    case SQLITE_RECURSIVE:
      return SQLITE_OK;
    case SQLITE_PRAGMA: {
      const std::string name = lower(a1 ? a1 : "");
      if (report_pragmas().count(name) || (setting_pragmas().count(name) && a2 == nullptr)) return SQLITE_OK;
      break;
    }
    case SQLITE_UPDATE: {
      // Table-valued pragmas (pragma_table_info) ask this of the schema table while
      // compiling; a real write to it is caught by sqlite3_stmt_readonly below.
      const std::string table = lower(a1 ? a1 : "");
      if (table == "sqlite_master" || table == "sqlite_schema") return SQLITE_OK;
      break;
    }
    default:
      break;
  }
  state->denied = true;
  return SQLITE_DENY;
}

// Installs the authorizer for the lifetime of the guard.
class AuthorizerGuard {
 public:
  AuthorizerGuard(sqlite3* db, AuthorizerState* state) : db_(db) { sqlite3_set_authorizer(db_, authorize, state); }
  ~AuthorizerGuard() { sqlite3_set_authorizer(db_, nullptr, nullptr); }
  AuthorizerGuard(const AuthorizerGuard&) = delete;
  AuthorizerGuard& operator=(const AuthorizerGuard&) = delete;

 private:
  sqlite3* db_;
};

// Stops the statements of `db` once `timeout` has passed (a recursive CTE without end runs forever):
// SQLite calls the handler every kProgressOps virtual-machine instructions, and a non-zero return
// makes the running step fail with SQLITE_INTERRUPT.
class QueryDeadline {
 public:
  QueryDeadline(sqlite3* db, std::chrono::milliseconds timeout)
      : db_(db), deadline_(std::chrono::steady_clock::now() + timeout) {
    if (timeout.count() > 0) sqlite3_progress_handler(db_, kProgressOps, &QueryDeadline::check, this);
  }
  ~QueryDeadline() { sqlite3_progress_handler(db_, 0, nullptr, nullptr); }
  QueryDeadline(const QueryDeadline&) = delete;
  QueryDeadline& operator=(const QueryDeadline&) = delete;

  bool fired() const noexcept { return fired_; }

 private:
  static constexpr int kProgressOps = 1000;
  static int check(void* self) {
    auto* d = static_cast<QueryDeadline*>(self);
    d->fired_ = d->fired_ || std::chrono::steady_clock::now() >= d->deadline_;
    return d->fired_ ? 1 : 0;
  }

  sqlite3* db_;
  std::chrono::steady_clock::time_point deadline_;
  bool fired_ = false;
};

std::string seconds_text(std::chrono::milliseconds t) {
  std::ostringstream s;
  s << static_cast<double>(t.count()) / 1000.0 << " s";
  return s.str();
}

struct StmtDeleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

std::string shortest(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

std::string text_of(const Value& v, bool compact_doubles) {
  if (std::holds_alternative<std::monostate>(v)) return {};
  if (const auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&v)) {
    if (!compact_doubles) return shortest(*d);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", *d);
    return buf;
  }
  return std::get<std::string>(v);
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

void write_aligned(const Table& t, std::ostream& out) {
  const std::size_t n = t.columns.size();
  std::vector<std::size_t> width(n);
  std::vector<bool> numeric(n, true);
  std::vector<std::vector<std::string>> cells;
  for (std::size_t c = 0; c < n; ++c) width[c] = t.columns[c].size();
  for (const auto& row : t.rows) {
    std::vector<std::string> line;
    for (std::size_t c = 0; c < n; ++c) {
      const Value& v = row[c];
      line.push_back(std::holds_alternative<std::monostate>(v) ? "NULL" : text_of(v, true));
      if (std::holds_alternative<std::string>(v)) numeric[c] = false;
      // Display width counts code points, not the bytes of UTF-8 text.
      const auto cps = static_cast<std::size_t>(std::count_if(
          line.back().begin(), line.back().end(), [](char ch) { return (static_cast<unsigned char>(ch) & 0xC0) != 0x80; }));
      width[c] = std::max(width[c], cps);
    }
    cells.push_back(std::move(line));
  }
  auto pad = [&](const std::string& s, std::size_t c, bool right) {
    const auto cps = static_cast<std::size_t>(
        std::count_if(s.begin(), s.end(), [](char ch) { return (static_cast<unsigned char>(ch) & 0xC0) != 0x80; }));
    const std::string fill(width[c] - std::min(width[c], cps), ' ');
    return right ? fill + s : s + fill;
  };
  auto write_line = [&](const std::vector<std::string>& line, bool header) {
    std::string text;
    for (std::size_t c = 0; c < n; ++c) {
      text += (c ? "  " : "") + pad(line[c], c, !header && numeric[c]);
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out << text << '\n';
  };
  write_line(t.columns, true);
  std::string rule;
  for (std::size_t c = 0; c < n; ++c) rule += (c ? "  " : "") + std::string(width[c], '-');
  out << rule << '\n';
  for (const auto& line : cells) write_line(line, false);
  out << "(" << t.rows.size() << (t.rows.size() == 1 ? " row)" : " rows)") << '\n';
}

void write_csv(const Table& t, std::ostream& out) {
  for (std::size_t c = 0; c < t.columns.size(); ++c) out << (c ? "," : "") << csv_field(t.columns[c]);
  out << '\n';
  for (const auto& row : t.rows) {
    for (std::size_t c = 0; c < row.size(); ++c) out << (c ? "," : "") << csv_field(text_of(row[c], false));
    out << '\n';
  }
}

void write_json(const Table& t, std::ostream& out) {
  std::vector<std::string> keys;
  std::map<std::string, int> seen;
  for (const auto& name : t.columns) {
    const int n = ++seen[name];
    keys.push_back(n == 1 ? name : name + "_" + std::to_string(n));
  }
  nlohmann::ordered_json array = nlohmann::ordered_json::array();
  for (const auto& row : t.rows) {
    nlohmann::ordered_json object = nlohmann::ordered_json::object();
    for (std::size_t c = 0; c < row.size(); ++c) {
      std::visit(
          [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::monostate>) {
              object[keys[c]] = nullptr;
            } else {
              object[keys[c]] = v;  // NaN and infinities become null
            }
          },
          row[c]);
    }
    array.push_back(std::move(object));
  }
  out << array.dump(2) << '\n';
}

}  // namespace

QueryFormat parse_query_format(const std::string& name) {
  const std::string n = lower(name);
  if (n == "table") return QueryFormat::Table;
  if (n == "csv") return QueryFormat::Csv;
  if (n == "json") return QueryFormat::Json;
  throw ConfigError("--format '" + name + "' is not a query format: expected table, csv or json");
}

std::string read_sql_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError("cannot read SQL file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Table run_read_only_query(const Database& db, const std::string& sql, std::chrono::milliseconds timeout) {
  sqlite3* h = db.handle();
  AuthorizerState state;
  AuthorizerGuard guard(h, &state);

  // Prepare and check every statement of the text before running any.
  std::vector<StmtPtr> statements;
  const char* rest = sql.c_str();
  const char* const end = sql.c_str() + sql.size();
  while (rest < end) {
    sqlite3_stmt* raw = nullptr;
    const char* tail = nullptr;
    state.denied = false;
    const int rc = sqlite3_prepare_v2(h, rest, static_cast<int>(end - rest), &raw, &tail);
    StmtPtr stmt(raw);
    const std::string text(rest, tail ? tail : end);
    if (state.denied) refuse(std::string(rest, end));
    if (rc != SQLITE_OK) throw_sqlite_error(h, rc, "cannot run query '" + first_words(text, 8) + "'");
    if (!tail || tail == rest) break;
    rest = tail;
    if (!stmt) continue;  // only white space or comments
    if (!sqlite3_stmt_readonly(stmt.get())) refuse(text);
    statements.push_back(std::move(stmt));
  }
  if (statements.empty()) throw DbError(db.path() + ": the query holds no SQL statement");
  if (statements.size() > 1) {
    throw DbError(db.path() + ": the query holds " + std::to_string(statements.size()) +
                  " statements; harness query runs one per call (combine them with UNION ALL or WITH, or run "
                  "them one at a time)");
  }

  sqlite3_stmt* s = statements.front().get();
  const QueryDeadline deadline(h, timeout);
  Table table;
  const int n = sqlite3_column_count(s);
  for (int c = 0; c < n; ++c) table.columns.emplace_back(sqlite3_column_name(s, c));
  for (;;) {
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW && deadline.fired()) {
      throw DbError(db.path() + ": query '" + first_words(sqlite3_sql(s), 8) + "' stopped at its time limit of " +
                    seconds_text(timeout) + " (" + std::to_string(table.rows.size()) +
                    " rows so far; harness query --timeout SECONDS sets the limit, 0 for none)");
    }
    if (rc != SQLITE_ROW) throw_sqlite_error(h, rc, "query '" + first_words(sqlite3_sql(s), 8) + "' failed");
    std::vector<Value> row;
    row.reserve(n);
    for (int c = 0; c < n; ++c) {
      switch (sqlite3_column_type(s, c)) {
        case SQLITE_INTEGER:
          row.emplace_back(static_cast<int64_t>(sqlite3_column_int64(s, c)));
          break;
        case SQLITE_FLOAT:
          row.emplace_back(sqlite3_column_double(s, c));
          break;
        case SQLITE_NULL:
          row.emplace_back(std::monostate{});
          break;
        default:  // TEXT, and a BLOB as hex (no column of the schema is a BLOB)
          row.push_back(Statement::value_of(s, c));
      }
    }
    table.rows.push_back(std::move(row));
  }
  db.check_unchanged();
  return table;
}

void write_table(const Table& table, QueryFormat format, std::ostream& out) {
  switch (format) {
    case QueryFormat::Table:
      write_aligned(table, out);
      return;
    case QueryFormat::Csv:
      write_csv(table, out);
      return;
    case QueryFormat::Json:
      write_json(table, out);
      return;
  }
}

void run_query(const std::string& db_path, const std::string& sql, QueryFormat format, std::ostream& out,
               std::chrono::milliseconds timeout) {
  const Database db = Database::open(db_path, OpenMode::ReadOnly);
  write_table(run_read_only_query(db, sql, timeout), format, out);
}

}  // namespace harness::db

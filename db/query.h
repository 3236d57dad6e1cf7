// `harness query`: read-only SQL on a results database, printed as an aligned table, CSV or JSON.
#pragma once

#include "db/database.h"

#include <chrono>
#include <iosfwd>
#include <string>

namespace harness::db {

enum class QueryFormat { Table, Csv, Json };

// How long one query may run before it is stopped (harness query --timeout).
inline constexpr std::chrono::milliseconds kDefaultQueryTimeout{60'000};

// "table" | "csv" | "json"; anything else is a ConfigError listing the choices.
QueryFormat parse_query_format(const std::string& name);

// The text of a .sql file (e.g. db/queries/*.sql); ConfigError if it cannot be read.
std::string read_sql_file(const std::string& path);

// Runs exactly one read-only statement on `db` and returns its rows. Every
// statement of `sql` is prepared and checked before anything runs: one that would
// write (sqlite3_stmt_readonly), ATTACH/DETACH, and PRAGMAs that set values are
// refused with DbError "query is read-only: '<first words>' would modify the
// database". More than one statement is refused too (one result per command).
// A statement still running after `timeout` (zero: no limit) is stopped
// (sqlite3_progress_handler) with a DbError saying so.
Table run_read_only_query(const Database& db, const std::string& sql,
                          std::chrono::milliseconds timeout = kDefaultQueryTimeout);

// Writes `table`: Table = aligned columns with a header (NULL shown as NULL),
// Csv = RFC 4180 (header line; fields with , " CR or LF quoted, quotes doubled;
// NULL = empty field; LF line ends), Json = an array of objects in column order
// (NULL = null; a repeated column name gets a suffix _2, _3, ...). Doubles are
// written with the shortest text that reads back to the same value (6
// significant digits in the Table format).
void write_table(const Table& table, QueryFormat format, std::ostream& out);

// Opens `db_path` read-only (OpenMode::ReadOnly: PRAGMA query_only, and no file
// left behind, see ReadAccess), runs `sql` through run_read_only_query with
// `timeout` and writes the result. Throws DbError.
void run_query(const std::string& db_path, const std::string& sql, QueryFormat format, std::ostream& out,
               std::chrono::milliseconds timeout = kDefaultQueryTimeout);

}  // namespace harness::db

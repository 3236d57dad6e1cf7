// Forward migrations of the results schema: one step per version, each in its own transaction.
#pragma once

#include <vector>

namespace harness::db {

class Database;

// Takes a database from schema version `from_version` to from_version + 1. The SQL of a step
// is history: once released it never changes (a later change is a new step).
struct Migration {
  int from_version;
  const char* summary;  // what the step adds, for messages
  const char* sql;
};

// The steps of this build, from version 1 up to Database::schema_version(), in order.
const std::vector<Migration>& schema_migrations();

// Applies `migrations` in order to `db` (a read-write connection) until its user_version is
// `target`. Each step runs in one BEGIN IMMEDIATE transaction that re-reads the version under
// the write lock (so concurrent openers apply each step once), runs the step's SQL and sets
// PRAGMA user_version = from_version + 1 before COMMIT: a step that fails, or a process killed
// in it, leaves the database at the version of the last step that committed, nothing lost.
// Throws DbError naming the file, the versions and the failing step; BusyError as every write.
// A version above `target`, or a version with no step, is a DbError.
void migrate(Database& db, int target, const std::vector<Migration>& migrations = schema_migrations());

}  // namespace harness::db

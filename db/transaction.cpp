// Transactions that roll back unless committed.
#include "db/transaction.h"

#include <sqlite3.h>

namespace harness::db {
namespace {

const char* begin_sql(TransactionMode mode) {
  switch (mode) {
    case TransactionMode::Deferred:
      return "BEGIN DEFERRED";
    case TransactionMode::Exclusive:
      return "BEGIN EXCLUSIVE";
    case TransactionMode::Immediate:
      break;
  }
  return "BEGIN IMMEDIATE";
}

}  // namespace

Transaction::Transaction(const Database& db, TransactionMode mode) : Transaction(db.handle(), mode) {}

Transaction::Transaction(sqlite3* db, TransactionMode mode) : db_(db) {
  const int rc = sqlite3_exec(db_, begin_sql(mode), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) throw_sqlite_error(db_, rc, std::string("cannot start a transaction (") + begin_sql(mode) + ")");
}

// A failed COMMIT leaves the transaction open (e.g. SQLITE_BUSY); the destructor
// then rolls it back, so the connection is always usable afterwards.
void Transaction::commit() {
  const int rc = sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) throw_sqlite_error(db_, rc, "cannot commit");
  committed_ = true;
}

Transaction::~Transaction() {
  // An error inside the transaction may already have rolled it back (autocommit on).
  if (!committed_ && !sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

}  // namespace harness::db

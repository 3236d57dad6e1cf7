// A transaction that rolls back on destruction unless committed.
#pragma once

#include "db/database.h"

struct sqlite3;

namespace harness::db {

// Deferred takes locks on first use; Immediate takes the write lock at BEGIN, so
// a concurrent writer waits (busy timeout) at BEGIN instead of failing mid-way:
// every write transaction of the store is Immediate.
enum class TransactionMode { Deferred, Immediate, Exclusive };

// BEGIN in the constructor, COMMIT in commit(), ROLLBACK in the destructor if
// commit() was not reached (an exception unwinding). The destructor never throws.
class Transaction {
 public:
  explicit Transaction(const Database& db, TransactionMode mode = TransactionMode::Immediate);
  Transaction(sqlite3* db, TransactionMode mode = TransactionMode::Immediate);
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  void commit();

 private:
  sqlite3* db_ = nullptr;
  bool committed_ = false;
};

}  // namespace harness::db

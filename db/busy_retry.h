// Retries a whole write transaction while another process holds the database lock.
#pragma once

#include "db/database.h"

#include <algorithm>
#include <chrono>
#include <random>
#include <string>
#include <thread>

namespace harness::db {

// Runs `transaction` (which must begin and commit its own Transaction) again
// each time it fails with BusyError, with a short randomized back-off, until
// `max_wait` has passed; then throws DbError naming the file. The transaction
// must be safe to repeat: it is rolled back before each retry.
template <class F>
auto retry_on_busy(const std::string& path, std::chrono::milliseconds max_wait, F&& transaction)
    -> decltype(transaction()) {
  const auto start = std::chrono::steady_clock::now();
  std::minstd_rand jitter(static_cast<unsigned>(start.time_since_epoch().count()));
  for (int attempt = 0;; ++attempt) {
    try {
      return transaction();
    } catch (const BusyError& e) {
      if (std::chrono::steady_clock::now() - start > max_wait) {
        throw DbError(path + ": the database stayed locked by another process for more than " +
                      std::to_string(std::chrono::duration_cast<std::chrono::seconds>(max_wait).count()) +
                      " s; is a stuck process holding a write transaction? (" + e.what() + ")");
      }
      const int cap_ms = 5 << std::min(attempt, 5);  // 5 ms .. 160 ms
      std::this_thread::sleep_for(std::chrono::milliseconds(1 + jitter() % cap_ms));
    }
  }
}

}  // namespace harness::db

// Reading a query's values (db::Value) as the type a caller expects; a NULL or another type gives
// 0, NaN or "" rather than an exception.
#pragma once

#include "db/database.h"

#include <cmath>
#include <cstdint>
#include <string>
#include <variant>

namespace harness::db {

inline int64_t as_int(const Value& v) {
  if (auto i = std::get_if<int64_t>(&v)) return *i;
  if (auto d = std::get_if<double>(&v)) return static_cast<int64_t>(*d);
  return 0;
}
inline double as_double(const Value& v) {
  if (auto d = std::get_if<double>(&v)) return *d;
  if (auto i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  return std::nan("");
}
inline std::string as_text(const Value& v) {
  if (auto s = std::get_if<std::string>(&v)) return *s;
  if (auto i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (auto d = std::get_if<double>(&v)) return std::to_string(*d);
  return {};
}
inline bool is_null(const Value& v) { return std::holds_alternative<std::monostate>(v); }

}  // namespace harness::db

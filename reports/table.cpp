// Column-list tables (see table.h) and the number formats of the report.
#include "reports/table.h"

#include "harness/errors.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <ctime>
#include <stdexcept>

namespace harness::reports {

Table::Table(std::string name, std::vector<Column> columns) : name_(std::move(name)), columns_(std::move(columns)) {}

void Table::row(std::vector<Entry> entries) {
  if (entries.size() != columns_.size()) {
    throw std::logic_error("table " + name_ + ": a row of " + std::to_string(entries.size()) + " entries for " +
                           std::to_string(columns_.size()) + " columns");
  }
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].csv.size() > columns_[i].csv.size()) {
      throw std::logic_error("table " + name_ + ", column '" + columns_[i].header + "': " +
                             std::to_string(entries[i].csv.size()) + " CSV values for " +
                             std::to_string(columns_[i].csv.size()) + " CSV columns");
    }
    entries[i].csv.resize(columns_[i].csv.size());
  }
  rows_.push_back(std::move(entries));
}

TableData Table::data() const {
  TableData t;
  t.name = name_;
  for (const Column& c : columns_) {
    if (!c.header.empty()) t.header.push_back(c.header);
    t.csv_header.insert(t.csv_header.end(), c.csv.begin(), c.csv.end());
  }
  for (const auto& entries : rows_) {
    std::vector<Cell> shown;
    std::vector<std::string> csv;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      if (!columns_[i].header.empty()) shown.push_back({entries[i].text, entries[i].bold});
      csv.insert(csv.end(), entries[i].csv.begin(), entries[i].csv.end());
    }
    t.rows.push_back(std::move(shown));
    t.csv_rows.push_back(std::move(csv));
  }
  return t;
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}
std::string signed_fixed(double v, int decimals) { return (v >= 0 ? "+" : "") + fixed(v, decimals); }
std::string sci(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}
std::string significant(double v, int digits) {
  const double a = std::fabs(v);
  char buf[64];
  if (a == 0.0) return fixed(0.0, digits - 1);
  if (a < 1e-3 || a >= 1e4 || !std::isfinite(v)) {
    std::snprintf(buf, sizeof buf, "%.*e", digits - 1, v);
    return buf;
  }
  // The exponent after rounding to `digits`, so that 9.996 counts as 10.0 (one digit more before the point).
  std::snprintf(buf, sizeof buf, "%.*e", digits - 1, v);
  const int magnitude = std::atoi(std::strchr(buf, 'e') + 1);
  return fixed(v, std::max(0, digits - 1 - magnitude));
}
std::string full(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}
std::string opt_full(const std::optional<double>& v) { return v ? full(*v) : std::string(); }
std::string p_text(const std::optional<double>& p) {
  if (!p) return "n/a";
  if (*p < 1e-3) return sci(*p);
  return fixed(*p, 4);
}
std::string pct(double v) { return fixed(100.0 * v, 2); }
std::string join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? sep : "") + items[i];
  return out;
}

std::string pct_ci(const std::optional<Interval>& ci) {
  return ci ? "[" + pct(ci->lower) + ", " + pct(ci->upper) + "]" : "n/a";
}
std::string sci_ci(const std::optional<Interval>& ci) {
  return ci ? "[" + sci(ci->lower) + ", " + sci(ci->upper) + "]" : "n/a";
}
std::vector<std::string> ci_csv(const std::optional<Interval>& ci) {
  return ci ? std::vector<std::string>{full(ci->lower), full(ci->upper)} : std::vector<std::string>{"", ""};
}
std::string opt_pct(const std::optional<double>& v) { return v ? pct(*v) : "n/a"; }
std::string opt_diff(const std::optional<double>& v) { return v ? signed_fixed(100 * *v, 2) : "n/a"; }

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

std::string seeds_text(const std::vector<int64_t>& seeds) {
  std::vector<std::string> s;
  for (auto v : seeds) s.push_back(std::to_string(v));
  return join(s, ", ");
}

void write_text_file(const std::string& path, const std::string& text, const std::string& what) {
  std::ofstream out(path);
  out << text;
  out.close();
  if (!out) throw DataError(path + ": cannot write " + what);
}

void write_csv(const std::string& path, const TableData& table) {
  write_text_file(path, csv_text(table.csv_header, table.csv_rows), "the table " + table.name);
}

std::string sql_block(const std::string& sql, const std::vector<std::string>& binds) {
  std::string text = sql + ";";
  for (std::size_t i = 0; i < binds.size(); ++i) text += "\n-- ?" + std::to_string(i + 1) + " = " + binds[i];
  return text;
}

std::vector<Entry> initial_noise_entries(const MeanCi& noise, const MeanCi& grad_energy) {
  return {{std::to_string(noise.n), {std::to_string(noise.n)}},
          {opt_pct(noise.mean), {opt_full(noise.mean)}},
          {pct_ci(noise.ci), ci_csv(noise.ci)},
          {grad_energy.mean ? sci(*grad_energy.mean) : "n/a", {opt_full(grad_energy.mean)}},
          {sci_ci(grad_energy.ci), ci_csv(grad_energy.ci)}};
}

}  // namespace harness::reports

// A report table declared once as a list of columns; each row gives one entry per column, and
// the Markdown/HTML table and its full-precision CSV twin both come from that one list.
#pragma once

#include "reports/document.h"
#include "reports/stats.h"

#include <cstdint>

#include <optional>
#include <string>
#include <vector>

namespace harness::reports {

// A column of the table as the reader sees it (`header`; empty: CSV only) and the CSV columns it
// fills (none: shown only). An interval is one shown column and two CSV columns, for example.
struct Column {
  std::string header;
  std::vector<std::string> csv;
};

// One row's entry in one column: the shown text and one value per CSV column of that column.
struct Entry {
  std::string text;
  std::vector<std::string> csv;
  bool bold = false;

  Entry() = default;
  Entry(std::string shown, std::vector<std::string> values = {}, bool bold_text = false)
      : text(std::move(shown)), csv(std::move(values)), bold(bold_text) {}
  Entry(const char* shown) : text(shown) {}
};

class Table {
 public:
  Table(std::string name, std::vector<Column> columns);

  // One entry per column. An entry with fewer CSV values than its column declares is padded with
  // empty fields (a missing value); more is a programming error (std::logic_error).
  void row(std::vector<Entry> entries);

  const std::string& name() const { return name_; }
  TableData data() const;

 private:
  std::string name_;
  std::vector<Column> columns_;
  std::vector<std::vector<Entry>> rows_;
};

// Value formatting shared by the tables: shown text and CSV text (full precision, %.17g).
std::string fixed(double v, int decimals);
std::string signed_fixed(double v, int decimals);
std::string sci(double v);
// `digits` significant digits, trailing zeros kept: 0.100, 1.90, 221; below 1e-3 or from 1e4 on in
// exponent form (4.12e-04).
std::string significant(double v, int digits);
std::string full(double v);
std::string opt_full(const std::optional<double>& v);
// "n/a", 4 decimals, or below 1e-3 (where 4 decimals would keep one digit) 3 significant digits: "2.43e-04".
std::string p_text(const std::optional<double>& p);
std::string pct(double v);                           // a fraction in percent (or pp), 2 decimals
std::string join(const std::vector<std::string>& items, const std::string& sep);
std::string pct_ci(const std::optional<Interval>& ci);         // "[a, b]" in percent, or "n/a"
std::string sci_ci(const std::optional<Interval>& ci);
std::vector<std::string> ci_csv(const std::optional<Interval>& ci);  // the two CSV fields of an interval
std::string opt_pct(const std::optional<double>& v);

// An initial-noise row's entries after the strategy column (both reports' noise tables): n seeds,
// the noise fraction's mean and 95% CI in percent, the feature-gradient energy's mean and CI.
std::vector<Entry> initial_noise_entries(const MeanCi& noise, const MeanCi& grad_energy);
std::string opt_diff(const std::optional<double>& v);           // a fraction as signed pp, "+1.23"
std::string utc_now();                                          // "2026-12-01T13:00:00Z"
std::string seeds_text(const std::vector<int64_t>& seeds);      // "0, 1, 5"
// Writes `text` to `path`, replacing it; a failed write is a DataError naming the file and `what`.
void write_text_file(const std::string& path, const std::string& text, const std::string& what = "the report");
// Writes the table's CSV twin to `path`; a failed write is a DataError naming the file.
void write_csv(const std::string& path, const TableData& table);
// A query as printed under a table: the SQL, then "-- ?N = value" for each bound value.
std::string sql_block(const std::string& sql, const std::vector<std::string>& binds);

}  // namespace harness::reports

// The folder a report is written into, and the document that becomes its report.md and report.html:
// each table is written as its CSV and added to the document, each figure is recorded or its
// failure said, in one place for the experiment report and the study report.
#pragma once

#include "reports/document.h"
#include "reports/table.h"

#include <string>
#include <vector>

namespace harness::reports {

// Owns the document and the list of files written (report.md and report.html first, written last by
// write_documents). Throws DataError when a file cannot be written and std::filesystem::filesystem_error
// when the folder cannot be created.
class ReportFolder {
 public:
  explicit ReportFolder(std::string out_dir);

  Document& doc() { return doc_; }
  std::string path_of(const std::string& file_name) const;

  // Writes the table's CSV (`<name>.csv`) and adds the table to the document.
  void table(const Table& table);
  // Writes only the CSV: data in its own right that the document does not show.
  void csv(const Table& table);
  // A figure gnuplot drew as `<stem>.png` and `<stem>.svg`; a non-empty `error` (why it could not be
  // drawn) puts that in the document and the warnings instead.
  void figure(const std::string& stem, const std::string& caption, const std::string& error);
  // Writes report.md and report.html (PNG figures inlined).
  void write_documents(const std::string& html_title) const;

  const std::vector<std::string>& files() const { return files_; }  // report.md, report.html, then in order
  const std::vector<std::string>& warnings() const { return warnings_; }  // skipped figures
  bool figures_written() const { return figures_written_; }

 private:
  void write_table_csv(const TableData& data);

  std::string out_dir_;
  Document doc_;
  std::vector<std::string> files_;
  std::vector<std::string> warnings_;
  bool figures_written_ = false;
};

}  // namespace harness::reports

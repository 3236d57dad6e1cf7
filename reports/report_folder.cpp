// A report's folder and document (see report_folder.h).
#include "reports/report_folder.h"

#include <filesystem>

namespace harness::reports {

namespace fs = std::filesystem;

ReportFolder::ReportFolder(std::string out_dir) : out_dir_(std::move(out_dir)) {
  fs::create_directories(out_dir_);
  files_ = {path_of("report.md"), path_of("report.html")};
}

std::string ReportFolder::path_of(const std::string& file_name) const {
  return (fs::path(out_dir_) / file_name).string();
}

void ReportFolder::csv(const Table& table) { write_table_csv(table.data()); }

void ReportFolder::table(const Table& table) {
  TableData data = table.data();
  write_table_csv(data);
  doc_.table(std::move(data));
}

void ReportFolder::write_table_csv(const TableData& data) {
  const std::string path = path_of(data.name + ".csv");
  write_csv(path, data);
  files_.push_back(path);
}

void ReportFolder::figure(const std::string& stem, const std::string& caption, const std::string& error) {
  if (!error.empty()) {
    warnings_.push_back("figure " + stem + " skipped: " + error);
    doc_.paragraph("Figure `" + stem + "` skipped: " + error);
    return;
  }
  figures_written_ = true;
  doc_.figure(caption, stem + ".png", stem + ".svg");
  files_.push_back(path_of(stem + ".png"));
  files_.push_back(path_of(stem + ".svg"));
}

void ReportFolder::write_documents(const std::string& html_title) const {
  write_text_file(files_[0], doc_.markdown());
  write_text_file(files_[1], doc_.html(html_title, out_dir_));
}

}  // namespace harness::reports

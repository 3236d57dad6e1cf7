// A report as a list of blocks, rendered to Markdown and to one self-contained HTML page.
#pragma once

#include <string>
#include <vector>

namespace harness::reports {

struct Cell {
  std::string text;
  bool bold = false;
};

// One table of the report and its machine-readable twin (full-precision CSV).
struct TableData {
  std::string name;  // file stem of the CSV: "<name>.csv"
  std::vector<std::string> header;
  std::vector<std::vector<Cell>> rows;
  std::vector<std::string> csv_header;
  std::vector<std::vector<std::string>> csv_rows;
};

struct Block {
  enum class Kind { Heading, Paragraph, List, Table, Code, Figure };
  Kind kind = Kind::Paragraph;
  int level = 2;                   // Heading
  std::string text;                // Heading, Paragraph, Code, Figure caption
  std::vector<std::string> items;  // List
  TableData table;                 // Table
  std::string png, svg;            // Figure: file names relative to the output folder
};

// Owns the blocks in order. Paragraph and list text may use `code` and **bold**.
class Document {
 public:
  void heading(std::string text, int level = 2);
  void paragraph(std::string text);
  void list(std::vector<std::string> items);
  void table(TableData table);
  void code(std::string text);
  void figure(std::string caption, std::string png, std::string svg);
  void append(Block block) { blocks_.push_back(std::move(block)); }

  const std::vector<Block>& blocks() const { return blocks_; }

  std::string markdown() const;
  // The PNGs are read from `out_dir` and inlined as base64 data URIs.
  std::string html(const std::string& title, const std::string& out_dir) const;

 private:
  std::vector<Block> blocks_;
};

// RFC 4180 CSV: fields with a comma, quote or newline are quoted.
std::string csv_text(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);
std::string base64_encode(const std::string& bytes);
std::string html_escape(const std::string& s);

}  // namespace harness::reports

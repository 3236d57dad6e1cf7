// Markdown and HTML rendering of a report's blocks; CSV and base64 helpers.
#include "reports/document.h"

#include <fstream>
#include <sstream>

namespace harness::reports {
namespace {

std::string md_cell(const Cell& c) {
  std::string s;
  for (char ch : c.text) {
    if (ch == '|') s += "\\|";
    else if (ch == '\n') s += ' ';
    else s += ch;
  }
  if (c.bold && !s.empty()) s = "**" + s + "**";
  return s;
}

// `code` and **bold** to HTML, everything else escaped.
std::string inline_html(const std::string& text) {
  std::string out;
  bool in_code = false;
  bool in_bold = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '`') {
      out += in_code ? "</code>" : "<code>";
      in_code = !in_code;
    } else if (!in_code && text.compare(i, 2, "**") == 0) {
      out += in_bold ? "</b>" : "<b>";
      in_bold = !in_bold;
      ++i;
    } else {
      out += html_escape(std::string(1, text[i]));
    }
  }
  if (in_code) out += "</code>";
  if (in_bold) out += "</b>";
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

void Document::heading(std::string text, int level) {
  Block b;
  b.kind = Block::Kind::Heading;
  b.level = level;
  b.text = std::move(text);
  blocks_.push_back(std::move(b));
}

void Document::paragraph(std::string text) {
  Block b;
  b.kind = Block::Kind::Paragraph;
  b.text = std::move(text);
  blocks_.push_back(std::move(b));
}

void Document::list(std::vector<std::string> items) {
  if (items.empty()) return;
  Block b;
  b.kind = Block::Kind::List;
  b.items = std::move(items);
  blocks_.push_back(std::move(b));
}

void Document::table(TableData table) {
  Block b;
  b.kind = Block::Kind::Table;
  b.table = std::move(table);
  blocks_.push_back(std::move(b));
}

void Document::code(std::string text) {
  Block b;
  b.kind = Block::Kind::Code;
  b.text = std::move(text);
  blocks_.push_back(std::move(b));
}

void Document::figure(std::string caption, std::string png, std::string svg) {
  Block b;
  b.kind = Block::Kind::Figure;
  b.text = std::move(caption);
  b.png = std::move(png);
  b.svg = std::move(svg);
  blocks_.push_back(std::move(b));
}

std::string Document::markdown() const {
  std::ostringstream md;
  for (const Block& b : blocks_) {
    switch (b.kind) {
      case Block::Kind::Heading:
        md << std::string(static_cast<std::size_t>(b.level), '#') << ' ' << b.text << "\n\n";
        break;
      case Block::Kind::Paragraph:
        md << b.text << "\n\n";
        break;
      case Block::Kind::List:
        for (const auto& item : b.items) md << "- " << item << '\n';
        md << '\n';
        break;
      case Block::Kind::Table: {
        const TableData& t = b.table;
        md << '|';
        for (const auto& h : t.header) md << ' ' << md_cell({h, false}) << " |";
        md << "\n|";
        for (std::size_t i = 0; i < t.header.size(); ++i) md << (i == 0 ? " --- |" : " ---: |");
        md << '\n';
        for (const auto& row : t.rows) {
          md << '|';
          for (const auto& c : row) md << ' ' << md_cell(c) << " |";
          md << '\n';
        }
        md << "\n(CSV: `" << t.name << ".csv`)\n\n";
        break;
      }
      case Block::Kind::Code:
        md << "```sql\n" << b.text << "\n```\n\n";
        break;
      case Block::Kind::Figure:
        md << "![" << b.text << "](" << b.png << ")\n\n*" << b.text << "* (SVG: `" << b.svg << "`)\n\n";
        break;
    }
  }
  return md.str();
}

std::string Document::html(const std::string& title, const std::string& out_dir) const {
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" << html_escape(title)
    << "</title>\n<style>\n"
       "body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}\n"
       "table{border-collapse:collapse;margin:0.5em 0 0.3em}\n"
       "th,td{border:1px solid #bbb;padding:0.25em 0.6em;text-align:right}\n"
       "th:first-child,td:first-child{text-align:left}\nth{background:#eee}\n"
       "pre{background:#f6f6f6;padding:0.6em;overflow-x:auto;font-size:0.9em}\n"
       "figure{margin:1em 0}img{max-width:100%}figcaption{font-style:italic}\n"
       ".csv{font-size:0.85em;color:#555}\n"
       "</style>\n</head>\n<body>\n";
  for (const Block& b : blocks_) {
    switch (b.kind) {
      case Block::Kind::Heading:
        h << "<h" << b.level << '>' << inline_html(b.text) << "</h" << b.level << ">\n";
        break;
      case Block::Kind::Paragraph:
        h << "<p>" << inline_html(b.text) << "</p>\n";
        break;
      case Block::Kind::List:
        h << "<ul>\n";
        for (const auto& item : b.items) h << "<li>" << inline_html(item) << "</li>\n";
        h << "</ul>\n";
        break;
      case Block::Kind::Table: {
        const TableData& t = b.table;
        h << "<table>\n<tr>";
        for (const auto& c : t.header) h << "<th>" << html_escape(c) << "</th>";
        h << "</tr>\n";
        for (const auto& row : t.rows) {
          h << "<tr>";
          for (const auto& c : row) {
            h << "<td>" << (c.bold ? "<b>" : "") << html_escape(c.text) << (c.bold ? "</b>" : "") << "</td>";
          }
          h << "</tr>\n";
        }
        h << "</table>\n<p class=\"csv\">CSV: <code>" << html_escape(t.name) << ".csv</code></p>\n";
        break;
      }
      case Block::Kind::Code:
        h << "<pre><code>" << html_escape(b.text) << "</code></pre>\n";
        break;
      case Block::Kind::Figure:
        h << "<figure><img alt=\"" << html_escape(b.text) << "\" src=\"data:image/png;base64,"
          << base64_encode(read_file(out_dir + "/" + b.png)) << "\"><figcaption>" << html_escape(b.text)
          << "</figcaption></figure>\n";
        break;
    }
  }
  h << "</body>\n</html>\n";
  return h.str();
}

std::string csv_text(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  auto field = [](const std::string& f) {
    if (f.find_first_of(",\"\n\r") == std::string::npos) return f;
    std::string q = "\"";
    for (char c : f) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
  };
  std::ostringstream out;
  auto line = [&](const std::vector<std::string>& r) {
    for (std::size_t i = 0; i < r.size(); ++i) out << (i ? "," : "") << field(r[i]);
    out << "\n";
  };
  line(header);
  for (const auto& r : rows) line(r);
  return out.str();
}

std::string base64_encode(const std::string& bytes) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                 static_cast<uint8_t>(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i < bytes.size()) {
    uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace harness::reports

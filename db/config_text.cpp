// Comparing recorded experiment configurations.
#include "db/config_text.h"

#include <algorithm>
#include <sstream>
#include <vector>

namespace harness::db {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace

std::string first_difference(const std::string& a, const std::string& b) {
  const std::vector<std::string> la = lines_of(a), lb = lines_of(b);
  for (std::size_t i = 0; i < std::max(la.size(), lb.size()); ++i) {
    const std::string x = i < la.size() ? "'" + la[i] + "'" : "(no line)";
    const std::string y = i < lb.size() ? "'" + lb[i] + "'" : "(no line)";
    if (x != y) return "line " + std::to_string(i + 1) + ": " + x + " vs " + y;
  }
  return "the texts are equal; only the hashes differ";
}

}  // namespace harness::db

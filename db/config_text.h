// Comparing recorded experiment configurations (experiments.config_text).
#pragma once

#include <string>

namespace harness::db {

// Where two configuration texts first differ, for refusals that must say what changed:
// "line 3: 'seeds = 0, 1' vs 'seeds = 0, 1, 2'".
std::string first_difference(const std::string& a, const std::string& b);

}  // namespace harness::db

// Checks of command-line values shared by the subcommands; each refusal is a ConfigError naming the option.
#pragma once

#include "harness/errors.h"
#include "harness/limits.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <limits>
#include <string>

namespace harness {

// A non-negative integer of at most 64 bits, digits only. (Boost's typed option values
// read "-1" as an unsigned 2^64 - 1 without complaint, so unsigned options are read as text.)
inline uint64_t parse_unsigned_option(const std::string& text, const std::string& option) {
  const bool digits =
      !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
  uint64_t value = 0;
  bool fits = digits;
  for (std::size_t i = 0; fits && i < text.size(); ++i) {
    const uint64_t digit = static_cast<uint64_t>(text[i] - '0');
    fits = value <= (std::numeric_limits<uint64_t>::max() - digit) / 10;
    value = value * 10 + digit;
  }
  if (!fits) {
    throw ConfigError(option + " '" + text + "': expected a whole number from 0 to " +
                      std::to_string(std::numeric_limits<uint64_t>::max()) +
                      (digits ? " (it does not fit in 64 bits)" : ""));
  }
  return value;
}

// --threads: 0 (all cores) up to kMaxThreads.
inline void check_threads_option(int threads, const std::string& option = "--threads") {
  if (threads < 0 || threads > kMaxThreads) {
    throw ConfigError(option + " " + std::to_string(threads) + ": expected 0 (all cores) up to " +
                      std::to_string(kMaxThreads));
  }
}

}  // namespace harness

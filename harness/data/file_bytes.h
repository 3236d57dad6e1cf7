// Whole-file reads for the binary data set readers, gzip-compressed or plain.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace harness {

// Returns the bytes of `path`, inflated if the file starts with the gzip magic 1f 8b.
// Throws DataError naming the file if it is missing, unreadable or a truncated or
// corrupt gzip stream.
std::vector<uint8_t> read_file_bytes(const std::string& path);

// True if `path` names an existing regular file.
bool file_exists(const std::string& path);

}  // namespace harness

// Small generated data set files for the data tests, written to a temporary folder.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <vector>

namespace harness::testing {

// A fresh folder under the system temp dir, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "harness_data_XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

inline void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

inline void write_text(const std::string& path, const std::string& text) {
  write_bytes(path, std::vector<uint8_t>(text.begin(), text.end()));
}

inline void write_gzip(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  gzFile file = gzopen(path.c_str(), "wb");
  if (file == nullptr) throw std::runtime_error("gzopen failed: " + path);
  if (!bytes.empty()) gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(file);
}

inline std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void put_u32(std::vector<uint8_t>& out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(value >> shift));
}

// An IDX file: big-endian magic, dims, then the payload.
inline std::vector<uint8_t> idx_bytes(uint32_t magic, std::initializer_list<uint32_t> dims,
                                      const std::vector<uint8_t>& payload) {
  std::vector<uint8_t> out;
  put_u32(out, magic);
  for (uint32_t d : dims) put_u32(out, d);
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

// Payload of n images of h x w with pixel (i, p) = (7 i + 3 p) mod 256.
inline std::vector<uint8_t> image_payload(uint32_t n, uint32_t h, uint32_t w) {
  std::vector<uint8_t> out(size_t{n} * h * w);
  for (size_t i = 0; i < n; ++i) {
    for (size_t p = 0; p < size_t{h} * w; ++p) out[i * h * w + p] = static_cast<uint8_t>((7 * i + 3 * p) % 256);
  }
  return out;
}

// Runs `body`, expects it to throw E, and checks the message holds every piece.
template <typename E>
void expect_error(const std::function<void()>& body, std::initializer_list<std::string> pieces) {
  try {
    body();
    ADD_FAILURE() << "expected an exception, none was thrown";
  } catch (const E& error) {
    for (const std::string& piece : pieces) EXPECT_THAT(error.what(), ::testing::HasSubstr(piece));
  }
}

}  // namespace harness::testing

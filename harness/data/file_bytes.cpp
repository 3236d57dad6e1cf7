// Whole-file reads: plain files through std::ifstream, gzip through zlib's gzread.
#include "harness/data/file_bytes.h"

#include <sys/stat.h>
#include <zlib.h>

#include <fstream>

#include "harness/errors.h"

namespace harness {
namespace {

constexpr size_t kChunk = size_t{1} << 22;  // 4 MiB per gzread call

bool has_gzip_magic(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char magic[2] = {0, 0};
  in.read(reinterpret_cast<char*>(magic), 2);
  return in.gcount() == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
}

std::vector<uint8_t> read_gzip(const std::string& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) throw DataError(path + ": cannot open gzip file");
  gzbuffer(file, 1 << 18);
  std::vector<uint8_t> bytes;
  // The buffer grows only as inflated data arrives, so a lying header cannot make
  // us allocate more than the file really holds.
  for (;;) {
    const size_t old = bytes.size();
    bytes.resize(old + kChunk);
    const int got = gzread(file, bytes.data() + old, static_cast<unsigned>(kChunk));
    if (got < 0) {
      int code = 0;
      const std::string why = gzerror(file, &code);
      gzclose(file);
      throw DataError(path + ": corrupt gzip stream (" + why + ")");
    }
    bytes.resize(old + static_cast<size_t>(got));
    if (static_cast<size_t>(got) < kChunk) break;
  }
  int code = Z_OK;
  const std::string why = gzerror(file, &code);
  gzclose(file);
  // zlib reports a stream cut off before its end as Z_BUF_ERROR at end of input.
  if (code == Z_BUF_ERROR) throw DataError(path + ": truncated gzip stream (" + why + ")");
  if (code != Z_OK) throw DataError(path + ": corrupt gzip stream (" + why + ")");
  return bytes;
}

std::vector<uint8_t> read_plain(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw DataError(path + ": cannot open file");
  const std::streamoff size = in.tellg();
  if (size < 0) throw DataError(path + ": cannot determine file size");
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(bytes.data()), size);
  if (in.gcount() != size) throw DataError(path + ": read error");
  return bytes;
}

}  // namespace

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::vector<uint8_t> read_file_bytes(const std::string& path) {
  if (!file_exists(path)) throw DataError(path + ": no such file");
  return has_gzip_magic(path) ? read_gzip(path) : read_plain(path);
}

}  // namespace harness

// Writing a file whole or not at all: into a temporary file beside it, renamed over it at the end.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <string>
#include <system_error>

namespace harness {

// Owns a temporary path in the target's folder, ".NAME.tmp-PID-N". The owner writes the new
// content there, then commit() flushes it to disk and renames it onto the target: one rename
// within a file system is atomic, so a reader, a kill or a failed write leaves the old file
// or the new one, never half of one. Without commit() the destructor removes the temporary
// file and SQLite's companions of it (-journal, -wal, -shm). A killed process leaves its
// temporary file behind; the target is untouched. Not copyable; destructor never throws.
class ReplacingFile {
 public:
  explicit ReplacingFile(const std::string& target) : target_(target) {
    static std::atomic<unsigned> counter{0};
    const std::filesystem::path path(target);
    temp_ = (path.parent_path() / ("." + path.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-" +
                                   std::to_string(counter++)))
                .string();
    remove_temp();  // left by a killed process whose pid this one now has
  }
  ~ReplacingFile() {
    if (!committed_) remove_temp();
  }
  ReplacingFile(const ReplacingFile&) = delete;
  ReplacingFile& operator=(const ReplacingFile&) = delete;

  const std::string& target() const noexcept { return target_; }
  const std::string& temp_path() const noexcept { return temp_; }

  // Flushes the temporary file and renames it onto the target. Returns the error, if any
  // (the temporary file then stays until destruction), so each caller throws its own kind.
  std::error_code commit() noexcept {
    std::error_code ec;
    if (const int fd = ::open(temp_.c_str(), O_RDONLY | O_CLOEXEC); fd >= 0) {
      ::fsync(fd);  // the content reaches the disk before the name does
      ::close(fd);
    } else {
      return std::error_code(errno, std::generic_category());
    }
    std::filesystem::rename(temp_, target_, ec);
    if (!ec) committed_ = true;
    return ec;
  }

 private:
  void remove_temp() noexcept {
    std::error_code ignored;
    for (const char* suffix : {"", "-journal", "-wal", "-shm"}) std::filesystem::remove(temp_ + suffix, ignored);
  }

  std::string target_;
  std::string temp_;
  bool committed_ = false;
};

}  // namespace harness

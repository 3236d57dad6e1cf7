// Tests of ReplacingFile: the target holds the old content or the new, never part of either.
#include "harness/replacing_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/data/fixtures.h"

namespace harness {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

std::string read_all(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(ReplacingFile, CommitPutsTheNewContentInPlaceAndLeavesNothingElse) {
  TempDir dir;
  const std::string target = dir.file("out.bin");
  std::ofstream(target) << "old";
  {
    ReplacingFile file(target);
    EXPECT_EQ(fs::path(file.temp_path()).parent_path(), fs::path(target).parent_path());
    std::ofstream(file.temp_path()) << "new content";
    EXPECT_EQ(read_all(target), "old");  // nothing visible before commit
    EXPECT_FALSE(file.commit());
  }
  EXPECT_EQ(read_all(target), "new content");
  EXPECT_EQ(names_in(dir.str()), std::vector<std::string>{"out.bin"});
}

TEST(ReplacingFile, WithoutCommitTheTargetIsUntouchedAndTheTemporaryFileRemoved) {
  TempDir dir;
  const std::string target = dir.file("new.bin");
  {
    ReplacingFile file(target);
    std::ofstream(file.temp_path()) << "half of it";
    std::ofstream(file.temp_path() + "-wal") << "a companion";
  }  // as when the writer throws
  EXPECT_TRUE(names_in(dir.str()).empty());
  std::ofstream(target) << "old";
  { ReplacingFile file(target); std::ofstream(file.temp_path()) << "half"; }
  EXPECT_EQ(read_all(target), "old");
}

TEST(ReplacingFile, AKilledWriterLeavesNoTargetFile) {
  TempDir dir;
  const std::string target = dir.file("killed.bin");
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ReplacingFile file(target);
    std::ofstream out(file.temp_path());
    out << std::string(1 << 16, 'x') << std::flush;
    ::raise(SIGKILL);  // before commit, like a job killed at its time limit
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_FALSE(fs::exists(target));
  // Its temporary file stays (hidden, named after the target and the writer's pid).
  const auto names = names_in(dir.str());
  ASSERT_EQ(names.size(), 1u);
  EXPECT_EQ(names[0].rfind(".killed.bin.tmp-" + std::to_string(child) + "-", 0), 0u) << names[0];
}

}  // namespace
}  // namespace harness

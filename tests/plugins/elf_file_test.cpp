// Tests of ElfFile: a plugin's exports and ABI tag read from the file, and refusals of damaged files.
#include "harness/loader/elf_file.h"

#include "harness/errors.h"
#include "harness/loader/loaded_strategy.h"

#include <elf.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace harness {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

const std::string kDir = HARNESS_TEST_PLUGIN_DIR;
const std::string kGood = kDir + "/good/good_plugin.so";

std::string read_bytes(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string write_copy(const std::string& name, const std::string& bytes) {
  const std::string file = ::testing::TempDir() + "/" + name;
  std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
  return file;
}

// The PluginError message of reading `file`, or "" if it was accepted.
std::string refusal(const std::string& file) {
  try {
    ElfFile::read(file);
  } catch (const PluginError& e) {
    return e.what();
  }
  return "";
}

TEST(ElfFile, ReadsTheExportsAndTheAbiTagOfAPluginWithoutLoadingIt) {
  const ElfFile elf = ElfFile::read(kGood);
  EXPECT_TRUE(elf.exports(HARNESS_STRATEGY_ABI_SYMBOL));
  EXPECT_TRUE(elf.exports(HARNESS_STRATEGY_FACTORY_SYMBOL));
  EXPECT_FALSE(elf.exports("no_such_symbol"));
  const auto tag = elf.symbol_bytes(HARNESS_STRATEGY_ABI_SYMBOL);
  ASSERT_TRUE(tag.has_value());
  EXPECT_EQ(std::string(*tag), host_abi_tag() + '\0');  // the char array, with its NUL
  EXPECT_FALSE(elf.symbol_bytes("no_such_symbol").has_value());
}

TEST(ElfFile, EveryTruncationOfAPluginIsRefusedNamingTheFile) {
  const std::string whole = read_bytes(kGood);
  ASSERT_GT(whole.size(), 4096u);
  std::vector<std::size_t> lengths = {0, 3, 4, 16, 63, 64, 65, 200, 1000, 4096, whole.size() - 1};
  for (std::size_t k = 1; k < 16; ++k) lengths.push_back(whole.size() * k / 16);
  for (const std::size_t length : lengths) {
    const std::string file = write_copy("cut_" + std::to_string(length) + ".so", whole.substr(0, length));
    const std::string message = refusal(file);
    SCOPED_TRACE("cut to " + std::to_string(length) + " bytes");
    EXPECT_THAT(message, HasSubstr(file));
    if (length < SELFMAG) {
      EXPECT_THAT(message, HasSubstr("no ELF header"));
    } else {
      EXPECT_THAT(message, AllOf(HasSubstr("not a loadable shared library"), HasSubstr("truncated"),
                                 HasSubstr("the file has " + std::to_string(length) + " bytes")));
    }
  }
}

TEST(ElfFile, RefusesAForeignOrDamagedHeader) {
  const std::string whole = read_bytes(kGood);
  struct Damage {
    std::size_t offset;
    char value;
    const char* expected;
  };
  const Damage damages[] = {
      {EI_CLASS, ELFCLASS32, "64-bit"},
      {EI_DATA, ELFDATA2MSB, "byte order"},
      {offsetof(Elf64_Ehdr, e_type), ET_EXEC, "not a shared object"},
      {offsetof(Elf64_Ehdr, e_machine), 0x7e, "machine"},
      {offsetof(Elf64_Ehdr, e_phentsize), 7, "program header entries"},
  };
  for (const Damage& d : damages) {
    std::string bytes = whole;
    bytes[d.offset] = d.value;
    const std::string file = write_copy("damaged.so", bytes);
    EXPECT_THAT(refusal(file), AllOf(HasSubstr(file), HasSubstr(d.expected))) << d.expected;
  }
}

TEST(ElfFile, RefusesASegmentThatEndsBeyondTheFile) {
  std::string bytes = read_bytes(kGood);
  Elf64_Ehdr header;
  std::memcpy(&header, bytes.data(), sizeof header);
  // Grow the last program header's file size past the end: the kind of lie dlopen trusts.
  const std::size_t at = header.e_phoff + (header.e_phnum - 1) * sizeof(Elf64_Phdr);
  Elf64_Phdr segment;
  std::memcpy(&segment, bytes.data() + at, sizeof segment);
  segment.p_filesz = bytes.size();
  segment.p_offset = 16;
  std::memcpy(bytes.data() + at, &segment, sizeof segment);
  const std::string file = write_copy("long_segment.so", bytes);
  EXPECT_THAT(refusal(file), AllOf(HasSubstr("segment " + std::to_string(header.e_phnum - 1)), HasSubstr("truncated")));
}

}  // namespace
}  // namespace harness

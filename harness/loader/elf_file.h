// A plugin file read as ELF without loading it: its structure checked and its exported data read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace harness {

// The bytes of a shared library file and the tables the loader needs from them. read()
// checks what dlopen would otherwise trust: a 64-bit ELF shared object of this host's
// machine and byte order, whose program headers, segments, section headers and sections
// all lie within the file. dlopen maps segments by their recorded sizes, so a truncated
// (half-written) file passes its own checks and then dies of SIGBUS when a page beyond
// the end is touched; here it is a PluginError instead. Nothing of the file runs.
class ElfFile {
 public:
  // Throws PluginError naming `path` and what is wrong ("not a shared library" when there
  // is no ELF header, "not a loadable shared library: ..." for a damaged or foreign one).
  static ElfFile read(const std::string& path);

  // Whether the dynamic symbol table exports a defined symbol called `name`.
  bool exports(const std::string& name) const;
  // The file bytes of the exported data symbol `name` (st_size bytes of the section that
  // holds it), or nothing when it is not exported or has no bytes in the file.
  std::optional<std::string_view> symbol_bytes(const std::string& name) const;

 private:
  struct Section {
    uint32_t type = 0;
    uint64_t address = 0;
    uint64_t offset = 0;
    uint64_t size = 0;
  };
  struct Symbol {
    std::string name;
    uint16_t section = 0;  // index into sections_; 0 = undefined
    uint64_t value = 0;
    uint64_t size = 0;
  };

  ElfFile() = default;
  const Symbol* find(const std::string& name) const;

  std::string bytes_;
  std::vector<Section> sections_;
  std::vector<Symbol> dynamic_symbols_;
};

}  // namespace harness

// Reading a plugin's ELF file without loading it (see elf_file.h).
#include "harness/loader/elf_file.h"

#include "harness/errors.h"

#include <elf.h>

#include <cstring>
#include <fstream>

namespace harness {
namespace {

// A strategy plugin is a few MB at most; anything this large is not one, and is not read into memory.
constexpr uint64_t kMaxPluginBytes = uint64_t{1} << 30;

#if defined(__x86_64__)
constexpr std::optional<uint16_t> kHostMachine = EM_X86_64;
#elif defined(__aarch64__)
constexpr std::optional<uint16_t> kHostMachine = EM_AARCH64;
#elif defined(__powerpc64__)
constexpr std::optional<uint16_t> kHostMachine = EM_PPC64;
#elif defined(__riscv)
constexpr std::optional<uint16_t> kHostMachine = EM_RISCV;
#else
constexpr std::optional<uint16_t> kHostMachine;  // unknown host: dlopen checks the machine
#endif

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
constexpr unsigned char kHostData = ELFDATA2LSB;
#else
constexpr unsigned char kHostData = ELFDATA2MSB;
#endif

// Whether [offset, offset + length) lies within a file of `size` bytes, without overflow.
bool within(uint64_t offset, uint64_t length, uint64_t size) { return offset <= size && length <= size - offset; }

// Whether `count` entries of `entry` bytes from `offset` lie within the file.
bool table_within(uint64_t offset, uint64_t count, uint64_t entry, uint64_t size) {
  return count <= size / entry && within(offset, count * entry, size);
}

template <class T>
T read_at(const std::string& bytes, uint64_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof value);
  return value;
}

class Refusal {
 public:
  Refusal(const std::string& path, uint64_t size) : path_(path), size_(size) {}
  [[noreturn]] void damaged(const std::string& what) const {
    throw PluginError(path_ + ": not a loadable shared library: " + what);
  }
  // A table or contents that end beyond the end of the file: the usual trace of a half-written file.
  [[noreturn]] void truncated(const std::string& what, uint64_t end) const {
    damaged("truncated or damaged ELF file: " + what + " ends at byte " + std::to_string(end) + " but the file has " +
            std::to_string(size_) + " bytes (a half-written or cut-off file? rebuild or copy it again)");
  }

 private:
  const std::string& path_;
  uint64_t size_;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw PluginError(path + ": cannot open the plugin file to read it");
  const std::streamoff size = in.tellg();
  if (size < 0) throw PluginError(path + ": cannot read the plugin file");
  if (static_cast<uint64_t>(size) > kMaxPluginBytes) {
    throw PluginError(path + ": " + std::to_string(size) + " bytes is too large to be a strategy plugin");
  }
  std::string bytes(static_cast<std::size_t>(size), '\0');
  in.seekg(0);
  in.read(bytes.data(), size);
  if (in.gcount() != size) throw PluginError(path + ": cannot read the plugin file (it changed while being read?)");
  return bytes;
}

}  // namespace

ElfFile ElfFile::read(const std::string& path) {
  ElfFile elf;
  elf.bytes_ = read_file(path);
  const std::string& bytes = elf.bytes_;
  const uint64_t size = bytes.size();
  const Refusal refuse(path, size);

  if (size < SELFMAG || std::memcmp(bytes.data(), ELFMAG, SELFMAG) != 0) {
    throw PluginError(path + ": not a shared library (no ELF header)");
  }
  if (size < EI_NIDENT) refuse.truncated("the ELF identification", EI_NIDENT);
  if (bytes[EI_CLASS] != ELFCLASS64) refuse.damaged("not a 64-bit ELF file (built for another architecture?)");
  if (bytes[EI_DATA] != kHostData) refuse.damaged("ELF byte order differs from this machine's");
  if (size < sizeof(Elf64_Ehdr)) refuse.truncated("the ELF header", sizeof(Elf64_Ehdr));
  const auto header = read_at<Elf64_Ehdr>(bytes, 0);
  if (header.e_version != EV_CURRENT) refuse.damaged("unknown ELF version " + std::to_string(header.e_version));
  if (header.e_type != ET_DYN) {
    refuse.damaged("ELF type " + std::to_string(header.e_type) + " is not a shared object (ET_DYN)");
  }
  if (kHostMachine && header.e_machine != *kHostMachine) {
    refuse.damaged("built for machine " + std::to_string(header.e_machine) + ", this harness runs on " +
                   std::to_string(*kHostMachine) + " (see <elf.h> EM_*)");
  }

  // Program headers and the segments dlopen maps.
  if (header.e_phnum == 0) refuse.damaged("no program headers, nothing to load");
  if (header.e_phentsize != sizeof(Elf64_Phdr)) {
    refuse.damaged("program header entries of " + std::to_string(header.e_phentsize) + " bytes, expected " +
                   std::to_string(sizeof(Elf64_Phdr)));
  }
  if (!table_within(header.e_phoff, header.e_phnum, sizeof(Elf64_Phdr), size)) {
    refuse.truncated("the program header table", header.e_phoff + uint64_t{header.e_phnum} * sizeof(Elf64_Phdr));
  }
  bool has_load = false;
  for (uint16_t i = 0; i < header.e_phnum; ++i) {
    const auto segment = read_at<Elf64_Phdr>(bytes, header.e_phoff + uint64_t{i} * sizeof(Elf64_Phdr));
    if (!within(segment.p_offset, segment.p_filesz, size)) {
      refuse.truncated("segment " + std::to_string(i) + " (type " + std::to_string(segment.p_type) + ")",
                       segment.p_offset + segment.p_filesz);
    }
    if (segment.p_type == PT_LOAD) {
      has_load = true;
      if (segment.p_filesz > segment.p_memsz) {
        refuse.damaged("loadable segment " + std::to_string(i) + " has more file bytes than memory bytes");
      }
    }
  }
  if (!has_load) refuse.damaged("no loadable segment");

  // Section headers: where the dynamic symbols and the ABI tag's bytes are found.
  if (header.e_shnum == 0 || header.e_shoff == 0) refuse.damaged("no section headers (the ABI tag cannot be read)");
  if (header.e_shentsize != sizeof(Elf64_Shdr)) {
    refuse.damaged("section header entries of " + std::to_string(header.e_shentsize) + " bytes, expected " +
                   std::to_string(sizeof(Elf64_Shdr)));
  }
  if (!table_within(header.e_shoff, header.e_shnum, sizeof(Elf64_Shdr), size)) {
    refuse.truncated("the section header table", header.e_shoff + uint64_t{header.e_shnum} * sizeof(Elf64_Shdr));
  }
  std::vector<Elf64_Shdr> shdrs;
  for (uint16_t i = 0; i < header.e_shnum; ++i) {
    const auto s = read_at<Elf64_Shdr>(bytes, header.e_shoff + uint64_t{i} * sizeof(Elf64_Shdr));
    if (s.sh_type != SHT_NOBITS && s.sh_type != SHT_NULL && !within(s.sh_offset, s.sh_size, size)) {
      refuse.truncated("section " + std::to_string(i), s.sh_offset + s.sh_size);
    }
    shdrs.push_back(s);
    elf.sections_.push_back({s.sh_type, s.sh_addr, s.sh_offset, s.sh_size});
  }

  for (const Elf64_Shdr& s : shdrs) {
    if (s.sh_type != SHT_DYNSYM) continue;
    if (s.sh_entsize != sizeof(Elf64_Sym)) refuse.damaged("dynamic symbol table with entries of the wrong size");
    if (s.sh_link >= shdrs.size() || shdrs[s.sh_link].sh_type != SHT_STRTAB) {
      refuse.damaged("dynamic symbol table without its string table");
    }
    const Elf64_Shdr& strings = shdrs[s.sh_link];
    for (uint64_t k = 0; k < s.sh_size / sizeof(Elf64_Sym); ++k) {
      const auto sym = read_at<Elf64_Sym>(bytes, s.sh_offset + k * sizeof(Elf64_Sym));
      if (sym.st_name >= strings.sh_size) refuse.damaged("a dynamic symbol name outside its string table");
      const char* name = bytes.data() + strings.sh_offset + sym.st_name;
      const std::size_t max_length = strings.sh_size - sym.st_name;
      const std::size_t length = strnlen(name, max_length);
      if (length == max_length) refuse.damaged("a dynamic symbol name that is not NUL-terminated");
      const bool defined = sym.st_shndx != SHN_UNDEF && sym.st_shndx < shdrs.size();
      elf.dynamic_symbols_.push_back(
          {std::string(name, length), static_cast<uint16_t>(defined ? sym.st_shndx : 0), sym.st_value, sym.st_size});
    }
  }
  if (elf.dynamic_symbols_.empty()) refuse.damaged("no dynamic symbol table, so it exports nothing");
  return elf;
}

const ElfFile::Symbol* ElfFile::find(const std::string& name) const {
  for (const Symbol& symbol : dynamic_symbols_) {
    if (symbol.section != 0 && symbol.name == name) return &symbol;
  }
  return nullptr;
}

bool ElfFile::exports(const std::string& name) const { return find(name) != nullptr; }

std::optional<std::string_view> ElfFile::symbol_bytes(const std::string& name) const {
  const Symbol* symbol = find(name);
  if (!symbol) return std::nullopt;
  const Section& section = sections_.at(symbol->section);
  if (section.type == SHT_NOBITS || symbol->value < section.address ||
      !within(symbol->value - section.address, symbol->size, section.size)) {
    return std::nullopt;
  }
  return std::string_view(bytes_.data() + section.offset + (symbol->value - section.address), symbol->size);
}

}  // namespace harness

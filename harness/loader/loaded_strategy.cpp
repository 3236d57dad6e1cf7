// Loading one strategy plugin: file checks, ABI tag, factory, contract checks.
#include "harness/loader/loaded_strategy.h"

#include "harness/errors.h"
#include "harness/loader/strategy_params.h"

#include <boost/dll/shared_library.hpp>
#include <boost/filesystem.hpp>
#include <boost/uuid/detail/sha1.hpp>

#include <dlfcn.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>

namespace harness {
namespace {

namespace fs = boost::filesystem;

constexpr std::size_t kMaxTagLength = 512;  // a real tag is ~100 chars; guards reading a non-string symbol

// Printable rendering of a foreign tag, bounded, so a garbage symbol cannot flood the message.
std::string read_tag(const char* tag) {
  std::string out;
  for (std::size_t i = 0; i < kMaxTagLength && tag[i] != '\0'; ++i) {
    const unsigned char c = static_cast<unsigned char>(tag[i]);
    if (c >= 32 && c < 127) {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

bool has_elf_magic(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  std::array<char, 4> magic{};
  in.read(magic.data(), magic.size());
  return in.gcount() == 4 && magic[0] == 0x7f && magic[1] == 'E' && magic[2] == 'L' && magic[3] == 'F';
}

std::string file_stem(const std::string& file) {
  return fs::path(file).stem().string();
}

}  // namespace

std::string host_abi_tag() { return HARNESS_SDK_ABI_TAG; }

namespace {

std::string hex_digest(boost::uuids::detail::sha1& sha) {
  boost::uuids::detail::sha1::digest_type digest;
  sha.get_digest(digest);
  char out[41];
  for (int i = 0; i < 5; ++i) std::snprintf(out + 8 * i, 9, "%08x", static_cast<unsigned>(digest[i]));
  return std::string(out, 40);
}

}  // namespace

std::string sha1_hex(const std::string& text) {
  boost::uuids::detail::sha1 sha;
  sha.process_bytes(text.data(), text.size());
  return hex_digest(sha);
}

std::string sha1_file(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw PluginError(file + ": cannot read the file to hash it");
  boost::uuids::detail::sha1 sha;
  std::array<char, 1 << 16> buf{};
  while (in) {
    in.read(buf.data(), buf.size());
    if (in.gcount() > 0) sha.process_bytes(buf.data(), static_cast<std::size_t>(in.gcount()));
  }
  return hex_digest(sha);
}

std::unique_ptr<LoadedStrategy> LoadedStrategy::load(const std::string& file) {
  boost::system::error_code fs_ec;
  const fs::path canonical = fs::canonical(fs::path(file), fs_ec);
  if (fs_ec) throw PluginError(file + ": plugin file not found (" + fs_ec.message() + ")");
  if (!fs::is_regular_file(canonical)) throw PluginError(file + ": not a regular file, expected a strategy .so");
  const std::string path = canonical.string();
  if (!has_elf_magic(path)) throw PluginError(path + ": not a shared library (no ELF header)");

  // A private instance so the half-built object never escapes; on any throw below
  // its unique_ptr and then the library are released.
  std::unique_ptr<LoadedStrategy> loaded(new LoadedStrategy());
  loaded->file_ = path;
  loaded->file_hash_ = sha1_file(path);

  boost::dll::fs::error_code ec;
  ::dlerror();  // clear, so the reason read below is this load's
  auto library = std::make_shared<boost::dll::shared_library>(
      canonical, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, ec);
  if (ec || !library->is_loaded()) {
    const char* reason = ::dlerror();
    throw PluginError(path + ": not a loadable shared library: " + (reason ? reason : ec.message()));
  }

  for (const char* symbol : {HARNESS_STRATEGY_ABI_SYMBOL, HARNESS_STRATEGY_FACTORY_SYMBOL}) {
    if (!library->has(symbol)) {
      throw PluginError(path + ": missing symbol '" + symbol +
                        "' (is it a strategy plugin? export the class with HARNESS_EXPORT_STRATEGY)");
    }
  }
  // Data, not code: comparing it runs nothing from the plugin.
  const std::string tag = read_tag(&library->get<const char>(HARNESS_STRATEGY_ABI_SYMBOL));
  if (tag != host_abi_tag()) {
    throw PluginError(path + ": ABI mismatch, plugin was built for '" + tag + "' but this harness is '" +
                      host_abi_tag() + "'; rebuild the plugin against this harness");
  }

  using Factory = sdk::Strategy*();
  auto& factory = library->get<Factory>(HARNESS_STRATEGY_FACTORY_SYMBOL);
  // Copy the plugin's message while its library is certainly loaded, then throw ours.
  std::optional<std::string> failure;
  try {
    loaded->strategy_.reset(factory());
  } catch (const std::exception& e) {
    failure = e.what();
  } catch (...) {
    failure = "unknown exception";
  }
  if (failure) throw PluginError(path + ": " + HARNESS_STRATEGY_FACTORY_SYMBOL + "() threw: " + *failure);
  if (!loaded->strategy_) throw PluginError(path + ": " + HARNESS_STRATEGY_FACTORY_SYMBOL + "() returned null");
  loaded->library_ = std::move(library);

  try {
    loaded->name_ = loaded->strategy_->name();
    loaded->version_ = loaded->strategy_->version();
    loaded->description_ = loaded->strategy_->description();
  } catch (const std::exception& e) {
    failure = e.what();
  }
  if (failure) throw PluginError(path + ": name()/version()/description() threw: " + *failure);
  if (loaded->name_ != file_stem(path)) {
    throw PluginError(path + ": strategy name '" + loaded->name_ + "' does not match the file name '" +
                      file_stem(path) + "' (a plugin is named after its file)");
  }
  try {
    check_parameter_specs(loaded->strategy_->parameters());
  } catch (const Error& e) {
    failure = e.what();
  }
  if (failure) throw PluginError(path + ": bad parameter declaration: " + *failure);
  return loaded;
}

LoadedStrategy::~LoadedStrategy() = default;

std::shared_ptr<sdk::Head> LoadedStrategy::make_head(const sdk::HeadSpec& spec, const sdk::Params& params) const {
  std::shared_ptr<sdk::Head> head;
  std::optional<std::string> failure;
  try {
    head = strategy_->make_head(spec, params);
  } catch (const std::exception& e) {
    failure = e.what();
  }
  if (failure) throw PluginError("strategy '" + name_ + "' (" + file_ + ") make_head failed: " + *failure);
  if (!head) throw PluginError("strategy '" + name_ + "' (" + file_ + ") make_head returned null");
  // The head's code, vtable and control block live in the plugin: the returned
  // pointer holds the library until the head itself is gone.
  sdk::Head* raw = head.get();
  return std::shared_ptr<sdk::Head>(raw, [head = std::move(head), library = library_](sdk::Head*) mutable {
    head.reset();
    library.reset();
  });
}

}  // namespace harness

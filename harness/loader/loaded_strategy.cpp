// Loading one strategy plugin: file checks, ABI tag, factory, contract checks.
#include "harness/loader/loaded_strategy.h"

#include "harness/errors.h"
#include "harness/loader/elf_file.h"
#include "harness/loader/strategy_params.h"

#include <boost/dll/shared_library.hpp>
#include <boost/filesystem.hpp>
#include <boost/uuid/detail/sha1.hpp>

#include <dlfcn.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <string_view>

namespace harness {
namespace {

namespace fs = boost::filesystem;

constexpr std::size_t kMaxTagLength = 512;  // a real tag is ~100 chars; guards reading a non-string symbol

// Printable rendering of a foreign tag (up to its NUL), bounded, so a garbage symbol cannot flood the message.
std::string printable_tag(std::string_view bytes) {
  std::string out;
  for (std::size_t i = 0; i < std::min(bytes.size(), kMaxTagLength) && bytes[i] != '\0'; ++i) {
    const unsigned char c = static_cast<unsigned char>(bytes[i]);
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

// Runs plugin code. Whatever it throws, std::exception or not, is caught here, its message
// copied while the library is certainly loaded, and rethrown as a PluginError naming
// `where` (the file or the strategy) and `call`.
template <class F>
auto call_plugin(const std::string& where, const std::string& call, F&& f) -> decltype(f()) {
  std::string failure;
  try {
    return f();
  } catch (const std::exception& e) {
    failure = e.what();
  } catch (...) {
    failure = "an exception that is not a std::exception";
  }
  throw PluginError(where + ": " + call + " threw: " + failure);
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

  // Everything up to the ABI comparison reads the file; dlopen would already run the
  // plugin's static constructors, and map a truncated file into a SIGBUS.
  const ElfFile elf = ElfFile::read(path);
  for (const char* symbol : {HARNESS_STRATEGY_ABI_SYMBOL, HARNESS_STRATEGY_FACTORY_SYMBOL}) {
    if (!elf.exports(symbol)) {
      throw PluginError(path + ": missing symbol '" + symbol +
                        "' (is it a strategy plugin? export the class with HARNESS_EXPORT_STRATEGY)");
    }
  }
  const std::optional<std::string_view> tag_bytes = elf.symbol_bytes(HARNESS_STRATEGY_ABI_SYMBOL);
  if (!tag_bytes) {
    throw PluginError(path + ": symbol '" HARNESS_STRATEGY_ABI_SYMBOL
                      "' has no bytes in the file (not a constant char array; export it with HARNESS_EXPORT_STRATEGY)");
  }
  const std::string tag = printable_tag(*tag_bytes);
  if (tag != host_abi_tag()) {
    throw PluginError(path + ": ABI mismatch, plugin was built for '" + tag + "' but this harness is '" +
                      host_abi_tag() + "'; rebuild the plugin against this harness");
  }

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
  if (!library->has(HARNESS_STRATEGY_FACTORY_SYMBOL)) {
    throw PluginError(path + ": missing symbol '" HARNESS_STRATEGY_FACTORY_SYMBOL "' once loaded");
  }

  using Factory = sdk::Strategy*();
  auto& factory = library->get<Factory>(HARNESS_STRATEGY_FACTORY_SYMBOL);
  loaded->strategy_.reset(call_plugin(path, HARNESS_STRATEGY_FACTORY_SYMBOL "()", [&] { return factory(); }));
  if (!loaded->strategy_) throw PluginError(path + ": " + HARNESS_STRATEGY_FACTORY_SYMBOL + "() returned null");
  loaded->library_ = std::move(library);

  const sdk::Strategy& strategy = *loaded->strategy_;
  loaded->name_ = call_plugin(path, "name()", [&] { return strategy.name(); });
  loaded->version_ = call_plugin(path, "version()", [&] { return strategy.version(); });
  loaded->description_ = call_plugin(path, "description()", [&] { return strategy.description(); });
  if (loaded->name_ != file_stem(path)) {
    throw PluginError(path + ": strategy name '" + loaded->name_ + "' does not match the file name '" +
                      file_stem(path) + "' (a plugin is named after its file)");
  }
  loaded->parameters_ = call_plugin(path, "parameters()", [&] { return strategy.parameters(); });
  try {
    check_parameter_specs(loaded->parameters_);
  } catch (const Error& e) {
    throw PluginError(path + ": bad parameter declaration: " + e.what());
  }
  return loaded;
}

LoadedStrategy::~LoadedStrategy() = default;

std::unique_ptr<LoadedStrategy> LoadedStrategy::borrow(const sdk::Strategy& strategy) {
  std::unique_ptr<LoadedStrategy> loaded(new LoadedStrategy());
  loaded->strategy_ = std::shared_ptr<const sdk::Strategy>(&strategy, [](const sdk::Strategy*) {});
  loaded->file_ = "(in process)";
  loaded->name_ = call_plugin(loaded->file_, "name()", [&] { return strategy.name(); });
  loaded->version_ = call_plugin(loaded->file_, "version()", [&] { return strategy.version(); });
  loaded->description_ = call_plugin(loaded->file_, "description()", [&] { return strategy.description(); });
  loaded->parameters_ = call_plugin(loaded->file_, "parameters()", [&] { return strategy.parameters(); });
  return loaded;
}

std::shared_ptr<sdk::Head> LoadedStrategy::make_head(const sdk::HeadSpec& spec, const sdk::Params& params) const {
  const std::string where = this->where();
  std::shared_ptr<sdk::Head> head = call_plugin(where, "make_head", [&] { return strategy_->make_head(spec, params); });
  if (!head) throw PluginError(where + " make_head returned null");
  // The head's code, vtable and control block live in the plugin: the returned
  // pointer holds the library until the head itself is gone.
  sdk::Head* raw = head.get();
  return std::shared_ptr<sdk::Head>(raw, [head = std::move(head), library = library_](sdk::Head*) mutable {
    head.reset();
    library.reset();
  });
}

sdk::StepPlan LoadedStrategy::plan(const sdk::StepContext& context, const sdk::Params& params) const {
  return call_plugin(where(), "plan", [&] { return strategy_->plan(context, params); });
}

std::map<std::string, torch::Tensor> LoadedStrategy::loss_terms(const sdk::LossInputs& inputs,
                                                                const sdk::Params& params) const {
  return call_plugin(where(), "loss_terms", [&] { return strategy_->loss_terms(inputs, params); });
}

std::map<std::string, std::string> LoadedStrategy::required_settings(const sdk::Params& params) const {
  return call_plugin(where(), "required_settings", [&] { return strategy_->required_settings(params); });
}

}  // namespace harness

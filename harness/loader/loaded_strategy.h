// One strategy plugin loaded from its shared library, checked and instantiated.
#pragma once

#include <harness/strategy.h>

#include <memory>
#include <string>
#include <vector>

namespace boost::dll {
class shared_library;
}

namespace harness {

// The ABI tag this host was compiled with; a plugin's must be identical.
std::string host_abi_tag();

// Owns a plugin library and the Strategy its factory created. The members are
// declared so the Strategy dies before the library that holds its code. Heads
// come from make_head(), whose pointer keeps the library alive as well.
class LoadedStrategy {
 public:
  // Checks `file` as ELF (ElfFile: a truncated or foreign file is refused instead of
  // crashing dlopen), reads its exported symbols and ABI tag from the file and compares
  // the tag, all before dlopen runs any of its code (static constructors included);
  // then loads it, calls the factory and reads name, version, description and
  // parameters once. Throws PluginError naming the file and the reason (not a shared
  // library, damaged file, missing symbol, ABI mismatch, a plugin call that threw
  // anything at all, name/parameters that break the contract); nothing stays loaded
  // on failure.
  static std::unique_ptr<LoadedStrategy> load(const std::string& file);
  // Wraps a strategy compiled into the host (tests, benches): the same guarded calls, no
  // library. `strategy` must outlive the result.
  static std::unique_ptr<LoadedStrategy> borrow(const sdk::Strategy& strategy);

  ~LoadedStrategy();
  LoadedStrategy(const LoadedStrategy&) = delete;
  LoadedStrategy& operator=(const LoadedStrategy&) = delete;

  const sdk::Strategy& strategy() const { return *strategy_; }
  // "strategy 'NAME' (FILE)": how messages name it.
  std::string where() const { return "strategy '" + name_ + "' (" + file_ + ")"; }
  // The plugin's make_head; the returned pointer also owns a reference to the
  // library, so a head can safely outlive this object and the registry.
  // A plugin exception of any type is rethrown as PluginError naming the plugin.
  std::shared_ptr<sdk::Head> make_head(const sdk::HeadSpec& spec, const sdk::Params& params) const;
  // The plugin's other hooks; exceptions as for make_head.
  sdk::StepPlan plan(const sdk::StepContext& context, const sdk::Params& params) const;
  std::map<std::string, torch::Tensor> loss_terms(const sdk::LossInputs& inputs, const sdk::Params& params) const;
  std::map<std::string, std::string> required_settings(const sdk::Params& params) const;
  // The plugin's parameters(), as read (and checked) once by load().
  const std::vector<sdk::ParamSpec>& parameters() const { return parameters_; }

  const std::string& name() const { return name_; }
  const std::string& version() const { return version_; }
  const std::string& description() const { return description_; }
  const std::string& file() const { return file_; }        // absolute, canonical path
  const std::string& file_hash() const { return file_hash_; }  // SHA-1 of the file, 40 hex digits

 private:
  LoadedStrategy() = default;

  std::shared_ptr<boost::dll::shared_library> library_;  // declared first: destroyed last
  std::shared_ptr<const sdk::Strategy> strategy_;  // owned, or borrowed (no-op deleter)
  std::string name_;
  std::string version_;
  std::string description_;
  std::vector<sdk::ParamSpec> parameters_;
  std::string file_;
  std::string file_hash_;
};

// SHA-1 of a file's bytes as 40 lowercase hex digits; throws PluginError if unreadable.
std::string sha1_file(const std::string& file);
// SHA-1 of a text, 40 hex digits.
std::string sha1_hex(const std::string& text);

}  // namespace harness

// The strategies this run can use: discovered from folders and files, owned by main.
#pragma once

#include "harness/loader/loaded_strategy.h"
#include "harness/loader/strategy_params.h"

#include <iosfwd>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace harness {

// A plugin file that was found but refused. Its name is the file's stem (a plugin is
// named after its file); the reason names the file.
struct BrokenPlugin {
  std::string name;
  std::string file;
  std::string reason;
};

// Owns every loaded plugin, by name. No globals, no static registration: main
// builds one (usually with discover()) and passes it down. Movable, not copyable.
class StrategyRegistry {
 public:
  StrategyRegistry() = default;

  // Scans each entry of `paths` in order: a folder contributes every *.so in it
  // (sorted by file name), a file is loaded as a plugin. Plugins that are refused
  // (and paths that do not exist) do not stop the scan: each is recorded in
  // problems() with the file and the reason, a refused plugin file also in broken(),
  // so that only a command that uses it fails. The same file reached twice is loaded once.
  static StrategyRegistry discover(const std::vector<std::string>& paths);

  // Loads one plugin file and adds it. Throws PluginError when the plugin is
  // refused (see LoadedStrategy::load) or another file already supplied its name;
  // the registry is unchanged then.
  const LoadedStrategy& add_file(const std::string& file);
  // Adds every *.so of `dir`; refusals go to problems() and broken(). Returns how many were added.
  std::size_t add_directory(const std::string& dir);

  // Throws PluginError for a broken plugin (with its reason) or an unknown name (listing
  // the known names and any refused plugins).
  const LoadedStrategy& get(const std::string& name) const;
  const LoadedStrategy* find(const std::string& name) const;  // nullptr if unknown
  std::vector<std::string> names() const;                     // sorted
  std::size_t size() const { return by_name_.size(); }
  const std::vector<std::string>& problems() const { return problems_; }
  const std::vector<BrokenPlugin>& broken() const { return broken_; }  // in the order found

 private:
  // add_file, with a refusal recorded instead of thrown.
  void add_file_or_record(const std::string& file);

  std::map<std::string, std::unique_ptr<LoadedStrategy>> by_name_;
  std::vector<std::string> problems_;
  std::vector<BrokenPlugin> broken_;
};

// `harness strategies list`: one line per plugin: name, version, description, file; then
// each broken plugin: name, BROKEN, the reason.
void print_strategy_list(const StrategyRegistry& registry, std::ostream& out);
// `harness strategies show NAME`: header lines, then each parameter with type, default, bounds, help.
void print_strategy_show(const LoadedStrategy& strategy, std::ostream& out);

}  // namespace harness

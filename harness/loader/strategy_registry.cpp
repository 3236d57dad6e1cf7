// Plugin discovery and lookup by name (see strategy_registry.h).
#include "harness/loader/strategy_registry.h"

#include "harness/errors.h"

#include <boost/filesystem.hpp>

#include <algorithm>

namespace harness {

namespace fs = boost::filesystem;

StrategyRegistry StrategyRegistry::discover(const std::vector<std::string>& paths) {
  StrategyRegistry registry;
  for (const std::string& path : paths) {
    boost::system::error_code ec;
    if (fs::is_directory(path, ec)) {
      registry.add_directory(path);
    } else if (fs::exists(path, ec)) {
      try {
        registry.add_file(path);
      } catch (const PluginError& e) {
        registry.problems_.push_back(e.what());
      }
    } else {
      registry.problems_.push_back(path + ": plugin folder or file not found");
    }
  }
  return registry;
}

const LoadedStrategy& StrategyRegistry::add_file(const std::string& file) {
  boost::system::error_code ec;
  const std::string canonical = fs::canonical(file, ec).string();
  if (!ec) {
    for (const auto& [name, loaded] : by_name_) {
      if (loaded->file() == canonical) return *loaded;  // reached again through another path
    }
  }
  std::unique_ptr<LoadedStrategy> loaded = LoadedStrategy::load(file);
  if (const LoadedStrategy* existing = find(loaded->name())) {
    throw PluginError(loaded->file() + ": a strategy named '" + loaded->name() + "' is already loaded from " +
                      existing->file() + "; plugin names must be unique");
  }
  const std::string name = loaded->name();
  return *(by_name_[name] = std::move(loaded));
}

std::size_t StrategyRegistry::add_directory(const std::string& dir) {
  std::vector<fs::path> files;
  boost::system::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() == ".so") files.push_back(it->path());
  }
  if (ec) {
    problems_.push_back(dir + ": cannot list the plugin folder (" + ec.message() + ")");
    return 0;
  }
  std::sort(files.begin(), files.end());
  std::size_t added = 0;
  for (const fs::path& file : files) {
    const std::size_t before = size();
    try {
      add_file(file.string());
    } catch (const PluginError& e) {
      problems_.push_back(e.what());
    }
    added += size() - before;
  }
  return added;
}

const LoadedStrategy* StrategyRegistry::find(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second.get();
}

const LoadedStrategy& StrategyRegistry::get(const std::string& name) const {
  if (const LoadedStrategy* loaded = find(name)) return *loaded;
  std::string message = "unknown strategy '" + name + "'; known: ";
  const auto known = names();
  if (known.empty()) message += "none (no plugin found; build them or pass --plugin-path)";
  for (std::size_t i = 0; i < known.size(); ++i) message += (i ? ", " : "") + known[i];
  if (!problems_.empty()) {
    message += "; refused plugins:";
    for (const auto& p : problems_) message += "\n  " + p;
  }
  throw PluginError(message);
}

std::vector<std::string> StrategyRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& entry : by_name_) out.push_back(entry.first);
  return out;
}

}  // namespace harness

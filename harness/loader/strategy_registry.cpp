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
      registry.add_file_or_record(path);
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
    add_file_or_record(file.string());
    added += size() - before;
  }
  return added;
}

void StrategyRegistry::add_file_or_record(const std::string& file) {
  std::string reason;
  try {
    add_file(file);
    return;
  } catch (const PluginError& e) {
    reason = e.what();
  } catch (const std::exception& e) {  // not the plugin's (its calls are wrapped): e.g. out of memory reading it
    reason = file + ": " + e.what();
  }
  problems_.push_back(reason);
  boost::system::error_code ec;
  const fs::path canonical = fs::canonical(file, ec);
  broken_.push_back({fs::path(file).stem().string(), ec ? file : canonical.string(), reason});
}

const LoadedStrategy* StrategyRegistry::find(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second.get();
}

const LoadedStrategy& StrategyRegistry::get(const std::string& name) const {
  if (const LoadedStrategy* loaded = find(name)) return *loaded;
  for (const BrokenPlugin& b : broken_) {
    if (b.name == name) {
      throw PluginError("strategy '" + name + "' cannot be used, its plugin was refused: " + b.reason);
    }
  }
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

// `harness strategies list|show NAME`: what plugins are there and what they take.
#include "harness/commands.h"
#include "harness/errors.h"
#include "harness/loader/strategy_registry.h"

#include <boost/program_options.hpp>

#include <cstdlib>
#include <iostream>
#include <sstream>

namespace po = boost::program_options;

namespace harness {

std::vector<std::string> plugin_search_path(const std::vector<std::string>& cli_paths) {
  std::vector<std::string> dirs;
  if (const char* dir = std::getenv("HARNESS_STRATEGY_DIR")) {
    dirs.emplace_back(dir);
  } else {
    dirs.emplace_back(HARNESS_DEFAULT_STRATEGY_DIR);
  }
  if (const char* env = std::getenv("HARNESS_PLUGIN_PATH")) {
    std::stringstream ss(env);
    std::string item;
    while (std::getline(ss, item, ':')) {
      if (!item.empty()) dirs.push_back(item);
    }
  }
  dirs.insert(dirs.end(), cli_paths.begin(), cli_paths.end());
  return dirs;
}

int cmd_strategies(const Args& args) {
  po::options_description desc(
      "harness strategies list | show NAME [options]\n\nPlugins are searched in the build's strategies folder, "
      "in HARNESS_PLUGIN_PATH (colon-separated) and in --plugin-path (folders or .so files).\n\noptions");
  desc.add_options()("help,h", "show this help")(
      "plugin-path", po::value<std::vector<std::string>>()->composing(), "folder or plugin file (repeatable)");
  po::options_description hidden;
  hidden.add_options()("action", po::value<std::string>())("name", po::value<std::string>());
  po::options_description all;
  all.add(desc).add(hidden);
  po::positional_options_description pos;
  pos.add("action", 1).add("name", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
  po::notify(vm);
  const std::string action = vm.count("action") ? vm["action"].as<std::string>() : "list";
  if (vm.count("help")) {
    std::cout << desc;
    return kExitOk;
  }
  const auto cli_paths = vm.count("plugin-path") ? vm["plugin-path"].as<std::vector<std::string>>()
                                                  : std::vector<std::string>{};
  StrategyRegistry registry = StrategyRegistry::discover(plugin_search_path(cli_paths));
  for (const std::string& problem : registry.problems()) std::cerr << "warning: " << problem << "\n";
  if (action == "list") {
    print_strategy_list(registry, std::cout);
    return kExitOk;
  }
  if (action == "show") {
    if (!vm.count("name")) throw ConfigError("strategies show: which strategy? (harness strategies show NAME)");
    print_strategy_show(registry.get(vm["name"].as<std::string>()), std::cout);
    return kExitOk;
  }
  throw ConfigError("strategies: unknown action '" + action + "' (expected list or show)");
}

}  // namespace harness

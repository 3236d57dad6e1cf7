// `harness run EXPERIMENT.ini`: paired, seeded fine-tuning trials into SQLite.
#include "harness/cli_options.h"
#include "harness/commands.h"
#include "harness/config.h"
#include "harness/errors.h"
#include "harness/loader/strategy_registry.h"
#include "harness/runner.h"

#include <boost/program_options.hpp>

#include <iostream>

namespace po = boost::program_options;

namespace harness {
namespace {

// Short aliases for the keys people change most, mapped onto their section keys.
const std::pair<const char*, const char*> kAliases[] = {
    {"db", "experiment.db"},           {"seeds", "experiment.seeds"},   {"device", "experiment.device"},
    {"strategies", "experiment.strategies"}, {"steps", "train.steps"}, {"name", "experiment.name"},
};

}  // namespace

int cmd_run(const Args& args) {
  RunOptions options;
  po::options_description general(
      "harness run EXPERIMENT.ini [options]\n\nRuns every (strategy, seed) trial of the experiment that is not "
      "done yet and records every step in the database. Finished trials are kept; an interrupted one restarts "
      "from its first step. Every experiment-file key can be set here as --section.key VALUE (the command line "
      "wins).\n\noptions");
  general.add_options()("help,h", "show this help")(
      "workers", po::value<int>(&options.workers)->default_value(1), "worker processes sharing the database")(
      "threads", po::value<int>(&options.threads)->default_value(0), "CPU threads per worker (0 = cores / workers)")(
      "flush-seconds", po::value<double>(&options.flush_seconds)->default_value(2.0),
      "longest time recorded steps wait in memory before they are written (queries see a running trial)")(
      "plugin-path", po::value<std::vector<std::string>>()->composing(), "folder or plugin file (repeatable)")(
      "db", po::value<std::string>(), "= --experiment.db")("seeds", po::value<std::string>(), "= --experiment.seeds")(
      "device", po::value<std::string>(), "= --experiment.device")(
      "strategies", po::value<std::string>(), "= --experiment.strategies")(
      "steps", po::value<std::string>(), "= --train.steps")("name", po::value<std::string>(), "= --experiment.name");
  general.add_options()("shard", po::value<std::string>()->value_name("I/N"),
                        "run only shard I of N (0 <= I < N): a balanced block of the trials, for one machine of a "
                        "cluster; give each shard its own --db and combine them with `harness merge`");
  po::options_description keys("experiment keys");
  add_experiment_options(keys);
  po::options_description hidden;
  hidden.add_options()("experiment-file", po::value<std::string>())("worker", "internal: run as a worker process");
  po::options_description all;
  all.add(general).add(keys).add(hidden);
  po::positional_options_description pos;
  pos.add("experiment-file", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << general << "\n" << keys;
    return kExitOk;
  }
  for (const auto& [alias, key] : kAliases) {
    if (vm.count(alias)) {
      if (vm.count(key)) throw ConfigError(std::string("--") + alias + " and --" + key + " both given");
      vm.insert({key, vm[alias]});
    }
  }
  if (options.workers < 1) throw ConfigError("--workers must be at least 1");
  check_threads_option(options.threads);
  if (!(options.flush_seconds >= 0)) throw ConfigError("--flush-seconds must be >= 0");
  const std::string file = vm.count("experiment-file") ? vm["experiment-file"].as<std::string>() : "";
  const ExperimentConfig config = load_experiment(vm, file);
  if (vm.count("shard")) options.shard = parse_shard(vm["shard"].as<std::string>());

  const auto cli_paths = vm.count("plugin-path") ? vm["plugin-path"].as<std::vector<std::string>>()
                                                  : std::vector<std::string>{};
  StrategyRegistry registry = StrategyRegistry::discover(plugin_search_path(cli_paths));
  options.is_worker = vm.count("worker") > 0;
  options.worker_argv = {"harness", "run"};
  // A worker reruns this command with its own thread count and without --workers.
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--workers" || a == "--threads") {
      ++i;
      continue;
    }
    if (a.rfind("--workers=", 0) == 0 || a.rfind("--threads=", 0) == 0) continue;
    options.worker_argv.push_back(a);
  }
  return run_experiment(config, registry, options);
}

}  // namespace harness

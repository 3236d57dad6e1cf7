// `harness status --db FILE`: trials per strategy pending / running / done / failed, the latest
// step of each running trial, the rate and the time left. Read-only: safe beside a running study.
#include "db/status.h"
#include "harness/commands.h"

#include <boost/program_options.hpp>

#include <iostream>

namespace po = boost::program_options;

namespace harness {

int cmd_status(const Args& args) {
  po::options_description desc("harness status --db FILE [--experiment NAME]\n\nShows a running or finished study "
                               "at a glance, from its database (opened read-only).\n\noptions");
  desc.add_options()("help,h", "show this help")(
      "db", po::value<std::string>()->default_value("results/results.db"), "results database")(
      "experiment", po::value<std::string>()->default_value(""), "one experiment (default: every one)");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).run(), vm);
  if (vm.count("help")) {
    std::cout << desc;
    return kExitOk;
  }
  po::notify(vm);
  const db::Database database = db::Database::open(vm["db"].as<std::string>(), db::OpenMode::ReadOnly);
  const auto progress = db::read_progress(database, vm["experiment"].as<std::string>());
  if (progress.empty()) std::cout << vm["db"].as<std::string>() << ": no experiments recorded yet\n";
  for (const auto& p : progress) std::cout << db::format_progress(p);
  return kExitOk;
}

}  // namespace harness

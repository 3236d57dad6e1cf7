// `harness report`: the statistical comparison of an experiment's strategies.
#include "harness/cli_options.h"
#include "harness/commands.h"
#include "reports/report.h"

#include <boost/program_options.hpp>

#include <iostream>

namespace po = boost::program_options;

namespace harness {

int cmd_report(const Args& args) {
  reports::ReportOptions options;
  po::options_description desc("harness report --db FILE --experiment NAME [options]\n\nWrites report.md, "
                               "report.html, one CSV per table and the figures (PNG, SVG) into --out.\n\noptions");
  desc.add_options()("help,h", "show this help")(
      "db", po::value<std::string>(&options.db_path)->default_value("results/results.db"), "results database")(
      "experiment", po::value<std::string>(&options.experiment), "experiment name (default: the only one)")(
      "baseline", po::value<std::string>(&options.baseline)->default_value("he_base"), "baseline strategy label")(
      "out", po::value<std::string>(&options.out_dir)->default_value("results/report"), "output folder")(
      "early-steps", po::value<int>(&options.early_steps)->default_value(10),
      "steps averaged for the early-speed table (paper Table 3)")(
      "target-accuracy", po::value<double>(),
      "accuracy for the steps-to-target table (default: 90% of the baseline's final mean)")(
      "equivalence-margin", po::value<double>(),
      "percentage points: add the paired TOST of the final accuracy within +-PP of the baseline")(
      "bootstrap-seed", po::value<std::string>()->default_value("0"), "seed of the bootstrap");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).run(), vm);
  if (vm.count("help")) {
    std::cout << desc;
    return kExitOk;
  }
  po::notify(vm);
  if (vm.count("target-accuracy")) options.target_accuracy = vm["target-accuracy"].as<double>();
  if (vm.count("equivalence-margin")) options.equivalence_margin = vm["equivalence-margin"].as<double>() / 100.0;
  options.bootstrap_seed = parse_unsigned_option(vm["bootstrap-seed"].as<std::string>(), "report: --bootstrap-seed");
  const reports::ReportSummary summary = reports::write_report(options);
  std::cout << summary.describe() << std::flush;
  return kExitOk;
}

}  // namespace harness

// `harness report`: the statistical comparison of an experiment's strategies.
#include "harness/cli_options.h"
#include "harness/commands.h"
#include "harness/errors.h"
#include "reports/report.h"
#include "reports/study.h"

#include <boost/program_options.hpp>

#include <algorithm>
#include <iostream>

namespace po = boost::program_options;

namespace harness {

int cmd_report(const Args& args) {
  reports::ReportOptions options;
  std::vector<std::string> dbs, experiments, dynamics;
  std::string study_file, title, at_steps, dynamics_strategies;
  po::options_description desc(
      "harness report --db FILE --experiment NAME [options]\n"
      "harness report --study FILE | --db A --db B ... | --db FILE --experiment X --experiment Y ...\n\n"
      "Writes report.md, report.html, one CSV per table and the figures (PNG, SVG) into --out. With more\n"
      "than one experiment (a study file of 'DATABASE [EXPERIMENT]' lines, several --db, or several\n"
      "--experiment of one --db) it writes one study report: the three claims per experiment side by\n"
      "side and their aggregates across the experiments; --at-steps and --dynamics add tables of step means.\n\n"
      "options");
  desc.add_options()("help,h", "show this help")(
      "db", po::value<std::vector<std::string>>(&dbs), "results database (default results/results.db); repeatable")(
      "experiment", po::value<std::vector<std::string>>(&experiments),
      "experiment name (default: the only one); repeatable, paired with --db in order when both repeat")(
      "study", po::value<std::string>(&study_file), "study file: one 'DATABASE [EXPERIMENT]' per line")(
      "title", po::value<std::string>(&title), "study report title (default: the experiments' names)")(
      "baseline", po::value<std::string>(&options.baseline)->default_value("he_base"), "baseline strategy label")(
      "out", po::value<std::string>(&options.out_dir)->default_value("results/report"), "output folder")(
      "early-steps", po::value<int>(&options.early_steps)->default_value(10),
      "steps averaged for the early-speed table (paper Table 3)")(
      "target-accuracy", po::value<double>(),
      "accuracy for the steps-to-target table (default: 90% of the baseline's final mean)")(
      "equivalence-margin", po::value<double>(),
      "percentage points: add the paired TOST of the final accuracy within +-PP of the baseline")(
      "select-on", po::value<std::string>(&options.select_on),
      "sweeps: compare per sweep only the variant with the best mean accuracy on 'validation' (or on 'test', "
      "labelled as peeking in the report)")(
      "select-step", po::value<int64_t>(&options.select_step)->default_value(0),
      "the step whose accuracy selects (default: each trial's last evaluated step)")(
      "bootstrap-seed", po::value<std::string>()->default_value("0"), "seed of the bootstrap")(
      "at-steps", po::value<std::string>(&at_steps),
      "study: STEPS (e.g. 150,300,450,600): mean test accuracy at these steps over each experiment's complete "
      "seeds, and the paired difference at the last")(
      "dynamics", po::value<std::vector<std::string>>(&dynamics),
      "study: COLUMN@STEPS (e.g. zeta@30,60,150), repeatable: the mean of that per-step measurement (a column of "
      "steps) at those steps over each experiment's complete seeds")(
      "dynamics-strategies", po::value<std::string>(&dynamics_strategies),
      "study: the strategies (comma-separated) of the --dynamics table (default: every strategy)");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).run(), vm);
  if (vm.count("help")) {
    std::cout << desc;
    return kExitOk;
  }
  po::notify(vm);
  if (dbs.empty()) dbs.push_back("results/results.db");
  if (!study_file.empty() || dbs.size() > 1 || experiments.size() > 1) {
    reports::StudyOptions study;
    study.title = title;
    study.baseline = options.baseline;
    study.out_dir = options.out_dir;
    study.early_steps = options.early_steps;
    study.bootstrap_seed =
        parse_unsigned_option(vm["bootstrap-seed"].as<std::string>(), "report: --bootstrap-seed");
    if (vm.count("target-accuracy")) {
      throw ConfigError("report: --target-accuracy applies to one experiment's report; a study report does not take it");
    }
    if (vm.count("equivalence-margin")) study.equivalence_margin = vm["equivalence-margin"].as<double>() / 100.0;
    study.select_on = options.select_on;
    study.select_step = options.select_step;
    if (vm.count("at-steps")) study.at_steps = reports::parse_steps(at_steps, "report: --at-steps");
    for (const auto& d : dynamics) study.dynamics.push_back(reports::parse_measurement(d, "report: --dynamics"));
    if (vm.count("dynamics-strategies")) {
      std::size_t begin = 0;
      while (begin <= dynamics_strategies.size()) {
        const std::size_t comma = std::min(dynamics_strategies.find(',', begin), dynamics_strategies.size());
        const std::string name = dynamics_strategies.substr(begin, comma - begin);
        if (name.empty()) throw ConfigError("report: --dynamics-strategies '" + dynamics_strategies + "': an empty name");
        study.dynamics_strategies.push_back(name);
        begin = comma + 1;
      }
    }
    if (!study_file.empty()) {
      if (vm.count("db") || vm.count("experiment")) {
        throw ConfigError("report: --study lists the experiments; give it without --db and --experiment");
      }
      study.entries = reports::read_study_file(study_file);
    } else if (dbs.size() > 1) {
      if (!experiments.empty() && experiments.size() != dbs.size()) {
        throw ConfigError("report: " + std::to_string(dbs.size()) + " --db and " + std::to_string(experiments.size()) +
                          " --experiment: give one --experiment per --db, in the same order, or none");
      }
      for (std::size_t i = 0; i < dbs.size(); ++i) study.entries.push_back({dbs[i], experiments.empty() ? "" : experiments[i]});
    } else {
      for (const auto& e : experiments) study.entries.push_back({dbs[0], e});
    }
    const reports::ReportSummary summary = reports::write_study_report(study);
    std::cout << summary.describe() << std::flush;
    return kExitOk;
  }
  if (vm.count("at-steps") || vm.count("dynamics") || vm.count("dynamics-strategies")) {
    throw ConfigError("report: --at-steps, --dynamics and --dynamics-strategies apply to a study report (--study, or "
                      "several experiments); one experiment's report has its curves in difference_by_step.csv");
  }
  options.db_path = dbs[0];
  if (!experiments.empty()) options.experiment = experiments[0];
  if (vm.count("target-accuracy")) options.target_accuracy = vm["target-accuracy"].as<double>();
  if (vm.count("equivalence-margin")) options.equivalence_margin = vm["equivalence-margin"].as<double>() / 100.0;
  options.bootstrap_seed = parse_unsigned_option(vm["bootstrap-seed"].as<std::string>(), "report: --bootstrap-seed");
  const reports::ReportSummary summary = reports::write_report(options);
  std::cout << summary.describe() << std::flush;
  return kExitOk;
}

}  // namespace harness

// `harness merge OUT.db IN.db...`: combines the shard databases of a sharded run into one.
#include "db/database.h"
#include "db/merge.h"
#include "harness/commands.h"
#include "harness/config.h"
#include "harness/errors.h"

#include <boost/program_options.hpp>

#include <algorithm>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <vector>

namespace po = boost::program_options;

namespace harness {
namespace {

constexpr std::size_t kMissingShown = 8;  // missing trials named in the summary

// The value of `key` in the [experiment] section of a resolved configuration text, or nothing.
std::optional<std::string> experiment_key(const std::string& config_text, const std::string& key) {
  std::istringstream in(config_text);
  std::string section;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.front() == '[') {
      section = line;
      continue;
    }
    const auto eq = line.find(" = ");
    if (section == "[experiment]" && eq != std::string::npos && line.substr(0, eq) == key) return line.substr(eq + 3);
  }
  return std::nullopt;
}

// One line about an experiment of the merged database: how many of its planned trials are done, and
// what is missing, failed or unfinished. Returns whether it is complete.
bool summarize(const db::Database& out, const std::string& name, std::ostream& os) {
  const db::Table experiment = out.query("SELECT id, config_text FROM experiments WHERE name = ?1", {name});
  const int64_t id = std::get<int64_t>(experiment.rows.at(0).at(0));
  const std::string config_text = std::get<std::string>(experiment.rows.at(0).at(1));
  std::map<std::pair<std::string, int64_t>, std::string> status;
  for (const auto& row : out.query("SELECT strategy, seed, status FROM trials WHERE experiment_id = ?1", {id}).rows) {
    status[{std::get<std::string>(row[0]), std::get<int64_t>(row[1])}] = std::get<std::string>(row[2]);
  }
  std::map<std::string, int64_t> counts;
  for (const auto& [key, s] : status) ++counts[s];

  std::vector<std::string> missing;
  std::size_t planned = status.size();
  const auto seeds = experiment_key(config_text, "seeds");
  const auto strategies = experiment_key(config_text, "strategies");
  bool plan_known = seeds && strategies;
  if (plan_known) {
    try {
      const auto seed_list = parse_seeds(*seeds, "seeds");
      const auto strategy_list = parse_strategy_list(*strategies, "strategies");
      planned = seed_list.size() * strategy_list.size();
      for (int64_t seed : seed_list) {
        for (const StrategyEntry& s : strategy_list) {
          if (!status.count({s.label, seed})) missing.push_back(s.label + " seed " + std::to_string(seed));
        }
      }
    } catch (const ConfigError&) {
      plan_known = false;
    }
  }
  os << "merge: experiment '" << name << "': " << counts["done"] << " of " << planned << " trials done";
  if (counts["failed"] > 0) os << ", " << counts["failed"] << " failed";
  if (counts["pending"] + counts["running"] > 0) os << ", " << counts["pending"] + counts["running"] << " not finished";
  if (!missing.empty()) {
    os << ", " << missing.size() << " missing (no shard database with them was merged: ";
    for (std::size_t i = 0; i < std::min(missing.size(), kMissingShown); ++i) os << (i ? ", " : "") << missing[i];
    os << (missing.size() > kMissingShown ? ", ...)" : ")");
  }
  if (!plan_known) os << " (the configuration does not say which trials it plans)";
  os << "\n";
  return plan_known && missing.empty() && counts["done"] == static_cast<int64_t>(planned);
}

}  // namespace

int cmd_merge(const Args& args) {
  po::options_description desc(
      "harness merge OUT.db IN.db... [options]\n\nCombines results databases, such as the shard databases of "
      "`harness run --shard I/N`, into OUT.db (created if missing). Experiments are matched by name and must "
      "have the same configuration everywhere; trials by (experiment, strategy, seed). An input of an older "
      "schema version is read as it is (the columns added since stay NULL); OUT.db is written in the current one. A "
      "trial in several inputs keeps its best state: done over failed over not finished. Merging the same "
      "database again adds nothing. Exit status 0 when every planned trial of the merged experiments is done, 1 "
      "when some are missing, failed or unfinished (the merge is still written), 2 on an error.\n\noptions");
  desc.add_options()("help,h", "show this help");
  po::options_description hidden;
  hidden.add_options()("databases", po::value<std::vector<std::string>>());
  po::options_description all;
  all.add(desc).add(hidden);
  po::positional_options_description pos;
  pos.add("databases", -1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << desc;
    return kExitOk;
  }
  const auto files =
      vm.count("databases") ? vm["databases"].as<std::vector<std::string>>() : std::vector<std::string>{};
  if (files.size() < 2) throw ConfigError("expected OUT.db and at least one IN.db: harness merge OUT.db IN.db...");
  const std::string out_path = files.front();
  const std::vector<std::string> inputs(files.begin() + 1, files.end());

  const db::MergeResult result = db::merge_databases(out_path, inputs);
  std::set<std::string> experiments;
  for (const db::InputMerge& input : result.inputs) {
    for (const db::ExperimentMerge& e : input.experiments) {
      experiments.insert(e.experiment);
      std::cout << "merge: " << input.path << ": experiment '" << e.experiment << "': " << e.added << " trials added, "
                << e.replaced << " replaced, " << e.kept << " already in " << out_path << "\n";
    }
  }
  for (const std::string& warning : result.warnings) std::cerr << "merge: warning: " << warning << "\n";
  const db::Database out = db::Database::open(out_path, db::OpenMode::ReadOnly);
  bool complete = true;
  for (const std::string& name : experiments) complete = summarize(out, name, std::cout) && complete;
  return complete ? kExitOk : kExitFailedTrials;
}

}  // namespace harness

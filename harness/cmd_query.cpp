// `harness query "SELECT ..."`: read-only SQL on a results database.
#include "db/query.h"
#include "harness/commands.h"
#include "harness/errors.h"

#include <boost/program_options.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <sstream>

namespace po = boost::program_options;

namespace harness {
namespace {

constexpr double kMaxTimeoutSeconds = 1e9;  // about 31 years: beyond it the milliseconds would overflow soon

}  // namespace

int cmd_query(const Args& args) {
  po::options_description desc("harness query SQL [options]\n\nRuns one read-only SQL statement on a results "
                               "database (read without writing it or leaving a file behind; statements that write "
                               "are refused).\nThe schema is documented in db/schema.sql; example queries are in "
                               "db/queries/.\n\noptions");
  desc.add_options()("help,h", "show this help")(
      "db", po::value<std::string>()->default_value("results/results.db"), "results database file")(
      "format", po::value<std::string>()->default_value("table"), "output format: table | csv | json")(
      "file,f", po::value<std::string>(), "read the SQL from this file instead (e.g. db/queries/*.sql)")(
      "timeout", po::value<double>()->default_value(60.0)->value_name("SECONDS"),
      "stop the query after this many seconds (0 = no limit)");
  po::options_description hidden;
  hidden.add_options()("sql", po::value<std::string>());
  po::options_description all;
  all.add(desc).add(hidden);
  po::positional_options_description pos;
  pos.add("sql", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << desc;
    return kExitOk;
  }
  std::string sql;
  if (vm.count("file")) {
    sql = db::read_sql_file(vm["file"].as<std::string>());
  } else if (vm.count("sql")) {
    sql = vm["sql"].as<std::string>();
  } else {
    throw ConfigError("no SQL given: harness query \"SELECT ...\" --db FILE (or --file QUERY.sql)");
  }
  const double timeout_s = vm["timeout"].as<double>();
  if (!(timeout_s >= 0.0 && timeout_s <= kMaxTimeoutSeconds)) {
    std::ostringstream given;
    given << timeout_s;
    throw ConfigError("--timeout " + given.str() + ": expected a number of seconds from 0 (no limit) to " +
                      std::to_string(static_cast<int64_t>(kMaxTimeoutSeconds)));
  }
  // Rounded up, so that a small positive limit does not become "no limit".
  const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(std::ceil(timeout_s * 1000.0)));
  db::run_query(vm["db"].as<std::string>(), sql, db::parse_query_format(vm["format"].as<std::string>()), std::cout,
                timeout);
  return kExitOk;
}

}  // namespace harness

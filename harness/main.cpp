// `harness`: the command-line entry point; dispatches to the subcommands.
#include "harness/commands.h"
#include "harness/device.h"
#include "harness/errors.h"
#include "harness/exception_text.h"

#include <boost/program_options/errors.hpp>

#include <cstring>
#include <iostream>
#include <map>

namespace {

constexpr const char* kUsage = R"(harness: fine-tuning head-initialization experiments on LibTorch

usage: harness COMMAND [options]      (harness COMMAND --help for its options)

commands:
  pretrain     train a backbone on a source data set and save a checkpoint
  run          run an experiment file's paired, seeded trials into a SQLite database
  merge        combine the databases of a sharded run (harness run --shard I/N) into one
  report       write the statistical comparison (markdown, HTML, CSV, figures); several experiments: a study
  status       a running or finished study at a glance: trials per strategy, running steps, time left
  query        run a read-only SQL query on a results database
  strategies   list the strategy plugins, or show one's parameters
)";

}  // namespace

int main(int argc, char** argv) {
  harness::keep_freed_memory();
  using Command = int (*)(const harness::Args&);
  const std::map<std::string, Command> commands = {
      {"pretrain", harness::cmd_pretrain}, {"run", harness::cmd_run},       {"merge", harness::cmd_merge},
      {"report", harness::cmd_report},     {"query", harness::cmd_query},
      {"strategies", harness::cmd_strategies}, {"status", harness::cmd_status},
  };
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
    std::cout << kUsage;
    return argc < 2 ? harness::kExitUsage : harness::kExitOk;
  }
  const std::string name = argv[1];
  const auto it = commands.find(name);
  if (it == commands.end()) {
    std::cerr << "harness: unknown command '" << name << "'\n\n" << kUsage;
    return harness::kExitUsage;
  }
  try {
    return it->second(harness::Args(argv + 2, argv + argc));
  } catch (const boost::program_options::error& e) {
    std::cerr << "harness " << name << ": " << e.what() << " (see harness " << name << " --help)\n";
  } catch (const harness::Error& e) {
    std::cerr << "harness " << name << ": error: " << e.what() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "harness " << name << ": unexpected error: " << harness::exception_text(e) << "\n";
  }
  return harness::kExitUsage;
}

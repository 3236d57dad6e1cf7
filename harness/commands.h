// The `harness` subcommands. Each takes its arguments (after the subcommand
// name) and returns the process exit status; errors are thrown as harness::Error.
#pragma once

#include <string>
#include <vector>

namespace harness {

using Args = std::vector<std::string>;

int cmd_pretrain(const Args& args);
int cmd_run(const Args& args);
int cmd_merge(const Args& args);
int cmd_report(const Args& args);
int cmd_query(const Args& args);
int cmd_strategies(const Args& args);
int cmd_status(const Args& args);

// Exit statuses.
constexpr int kExitOk = 0;
constexpr int kExitFailedTrials = 1;  // the command ran; some trials failed
constexpr int kExitUsage = 2;         // bad command line, configuration or input

// Folders searched for strategy plugins: the build's strategies folder, then
// HARNESS_PLUGIN_PATH (colon-separated), then --plugin-path values.
std::vector<std::string> plugin_search_path(const std::vector<std::string>& cli_paths);

}  // namespace harness

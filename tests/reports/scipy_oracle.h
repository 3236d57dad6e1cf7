// The scipy oracle of the report tests: runs tests/reports/scipy_reference.py on a JSON object of
// cases and returns its answers; a missing scipy fails the calling test with the fix named.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace harness::reports::testing {

// `cases` holds arrays under the reference's keys (mean_ci, paired, welch, tost, aggregate, holm,
// power, quantile); absent ones are sent empty. Returns null (after ADD_FAILURE) when the
// reference cannot run.
inline nlohmann::json scipy_answers(nlohmann::json cases) {
  namespace fs = std::filesystem;
  for (const char* key : {"mean_ci", "paired", "welch", "tost", "aggregate", "holm", "power", "quantile"}) {
    if (!cases.contains(key)) cases[key] = nlohmann::json::array();
  }
  const fs::path dir = fs::temp_directory_path() / ("harness_scipy_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path in = dir / "cases.json";
  const fs::path out = dir / "scipy.json";
  std::ofstream(in) << cases.dump();
  const std::string cmd = "/usr/bin/python3 " HARNESS_REPORTS_TEST_DIR "/scipy_reference.py " + in.string() + " " +
                          out.string() + " 2> " + (dir / "stderr.txt").string();
  const int rc = std::system(cmd.c_str());
  std::string err;
  {
    std::ifstream e(dir / "stderr.txt");
    err.assign(std::istreambuf_iterator<char>(e), {});
  }
  if (rc != 0) {
    fs::remove_all(dir);
    ADD_FAILURE() << "the scipy reference failed (" << cmd << ", status " << rc << "): " << err
                  << (WEXITSTATUS(rc) == 3 ? " -- /usr/bin/python3 lacks scipy; run scripts/setup.sh" : "");
    return nlohmann::json();
  }
  nlohmann::json answers = nlohmann::json::parse(std::ifstream(out));
  fs::remove_all(dir);
  return answers;
}

}  // namespace harness::reports::testing

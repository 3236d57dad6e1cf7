// Command-line options of the bench programs: Boost.Program_options with --help, and a clear
// refusal of anything unknown or malformed (exit 2) before any benchmark starts.
#pragma once

#include <boost/program_options.hpp>

#include <cstdlib>
#include <iostream>
#include <string>

namespace bench {

namespace po = boost::program_options;

// Parses argv against `options` (a --help flag is added). On --help prints `about` and the
// options and exits 0; on an unknown option, a missing or malformed value or a stray argument
// prints the error and the options to stderr and exits 2.
inline po::variables_map parse_options(int argc, char** argv, const std::string& about, po::options_description options,
                                       const po::positional_options_description& positional = {}) {
  options.add_options()("help,h", "print this help and exit");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(options).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << argv[0] << ": " << e.what() << "\n\n" << about << "\n" << options;
    std::exit(2);
  }
  if (vm.count("help")) {
    std::cout << about << "\n" << options;
    std::exit(0);
  }
  return vm;
}

// A value that must be at least `min`; exits 2 naming the option otherwise.
template <class T>
T at_least(const po::variables_map& vm, const char* name, T min) {
  const T value = vm[name].as<T>();
  if (value < min) {
    std::cerr << "--" << name << " = " << value << ": expected at least " << min << "\n";
    std::exit(2);
  }
  return value;
}

}  // namespace bench

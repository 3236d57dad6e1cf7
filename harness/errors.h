// The exceptions that stop a command. Each message names the file, key or value
// at fault and what was expected. Expected outcomes are values, not exceptions.
#pragma once

#include <stdexcept>
#include <string>

namespace harness {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ConfigError : public Error {  // bad option, experiment file, key or value
 public:
  using Error::Error;
};

class DataError : public Error {  // malformed or missing data set file
 public:
  using Error::Error;
};

class PluginError : public Error {  // a strategy plugin that cannot be loaded or used
 public:
  using Error::Error;
};

class DbError : public Error {  // the results database refused an operation
 public:
  using Error::Error;
};

}  // namespace harness

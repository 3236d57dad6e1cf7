// Parsing and bounds-checking of strategy parameters (see strategy_params.h).
#include "harness/loader/strategy_params.h"

#include "harness/errors.h"
#include "harness/loader/loaded_strategy.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <set>
#include <sstream>

namespace harness {
namespace {

std::string format_bound(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

std::string expected_text(const sdk::ParamSpec& spec) {
  std::string text = param_type_name(spec.type);
  if (spec.min || spec.max) {
    text += " in [" + (spec.min ? format_bound(*spec.min) : std::string("-inf")) + ", " +
            (spec.max ? format_bound(*spec.max) : std::string("inf")) + "]";
  }
  if (!spec.choices.empty()) {
    text += ", one of:";
    for (const auto& c : spec.choices) text += " " + c;
  }
  return text;
}

[[noreturn]] void bad_value(const sdk::ParamSpec& spec, const std::string& value) {
  throw ConfigError("parameter '" + spec.name + "' = '" + value + "': expected " + expected_text(spec));
}

std::optional<double> parse_number(const std::string& value, bool integer) {
  if (value.empty() || std::isspace(static_cast<unsigned char>(value.front()))) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  double number = 0;
  if (integer) {
    const long long v = std::strtoll(value.c_str(), &end, 10);
    number = static_cast<double>(v);
  } else {
    number = std::strtod(value.c_str(), &end);
  }
  if (errno == ERANGE || end != value.c_str() + value.size() || !std::isfinite(number)) return std::nullopt;
  return number;
}

// Validates one value against its spec; returns the normalized text.
std::string check_value(const sdk::ParamSpec& spec, const std::string& value) {
  switch (spec.type) {
    case sdk::ParamType::Int:
    case sdk::ParamType::Real: {
      const auto number = parse_number(value, spec.type == sdk::ParamType::Int);
      if (!number) bad_value(spec, value);
      if ((spec.min && *number < *spec.min) || (spec.max && *number > *spec.max)) bad_value(spec, value);
      return value;
    }
    case sdk::ParamType::Bool:
      if (value == "true" || value == "1" || value == "yes" || value == "on") return "true";
      if (value == "false" || value == "0" || value == "no" || value == "off") return "false";
      bad_value(spec, value);
    case sdk::ParamType::String:
      if (!spec.choices.empty()) {
        bool found = false;
        for (const auto& c : spec.choices) found = found || c == value;
        if (!found) bad_value(spec, value);
      }
      return value;
  }
  bad_value(spec, value);
}

}  // namespace

const char* param_type_name(sdk::ParamType type) {
  switch (type) {
    case sdk::ParamType::Int: return "int";
    case sdk::ParamType::Real: return "real";
    case sdk::ParamType::Bool: return "bool";
    case sdk::ParamType::String: return "string";
  }
  return "?";
}

void check_parameter_specs(const std::vector<sdk::ParamSpec>& specs) {
  std::set<std::string> seen;
  for (const auto& spec : specs) {
    if (spec.name.empty()) throw ConfigError("a parameter has an empty name");
    if (!seen.insert(spec.name).second) throw ConfigError("parameter '" + spec.name + "' is declared twice");
    if (!spec.default_value.empty()) {
      try {
        check_value(spec, spec.default_value);
      } catch (const ConfigError& e) {
        throw ConfigError(std::string("default of ") + e.what());
      }
    }
  }
}

namespace {

sdk::Params resolve(const std::string& strategy_name, const std::vector<sdk::ParamSpec>& specs,
                    const std::map<std::string, std::string>& given) {
  std::map<std::string, std::string> values;
  for (const auto& [key, value] : given) {
    const sdk::ParamSpec* spec = nullptr;
    for (const auto& s : specs) {
      if (s.name == key) spec = &s;
    }
    if (!spec) {
      std::string known;
      for (const auto& s : specs) known += (known.empty() ? "" : ", ") + s.name;
      throw ConfigError("unknown parameter '" + key + "' for strategy '" + strategy_name + "' (declared: " +
                        (known.empty() ? std::string("none") : known) + ")");
    }
    values[key] = check_value(*spec, value);
  }
  for (const auto& spec : specs) {
    if (!values.count(spec.name) && !spec.default_value.empty()) values[spec.name] = check_value(spec, spec.default_value);
  }
  return sdk::Params(std::move(values));
}

}  // namespace

sdk::Params resolve_params(const sdk::Strategy& strategy, const std::map<std::string, std::string>& given) {
  return resolve(strategy.name(), strategy.parameters(), given);
}

sdk::Params resolve_params(const LoadedStrategy& strategy, const std::map<std::string, std::string>& given) {
  return resolve(strategy.name(), strategy.parameters(), given);
}

}  // namespace harness

// Validating an experiment's strategy parameters against what the plugin declares.
#pragma once

#include <harness/strategy.h>

#include <map>
#include <string>
#include <vector>

namespace harness {

class LoadedStrategy;

// Checks `given` against strategy.parameters() and fills in defaults.
// Throws ConfigError: for an unknown key (listing the declared names), for a
// value that does not parse as the declared type, is outside [min, max] or not
// one of the declared choices (naming key, value and what was expected).
// Bool values are normalized to "true"/"false"; other values are kept as written.
// A parameter with no default that is not given stays absent.
sdk::Params resolve_params(const sdk::Strategy& strategy, const std::map<std::string, std::string>& given);
// The same against the declaration load() read, without calling into the plugin again.
sdk::Params resolve_params(const LoadedStrategy& strategy, const std::map<std::string, std::string>& given);

// The same checks on a declaration alone: unique non-empty names, defaults that
// resolve. Throws ConfigError.
void check_parameter_specs(const std::vector<sdk::ParamSpec>& specs);

const char* param_type_name(sdk::ParamType type);  // "int", "real", "bool", "string"

}  // namespace harness

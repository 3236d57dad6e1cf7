// Text output of `harness strategies list` and `harness strategies show NAME`.
#include "harness/loader/strategy_registry.h"

#include <algorithm>
#include <cstring>
#include <ostream>
#include <sstream>

namespace harness {
namespace {

std::string format_number(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

std::string bounds_text(const sdk::ParamSpec& spec) {
  if (!spec.choices.empty()) {
    std::string text;
    for (const auto& c : spec.choices) text += (text.empty() ? "" : "|") + c;
    return text;
  }
  if (!spec.min && !spec.max) return "-";
  return "[" + (spec.min ? format_number(*spec.min) : std::string("-inf")) + ", " +
         (spec.max ? format_number(*spec.max) : std::string("inf")) + "]";
}

}  // namespace

void print_strategy_list(const StrategyRegistry& registry, std::ostream& out) {
  if (registry.size() == 0 && registry.broken().empty()) {
    out << "no strategy plugins found\n";
    return;
  }
  constexpr const char* kBroken = "BROKEN";
  std::size_t name_width = 4, version_width = 7;
  for (const auto& name : registry.names()) {
    const LoadedStrategy& s = registry.get(name);
    name_width = std::max(name_width, s.name().size());
    version_width = std::max(version_width, s.version().size());
  }
  for (const BrokenPlugin& b : registry.broken()) {
    name_width = std::max(name_width, b.name.size());
    version_width = std::max(version_width, std::strlen(kBroken));
  }
  auto pad = [](const std::string& text, std::size_t width) { return text + std::string(width - text.size() + 2, ' '); };
  out << pad("NAME", name_width) << pad("VERSION", version_width) << "DESCRIPTION\n";
  for (const auto& name : registry.names()) {
    const LoadedStrategy& s = registry.get(name);
    out << pad(s.name(), name_width) << pad(s.version(), version_width) << s.description() << "\n"
        << std::string(name_width + version_width + 4, ' ') << "file: " << s.file() << "\n";
  }
  for (const BrokenPlugin& b : registry.broken()) {
    out << pad(b.name, name_width) << pad(kBroken, version_width) << b.reason << "\n"
        << std::string(name_width + version_width + 4, ' ') << "file: " << b.file << "\n";
  }
}

void print_strategy_show(const LoadedStrategy& strategy, std::ostream& out) {
  out << strategy.name() << " " << strategy.version() << ": " << strategy.description() << "\n"
      << "file: " << strategy.file() << "\n"
      << "sha1: " << strategy.file_hash() << "\n";
  const auto& specs = strategy.parameters();
  if (specs.empty()) {
    out << "parameters: none\n";
    return;
  }
  out << "parameters:\n";
  for (const auto& spec : specs) {
    out << "  " << spec.name << " (" << param_type_name(spec.type) << ")"
        << "  default: " << (spec.default_value.empty() ? std::string("(unset)") : spec.default_value)
        << "  range: " << bounds_text(spec) << "\n"
        << "      " << spec.help << "\n";
  }
}

}  // namespace harness

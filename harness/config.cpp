// Experiment configuration: one table of keys serves the file parser, the
// command line, --help and the resolved text recorded with every experiment.
#include "harness/config.h"

#include "harness/data/image_folder.h"
#include "harness/errors.h"
#include "harness/limits.h"

#include <boost/program_options.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

namespace po = boost::program_options;

namespace harness {
namespace {

enum class Kind { Text, Int, Real, Bool };

struct KeySpec {
  const char* key;  // section.name
  Kind kind;
  const char* default_value;  // "" = none
  const char* help;
};

constexpr KeySpec kKeys[] = {
    {"experiment.name", Kind::Text, "", "experiment name (required); unique in the database"},
    {"experiment.db", Kind::Text, "results/results.db", "results database file (SQLite)"},
    {"experiment.seeds", Kind::Text, "8", "seed count N (seeds 0..N-1) or a list: 0,3,5 or 0-23"},
    {"experiment.strategies", Kind::Text, "he_base, warmup, mei, mei_fn",
     "strategies to compare: plugin names, or label=plugin to run one plugin twice"},
    {"experiment.device", Kind::Text, "auto", "auto | cpu | cuda | cuda:K"},
    {"experiment.deterministic", Kind::Bool, "true", "request deterministic algorithms"},
    {"backbone.checkpoint", Kind::Text, "", "backbone checkpoint written by `harness pretrain`"},
    {"backbone.torchscript", Kind::Text, "", "TorchScript module whose forward returns [N, K] features"},
    {"backbone.in_channels", Kind::Int, "1", "input channels of a TorchScript backbone"},
    {"backbone.image_size", Kind::Int, "28", "input image size of a TorchScript backbone"},
    {"data.dataset", Kind::Text, "mnist-digits",
     "target data set: mnist-digits | fashion-mnist | idx | cifar10 | cifar100 | cifar100-coarse | image-folder"},
    {"data.path", Kind::Text, "", "folder of the data set files (empty: the data set's default)"},
    {"data.classes", Kind::Text, "", "class subset, relabeled in order: 5-9 or 0,2,4 (empty: all)"},
    {"data.test_fraction", Kind::Real, "0.2",
     "test share of each class (mnist-digits; image-folder without train/ and test/ folders)"},
    {"data.split_seed", Kind::Int, "0", "seed of the train/test split (mnist-digits, image-folder) and of the validation split"},
    {"data.validation_fraction", Kind::Real, "0",
     "validation share of each class, carved out of the training split (never the test split) by split_seed, "
     "the same for every strategy and seed (0: none)"},
    {"data.normalize", Kind::Bool, "true", "per-channel normalization with target-train statistics"},
    {"data.channels", Kind::Int, "3", "image-folder: 1 (gray) | 3 (RGB); every image is converted"},
    {"data.resize", Kind::Int, "0", "image-folder: shorter side to this, bilinear (0: native size)"},
    {"data.image_size", Kind::Int, "0", "image-folder: center crop to this square (0: no crop)"},
    {"data.unknown_files", Kind::Text, "skip",
     "image-folder: files not named .png/.jpg/.jpeg: skip (counted) | refuse"},
    {"train.steps", Kind::Int, "100", "training steps per trial"},
    {"train.batch_size", Kind::Int, "256", "training batch size N"},
    {"train.lr", Kind::Real, "1e-4", "Adam learning rate gamma, all parameters"},
    {"train.weight_decay", Kind::Real, "0", "Adam weight decay"},
    {"train.dense_eval_steps", Kind::Int, "30", "evaluate on the test split at every step up to this"},
    {"train.eval_every", Kind::Int, "10", "then evaluate every this many steps (and at the last)"},
    {"train.eval_batch_size", Kind::Int, "128", "batch size of test evaluation (small batches stay in cache)"},
    {"train.max_test_examples", Kind::Int, "0", "0: whole test split; else a subset fixed per seed"},
    {"train.hflip", Kind::Bool, "false", "random horizontal flip of training batches (= augment flip)"},
    {"train.augment", Kind::Text, "none",
     "training augmentation: none | flip | crop_flip (random-resized-crop, torchvision's ranges, then flip)"},
    {"train.optimizer", Kind::Text, "adam", "adam | adamw | sgd"},
    {"train.betas", Kind::Text, "0.9, 0.999", "adam/adamw: beta1, beta2"},
    {"train.eps", Kind::Real, "1e-8", "adam/adamw: epsilon"},
    {"train.momentum", Kind::Real, "0", "sgd: momentum"},
    {"train.nesterov", Kind::Bool, "false", "sgd: Nesterov momentum (needs momentum > 0)"},
    {"train.schedule", Kind::Text, "constant",
     "learning-rate schedule after the ramp: constant | cosine | linear | step (optimizer.h gives the formulas)"},
    {"train.lr_warmup_steps", Kind::Int, "0", "linear learning-rate ramp over the first steps (not the paper's head-only warm-up)"},
    {"train.lr_step_size", Kind::Int, "0", "schedule = step: multiply the lr by lr_gamma every this many steps"},
    {"train.lr_gamma", Kind::Real, "0.1", "schedule = step: the factor"},
    {"train.label_smoothing", Kind::Real, "0", "eps: train against (1 - eps) y + eps / C (the measurements stay on plain cross-entropy)"},
    {"train.precision", Kind::Text, "fp32",
     "fp32 | tf32 (TF32 maths in cuBLAS/cuDNN, CUDA only) | bf16 (autocast forward passes to bfloat16)"},
    {"train.memory_format", Kind::Text, "contiguous",
     "contiguous (NCHW) | channels_last (NHWC convolutions: faster on oneDNN and cuDNN, other rounding)"},
    {"train.checkpoint_every", Kind::Int, "0",
     "save a running trial's state beside the database every this many steps, so a killed run resumes it "
     "there (0: not by count; not recorded: a resumed trial's values are the same)"},
    {"train.checkpoint_seconds", Kind::Real, "600",
     "also save it after this many seconds since the last save (0: not by time)"},
};

const KeySpec* find_key(const std::string& key) {
  for (const KeySpec& spec : kKeys) {
    if (key == spec.key) return &spec;
  }
  return nullptr;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, sep)) out.push_back(trim(item));
  return out;
}

// Line of the `occurrence`-th `key` (section.name) in an INI file, 0 when not found: for messages.
int find_line(const std::string& file, const std::string& key, int occurrence = 1) {
  std::ifstream in(file);
  std::string line, section;
  for (int number = 1; std::getline(in, line); ++number) {
    const std::string t = trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    if (t.front() == '[' && t.back() == ']') {
      section = trim(t.substr(1, t.size() - 2));
      continue;
    }
    const auto eq = t.find('=');
    if (eq == std::string::npos) continue;
    const std::string name = trim(t.substr(0, eq));
    if ((section.empty() ? name : section + "." + name) == key && --occurrence == 0) return number;
  }
  return 0;
}

// Where a value came from, for error messages.
struct Origin {
  std::string file;  // "" = command line
  int line = 0;
  std::string describe(const std::string& key) const {
    // Appends rather than operator+(const char*, string&&), which GCC 12 misreads in C++20
    // (a false -Wstringop-overflow).
    std::string where;
    if (file.empty()) return where.append("command-line option --").append(key);
    where = file;
    if (line > 0) where.append(":").append(std::to_string(line));
    return where.append(": key '").append(key).append("'");
  }
};

class Resolver {
 public:
  Resolver(const po::variables_map& cli, const po::variables_map& file_vm, std::string file,
           std::map<std::string, std::string> defaults = {})
      : cli_(cli), file_vm_(file_vm), file_(std::move(file)), defaults_(std::move(defaults)) {}

  // The value of `key`: command line, else file, else default.
  std::pair<std::string, Origin> raw(const std::string& key) const {
    if (cli_.count(key)) return {cli_[key].as<std::string>(), Origin{}};
    if (file_vm_.count(key)) return {trim(file_vm_[key].as<std::string>()), Origin{file_, find_line(file_, key)}};
    if (auto it = defaults_.find(key); it != defaults_.end()) return {it->second, Origin{"(default)", 0}};
    return {find_key(key)->default_value, Origin{"(default)", 0}};
  }

  bool is_default(const std::string& key) const { return !cli_.count(key) && !file_vm_.count(key); }

  std::string text(const std::string& key) const { return raw(key).first; }

  int64_t integer(const std::string& key, int64_t min_value) const {
    const auto [value, origin] = raw(key);
    try {
      std::size_t used = 0;
      const long long v = std::stoll(value, &used);
      if (used == value.size() && v >= min_value) return v;
    } catch (const std::exception&) {
    }
    throw ConfigError(origin.describe(key) + ": '" + value + "' is not an integer >= " +
                      std::to_string(min_value));
  }

  // A finite number >= min_value (> when min_exclusive) and <= max_value.
  double real(const std::string& key, double min_value, double max_value = std::numeric_limits<double>::max(),
              bool min_exclusive = false) const {
    return real_value(key, raw(key).first, min_value, max_value, min_exclusive);
  }
  // `value` (one alternative of the key's text) as real() checks it, errors naming the key's origin.
  double real_value(const std::string& key, const std::string& value, double min_value,
                    double max_value = std::numeric_limits<double>::max(), bool min_exclusive = false) const {
    const Origin origin = raw(key).second;
    try {
      std::size_t used = 0;
      const double v = std::stod(value, &used);
      const bool above = min_exclusive ? v > min_value : v >= min_value;
      if (used == value.size() && std::isfinite(v) && above && v <= max_value) return v;
    } catch (const std::exception&) {
    }
    std::ostringstream msg;
    msg << origin.describe(key) << ": '" << value << "' is not a number " << (min_exclusive ? "> " : ">= ")
        << min_value;
    if (max_value < std::numeric_limits<double>::max()) msg << " and <= " << max_value;
    throw ConfigError(msg.str());
  }

  bool boolean(const std::string& key) const {
    const auto [value, origin] = raw(key);
    if (value == "true" || value == "1" || value == "yes" || value == "on") return true;
    if (value == "false" || value == "0" || value == "no" || value == "off") return false;
    throw ConfigError(origin.describe(key) + ": '" + value + "' is not a boolean (true/false)");
  }

 private:
  const po::variables_map& cli_;
  const po::variables_map& file_vm_;
  std::string file_;
  std::map<std::string, std::string> defaults_;
};

std::string section_of(const std::string& key) { return key.substr(0, key.find('.')); }

std::string keys_in_section(const std::string& section) {
  std::string out;
  for (const KeySpec& spec : kKeys) {
    const std::string key = spec.key;
    if (section_of(key) != section) continue;
    out += (out.empty() ? "" : ", ") + key.substr(key.find('.') + 1);
  }
  return out;
}

// The [data] keys into a DataSpec: one reading for `harness run` and `harness pretrain`.
DataSpec read_data_spec(const Resolver& r) {
  DataSpec data;
  data.dataset = r.text("data.dataset");
  data.path = r.text("data.path");
  const std::string classes = r.text("data.classes");
  if (!classes.empty()) data.classes = parse_class_list(classes);
  data.test_fraction = r.real("data.test_fraction", 0.0);
  if (data.test_fraction >= 1.0) {
    throw ConfigError(r.raw("data.test_fraction").second.describe("data.test_fraction") + ": must be below 1");
  }
  data.split_seed = static_cast<uint64_t>(r.integer("data.split_seed", 0));
  data.validation_fraction = r.real("data.validation_fraction", 0.0);
  if (data.validation_fraction >= 1.0) {
    throw ConfigError(r.raw("data.validation_fraction").second.describe("data.validation_fraction") + ": '" +
                      r.text("data.validation_fraction") + "' must be below 1 (it is the share of each class's "
                      "training images held out for validation)");
  }
  data.normalize = r.boolean("data.normalize");
  data.channels = r.integer("data.channels", 1);
  if (data.channels != 1 && data.channels != 3) {
    throw ConfigError(r.raw("data.channels").second.describe("data.channels") + ": '" + r.text("data.channels") +
                      "' is not 1 (gray) or 3 (RGB)");
  }
  data.resize = r.integer("data.resize", 0);
  data.image_size = r.integer("data.image_size", 0);
  {
    const auto [value, origin] = r.raw("data.unknown_files");
    data.unknown_files = parse_unknown_files(value, origin.describe("data.unknown_files"));
  }
  if (data.dataset == "image-folder") {
    if (data.path.empty()) {
      throw ConfigError("data.path: dataset = image-folder needs path = DIR (one subfolder per class, or train/ and "
                        "test/)");
    }
    if (data.resize > 0 && data.image_size > data.resize) {
      throw ConfigError(r.raw("data.image_size").second.describe("data.image_size") + ": " +
                        std::to_string(data.image_size) + " is larger than data.resize " +
                        std::to_string(data.resize) + " (the crop would not fit)");
    }
  } else {
    for (const char* key : {"data.channels", "data.resize", "data.image_size", "data.unknown_files"}) {
      if (!r.is_default(key)) {
        throw ConfigError(r.raw(key).second.describe(key) + ": applies to dataset = image-folder only (dataset is '" +
                          data.dataset + "')");
      }
    }
  }
  return data;
}

void add_options(po::options_description& desc, const std::string& only_section) {
  for (const KeySpec& spec : kKeys) {
    if (!only_section.empty() && section_of(spec.key) != only_section) continue;
    std::string help = spec.help;
    if (*spec.default_value) help += " [default: " + std::string(spec.default_value) + "]";
    desc.add_options()(spec.key, po::value<std::string>()->value_name("V"), help.c_str());
  }
}

}  // namespace

void add_data_options(po::options_description& desc) { add_options(desc, "data"); }

DataSpec load_data_spec(const po::variables_map& options, const std::map<std::string, std::string>& defaults) {
  const po::variables_map no_file;
  return read_data_spec(Resolver(options, no_file, "", defaults));
}

std::vector<int64_t> parse_seeds(const std::string& text, const std::string& key) {
  const std::string t = trim(text);
  const bool is_count = !t.empty() && std::all_of(t.begin(), t.end(), ::isdigit);
  const std::string most = std::to_string(kMaxSeeds);
  if (is_count) {
    // Its length first: a count of 20 digits does not even fit in 64 bits.
    const std::size_t first = t.find_first_not_of('0');
    const std::string digits = first == std::string::npos ? "0" : t.substr(first);
    if (digits.size() > most.size() || std::stoll(digits) > kMaxSeeds) {
      throw ConfigError(key + ": seed count '" + text + "' is above the limit of " + most + " seeds");
    }
    const int64_t count = std::stoll(t);
    if (count < 1) throw ConfigError(key + ": seed count must be at least 1, got '" + text + "'");
    std::vector<int64_t> seeds(count);
    for (int64_t i = 0; i < count; ++i) seeds[i] = i;
    return seeds;
  }
  std::vector<int64_t> seeds;
  for (const std::string& item : split(t, ',')) {
    if (item.empty()) continue;
    try {
      const auto dash = item.find('-');
      std::size_t used = 0;
      if (dash == std::string::npos) {
        seeds.push_back(std::stoll(item, &used));
        if (used != item.size()) throw std::invalid_argument(item);
      } else {
        const int64_t lo = std::stoll(item.substr(0, dash));
        const int64_t hi = std::stoll(item.substr(dash + 1));
        if (hi < lo || lo < 0) throw std::invalid_argument(item);
        if (hi - lo >= kMaxSeeds - static_cast<int64_t>(seeds.size())) {
          throw ConfigError(key + ": range '" + item + "' takes the list above the limit of " + most + " seeds");
        }
        for (int64_t n = 0; n <= hi - lo; ++n) seeds.push_back(lo + n);
      }
    } catch (const std::out_of_range&) {
      throw ConfigError(key + ": '" + item + "' holds a number beyond 64 bits (in '" + text +
                        "'); a seed is at most " + std::to_string(std::numeric_limits<int64_t>::max()));
    } catch (const std::invalid_argument&) {
      throw ConfigError(key + ": '" + item + "' is not a seed or a range lo-hi (in '" + text + "')");
    }
    if (seeds.size() > static_cast<std::size_t>(kMaxSeeds)) {
      throw ConfigError(key + ": more than " + most + " seeds in '" + text + "'");
    }
  }
  std::sort(seeds.begin(), seeds.end());
  seeds.erase(std::unique(seeds.begin(), seeds.end()), seeds.end());
  if (seeds.empty()) throw ConfigError(key + ": no seeds in '" + text + "'");
  return seeds;
}

std::vector<StrategyEntry> expand_sweeps(const std::vector<StrategyEntry>& entries,
                                         const std::vector<std::string>& lr_texts, const std::vector<double>& lrs) {
  std::vector<StrategyEntry> out;
  for (const StrategyEntry& entry : entries) {
    // The swept keys of this strategy and their alternatives, as written.
    std::vector<std::pair<std::string, std::vector<std::string>>> axes;
    for (const auto& [key, value] : entry.params) {
      if (value.find('|') == std::string::npos) continue;
      std::vector<std::string> alternatives = split(value, '|');
      for (const std::string& a : alternatives) {
        if (a.empty()) {
          throw ConfigError("strategy." + entry.label + "." + key + ": '" + value +
                            "' has an empty alternative; a sweep is 'a | b | c'");
        }
      }
      axes.emplace_back(key, std::move(alternatives));
    }
    if (lrs.size() > 1) axes.emplace_back("lr", lr_texts);
    if (axes.empty()) {
      out.push_back(entry);
      continue;
    }
    std::vector<std::size_t> at(axes.size(), 0);
    for (;;) {
      StrategyEntry v = entry;
      v.base = entry.label;
      std::string suffix;
      for (std::size_t k = 0; k < axes.size(); ++k) {
        const auto& [key, values] = axes[k];
        const std::string& value = values[at[k]];
        v.swept[key] = value;
        suffix += (k ? ";" : "") + key + "=" + value;
        if (key == "lr" && k == axes.size() - 1 && lrs.size() > 1) v.lr = lrs[at[k]];
        else v.params[key] = value;
      }
      v.label = entry.label + "[" + suffix + "]";
      out.push_back(std::move(v));
      if (out.size() > kMaxStrategies) {
        throw ConfigError("experiment.strategies: the sweeps expand to more than " + std::to_string(kMaxStrategies) +
                          " strategies; sweep fewer values");
      }
      std::size_t k = axes.size();
      while (k > 0 && ++at[k - 1] == axes[k - 1].second.size()) at[--k] = 0;
      if (k == 0) break;
    }
  }
  std::set<std::string> labels;
  for (const StrategyEntry& e : out) {
    if (!labels.insert(e.label).second) {
      throw ConfigError("experiment.strategies: strategy label '" + e.label + "' appears twice after the sweeps");
    }
  }
  return out;
}

std::vector<StrategyEntry> parse_strategy_list(const std::string& text, const std::string& key) {
  std::vector<StrategyEntry> entries;
  std::set<std::string> labels;
  for (const std::string& item : split(text, ',')) {
    if (item.empty()) continue;
    StrategyEntry entry;
    const auto eq = item.find('=');
    entry.label = trim(item.substr(0, eq));
    entry.plugin = eq == std::string::npos ? entry.label : trim(item.substr(eq + 1));
    if (entry.label.empty() || entry.plugin.empty() ||
        entry.label.find_first_of(" \t.") != std::string::npos) {
      throw ConfigError(key + ": '" + item + "' is not a strategy name or label=plugin");
    }
    if (!labels.insert(entry.label).second) {
      throw ConfigError(key + ": strategy label '" + entry.label + "' appears twice; use label=plugin");
    }
    entries.push_back(std::move(entry));
  }
  if (entries.empty()) throw ConfigError(key + ": no strategies in '" + text + "'");
  return entries;
}

void add_experiment_options(po::options_description& desc) {
  add_options(desc, "");
  desc.add_options()("param", po::value<std::vector<std::string>>()->composing()->value_name("L.K=V"),
                     "strategy parameter: LABEL.KEY=VALUE (repeatable; like [strategy.LABEL] KEY=VALUE)");
}

ExperimentConfig load_experiment(const po::variables_map& cli, const std::string& experiment_file) {
  po::variables_map file_vm;
  std::map<std::string, std::pair<std::string, Origin>> strategy_keys;  // "label.key" -> value
  if (!experiment_file.empty()) {
    std::error_code ec;
    if (std::filesystem::is_directory(experiment_file, ec)) {
      throw ConfigError(experiment_file + ": is a folder, expected an experiment file (INI)");
    }
    std::ifstream in(experiment_file);
    if (!in) throw ConfigError(experiment_file + ": cannot open experiment file");
    po::options_description file_desc;
    for (const KeySpec& spec : kKeys) file_desc.add_options()(spec.key, po::value<std::string>());
    po::parsed_options parsed(nullptr);
    try {
      parsed = po::parse_config_file(in, file_desc, /*allow_unregistered=*/true);
    } catch (const po::error& e) {
      throw ConfigError(experiment_file + ": " + e.what());
    }
    std::map<std::string, int> occurrences;
    for (const po::option& opt : parsed.options) {
      const std::string& key = opt.string_key;
      if (const int n = ++occurrences[key]; n > 1) {
        throw ConfigError(Origin{experiment_file, find_line(experiment_file, key, n)}.describe(key) +
                          ": given again (first at line " + std::to_string(find_line(experiment_file, key)) +
                          "); each key may appear once");
      }
      if (!opt.unregistered) continue;
      const int line = find_line(experiment_file, key);
      const Origin origin{experiment_file, line};
      if (key.rfind("strategy.", 0) == 0 && std::count(key.begin(), key.end(), '.') == 2) {
        strategy_keys[key.substr(9)] = {opt.value.empty() ? "" : trim(opt.value.front()), origin};
        continue;
      }
      const std::string section = section_of(key);
      const std::string known = keys_in_section(section);
      throw ConfigError(origin.describe(key) + ": unknown key" +
                        (known.empty() ? "; sections are [experiment], [backbone], [data], [train], [strategy.LABEL]"
                                       : "; keys of [" + section + "] are: " + known));
    }
    po::store(parsed, file_vm);
  }
  if (cli.count("param")) {
    for (const std::string& kv : cli["param"].as<std::vector<std::string>>()) {
      const auto eq = kv.find('=');
      const auto dot = kv.find('.');
      if (eq == std::string::npos || dot == std::string::npos || dot > eq) {
        throw ConfigError("--param '" + kv + "': expected LABEL.KEY=VALUE");
      }
      strategy_keys[trim(kv.substr(0, eq))] = {trim(kv.substr(eq + 1)), Origin{}};
    }
  }

  const Resolver r(cli, file_vm, experiment_file);
  ExperimentConfig config;
  config.source = experiment_file;
  config.name = r.text("experiment.name");
  if (config.name.empty()) {
    throw ConfigError((experiment_file.empty() ? std::string("command line") : experiment_file) +
                      ": missing required key 'name' in [experiment] (or --experiment.name)");
  }
  config.db_path = r.text("experiment.db");
  config.seeds = parse_seeds(r.text("experiment.seeds"), "experiment.seeds");
  config.strategies = parse_strategy_list(r.text("experiment.strategies"), "experiment.strategies");
  config.device = r.text("experiment.device");
  config.deterministic = r.boolean("experiment.deterministic");

  for (const auto& [label_key, value] : strategy_keys) {
    const std::string label = label_key.substr(0, label_key.find('.'));
    const std::string key = label_key.substr(label_key.find('.') + 1);
    auto it = std::find_if(config.strategies.begin(), config.strategies.end(),
                           [&](const StrategyEntry& e) { return e.label == label; });
    if (it == config.strategies.end()) {
      std::string labels;
      for (const auto& e : config.strategies) labels += (labels.empty() ? "" : ", ") + e.label;
      throw ConfigError(value.second.describe("strategy." + label_key) + ": no strategy labelled '" + label +
                        "' in experiment.strategies (" + labels + ")");
    }
    it->params[key] = value.first;
  }

  config.backbone.checkpoint = r.text("backbone.checkpoint");
  config.backbone.torchscript = r.text("backbone.torchscript");
  config.backbone.in_channels = r.integer("backbone.in_channels", 1);
  config.backbone.image_size = r.integer("backbone.image_size", 1);
  if (config.backbone.checkpoint.empty() == config.backbone.torchscript.empty()) {
    throw ConfigError((experiment_file.empty() ? std::string("command line") : experiment_file) +
                      ": [backbone] needs exactly one of 'checkpoint' or 'torchscript'");
  }

  config.data = read_data_spec(r);
  // The label order is part of what the trials mean: recorded (and hashed) with the experiment.
  if (config.data.dataset == "image-folder") config.data.class_names = image_folder_classes(config.data.path);

  TrainConfig& t = config.train;
  t.steps = r.integer("train.steps", 1);
  t.batch_size = r.integer("train.batch_size", 1);
  // "1e-4 | 3e-4" sweeps the learning rate: each value is checked as a single lr would be.
  std::vector<std::string> lr_texts = split(r.text("train.lr"), '|');
  for (const std::string& text : lr_texts) {
    config.lr_sweep.push_back(r.real_value("train.lr", text, 0.0, kMaxLearningRate, /*min_exclusive=*/true));
  }
  t.lr = config.lr_sweep.front();
  config.strategies = expand_sweeps(config.strategies, lr_texts, config.lr_sweep);
  if (config.lr_sweep.size() == 1) config.lr_sweep.clear();
  t.weight_decay = r.real("train.weight_decay", 0.0, kMaxWeightDecay);
  t.dense_eval_steps = r.integer("train.dense_eval_steps", 0);
  t.eval_every = r.integer("train.eval_every", 1);
  t.eval_batch_size = r.integer("train.eval_batch_size", 1);
  t.max_test_examples = r.integer("train.max_test_examples", 0);
  t.hflip = r.boolean("train.hflip");
  {
    const auto [value, origin] = r.raw("train.augment");
    t.augment = parse_augment(value, origin.describe("train.augment"));
    if (t.hflip && t.augment != Augment::None) {
      throw ConfigError(origin.describe("train.augment") + ": train.hflip = true is the older spelling of augment = "
                        "flip; give only train.augment");
    }
  }
  {
    const auto [value, origin] = r.raw("train.precision");
    t.precision = parse_precision(value, origin.describe("train.precision"));
  }
  {
    const auto [value, origin] = r.raw("train.memory_format");
    t.memory_format = parse_memory_format(value, origin.describe("train.memory_format"));
  }
  OptimizerSettings& o = t.optimizer;
  {
    const auto [value, origin] = r.raw("train.optimizer");
    o.kind = parse_optimizer(value, origin.describe("train.optimizer"));
  }
  {
    const auto [value, origin] = r.raw("train.betas");
    const auto parts = split(value, ',');
    bool ok = parts.size() == 2;
    try {
      if (ok) o.beta1 = std::stod(parts[0]), o.beta2 = std::stod(parts[1]);
    } catch (const std::exception&) {
      ok = false;
    }
    if (!ok || !(o.beta1 >= 0 && o.beta1 < 1 && o.beta2 >= 0 && o.beta2 < 1)) {
      throw ConfigError(origin.describe("train.betas") + ": '" + value + "' is not two numbers in [0, 1), 'beta1, beta2'");
    }
  }
  o.eps = r.real("train.eps", 0.0);
  o.momentum = r.real("train.momentum", 0.0);
  o.nesterov = r.boolean("train.nesterov");
  if (o.nesterov && !(o.momentum > 0)) {
    throw ConfigError(r.raw("train.nesterov").second.describe("train.nesterov") + ": Nesterov momentum needs train.momentum > 0");
  }
  {
    const auto [value, origin] = r.raw("train.schedule");
    o.schedule = parse_schedule(value, origin.describe("train.schedule"));
  }
  o.lr_warmup_steps = r.integer("train.lr_warmup_steps", 0);
  o.lr_step_size = r.integer("train.lr_step_size", 0);
  o.lr_gamma = r.real("train.lr_gamma", 0.0);
  if (o.schedule == ScheduleKind::Step && o.lr_step_size < 1) {
    throw ConfigError(r.raw("train.lr_step_size").second.describe("train.lr_step_size") +
                      ": schedule = step needs lr_step_size >= 1");
  }
  t.checkpoint_every = r.integer("train.checkpoint_every", 0);
  t.checkpoint_seconds = r.real("train.checkpoint_seconds", 0.0);
  t.label_smoothing = r.real("train.label_smoothing", 0.0);
  if (t.label_smoothing >= 1.0) {
    throw ConfigError(r.raw("train.label_smoothing").second.describe("train.label_smoothing") + ": must be below 1");
  }
  for (const KeySpec& spec : kKeys) config.values[spec.key] = r.text(spec.key);
  return config;
}

std::string ExperimentConfig::resolved_text() const {
  std::ostringstream out;
  auto list = [](const auto& items, auto&& fmt) {
    std::string s;
    for (const auto& item : items) s += (s.empty() ? "" : ", ") + fmt(item);
    return s;
  };
  out << "[experiment]\nname = " << name << "\nseeds = "
      << list(seeds, [](int64_t s) { return std::to_string(s); }) << "\nstrategies = "
      << list(strategies, [](const StrategyEntry& e) {
           return e.label == e.plugin ? e.label : e.label + "=" + e.plugin;
         })
      << "\ndeterministic = " << (deterministic ? "true" : "false") << "\n\n";
  out << "[backbone]\n";
  if (!backbone.checkpoint.empty()) out << "checkpoint = " << backbone.checkpoint << "\n";
  if (!backbone.torchscript.empty()) {
    out << "torchscript = " << backbone.torchscript << "\nin_channels = " << backbone.in_channels
        << "\nimage_size = " << backbone.image_size << "\n";
  }
  out << "\n[data]\ndataset = " << data.dataset << "\npath = " << data.path << "\nclasses = "
      << list(data.classes, [](int64_t c) { return std::to_string(c); })
      << "\ntest_fraction = " << data.test_fraction << "\nsplit_seed = " << data.split_seed
      << "\nnormalize = " << (data.normalize ? "true" : "false") << "\n";
  // Keys added after the first studies appear only when used, so recorded experiments keep their hash.
  if (data.validation_fraction != 0.0) out << "validation_fraction = " << data.validation_fraction << "\n";
  if (data.dataset == "image-folder") {
    out << "channels = " << data.channels << "\nresize = " << data.resize << "\nimage_size = " << data.image_size
        << "\nunknown_files = " << unknown_files_name(data.unknown_files) << "\nclass_names = "
        << list(data.class_names, [](const std::string& name) { return name; }) << "\n";
  }
  out << "\n";
  out << "[train]\nsteps = " << train.steps << "\nbatch_size = " << train.batch_size << "\nlr = ";
  if (lr_sweep.empty()) out << train.lr;
  for (std::size_t i = 0; i < lr_sweep.size(); ++i) out << (i ? " | " : "") << lr_sweep[i];
  out << "\nweight_decay = " << train.weight_decay << "\ndense_eval_steps = " << train.dense_eval_steps
      << "\neval_every = " << train.eval_every << "\neval_batch_size = " << train.eval_batch_size
      << "\nmax_test_examples = " << train.max_test_examples << "\nhflip = " << (train.hflip ? "true" : "false")
      << "\n";
  // Keys added after the first studies appear only when set, so recorded experiments keep their hash.
  // checkpoint_every and checkpoint_seconds never appear: they change no recorded value.
  if (train.precision != Precision::Fp32) out << "precision = " << precision_name(train.precision) << "\n";
  if (train.memory_format != MemoryFormat::Contiguous) {
    out << "memory_format = " << memory_format_name(train.memory_format) << "\n";
  }
  const OptimizerSettings& o = train.optimizer;
  const OptimizerSettings paper;
  if (o.kind != paper.kind) out << "optimizer = " << optimizer_name(o.kind) << "\n";
  if (o.beta1 != paper.beta1 || o.beta2 != paper.beta2) out << "betas = " << o.beta1 << ", " << o.beta2 << "\n";
  if (o.eps != paper.eps) out << "eps = " << o.eps << "\n";
  if (o.momentum != paper.momentum) out << "momentum = " << o.momentum << "\n";
  if (o.nesterov != paper.nesterov) out << "nesterov = true\n";
  if (o.schedule != paper.schedule) out << "schedule = " << schedule_name(o.schedule) << "\n";
  if (o.lr_warmup_steps != paper.lr_warmup_steps) out << "lr_warmup_steps = " << o.lr_warmup_steps << "\n";
  if (o.lr_step_size != paper.lr_step_size) out << "lr_step_size = " << o.lr_step_size << "\n";
  if (o.lr_gamma != paper.lr_gamma) out << "lr_gamma = " << o.lr_gamma << "\n";
  if (train.label_smoothing != 0.0) out << "label_smoothing = " << train.label_smoothing << "\n";
  if (train.augment != Augment::None) out << "augment = " << augment_name(train.augment) << "\n";
  for (const StrategyEntry& e : strategies) {
    if (e.params.empty() && !e.lr) continue;
    out << "\n[strategy." << e.label << "]\n";
    for (const auto& [k, v] : e.params) out << k << " = " << v << "\n";
    if (e.lr) out << "train.lr = " << *e.lr << "\n";
  }
  return out.str();
}

}  // namespace harness

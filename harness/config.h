// Experiment configuration: an INI experiment file merged with the command line.
//
// Keys live in sections ([experiment], [backbone], [data], [train], and one
// [strategy.LABEL] section per strategy for its parameters). Every key can
// also be given on the command line as --section.key VALUE; the command line
// wins. Unknown keys, ill-typed values and missing required values throw
// ConfigError naming the file, line and key.
#pragma once

#include "harness/data/task.h"
#include "harness/device.h"
#include "harness/optimizer.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace boost::program_options {
class options_description;
class variables_map;
}  // namespace boost::program_options

namespace harness {

// One strategy of an experiment: a label (unique in the experiment, used in
// reports) naming a plugin, with its parameter values as written.
struct StrategyEntry {
  std::string label;
  std::string plugin;
  std::map<std::string, std::string> params;
  // A variant of a sweep (a parameter or [train] lr given as "a | b | c"): the label it was
  // written under, and the swept keys with this variant's values ("lr" for [train] lr).
  // The variant's label is "BASE[key=value;key=value]".
  std::string base = {};  // empty: not a sweep variant
  std::map<std::string, std::string> swept = {};
  std::optional<double> lr = {};  // this variant's [train] lr, when lr is swept
};

struct BackboneConfig {
  std::string checkpoint;   // from `harness pretrain`
  std::string torchscript;  // or a TorchScript module returning [N, K] features
  int64_t in_channels = 1;  // TorchScript input shape (checkpoints carry their own)
  int64_t image_size = 28;
};

struct TrainConfig {
  int64_t steps = 100;
  int64_t batch_size = 256;
  double lr = 1e-4;
  double weight_decay = 0.0;
  int64_t dense_eval_steps = 30;  // evaluate on the test split at every step up to this one
  int64_t eval_every = 10;        // then every this many steps (and at the last step)
  int64_t eval_batch_size = 128;  // small batches stay in cache: 2x faster than 1024 on one thread
  int64_t max_test_examples = 0;  // 0 = the whole test split; otherwise a seeded subset
  bool hflip = false;             // random horizontal flip of training batches (the older augment = flip)
  Augment augment = Augment::None;  // none | flip | crop_flip, drawn per trial seed
  Precision precision = Precision::Fp32;
  MemoryFormat memory_format = MemoryFormat::Contiguous;
  OptimizerSettings optimizer;  // optimizer, its settings, the lr schedule and ramp
  double label_smoothing = 0.0; // eps of (1 - eps) y + eps / C in the training objective
  // Mid-trial checkpoints (harness/trial_checkpoint.h). Not in the resolved text: a resumed trial's
  // rows are bit-identical to an uninterrupted one's, so turning them on or off changes no result.
  int64_t checkpoint_every = 0;       // steps between checkpoints (0: none by count)
  double checkpoint_seconds = 600.0;  // seconds of training between checkpoints (0: none by time)
};

struct ExperimentConfig {
  std::string name;
  std::string db_path;
  std::string source;  // experiment file it came from ("" = command line only)
  std::vector<int64_t> seeds;
  std::vector<StrategyEntry> strategies;
  BackboneConfig backbone;
  DataSpec data;
  TrainConfig train;
  std::string device = "auto";
  bool deterministic = true;
  // Every key of the table as resolved (command line, file or default), "section.key" -> text:
  // what a strategy's required_settings() is compared with.
  std::map<std::string, std::string> values;
  // [train] lr = "a | b | c": every strategy runs once per value (train.lr holds the first).
  std::vector<double> lr_sweep;

  // The resolved configuration as INI text: recorded with the experiment and
  // hashed to refuse a rerun of the same name with different settings.
  std::string resolved_text() const;
};

// Adds every experiment key as --section.key to `desc` (for --help and parsing).
void add_experiment_options(boost::program_options::options_description& desc);

// Adds only the [data] keys as --data.KEY: the data keys `harness pretrain` shares with `run`.
void add_data_options(boost::program_options::options_description& desc);

// Reads the [data] keys from parsed options (values missing there take `defaults`, then the
// table's defaults). Throws ConfigError naming the key.
DataSpec load_data_spec(const boost::program_options::variables_map& options,
                        const std::map<std::string, std::string>& defaults = {});

// Builds the configuration from parsed command-line values and an optional
// experiment file; for dataset = image-folder it lists the class folders, recorded in the
// resolved text. Throws ConfigError, or DataError for a missing image folder.
ExperimentConfig load_experiment(const boost::program_options::variables_map& cli,
                                 const std::string& experiment_file);

// "8" = seeds 0..7; "0,3,5" or "0-23" = that list. Throws ConfigError naming `key`.
std::vector<int64_t> parse_seeds(const std::string& text, const std::string& key);

// The variants of a sweep: every parameter value with '|' and, when `lrs` has several values,
// [train] lr expand each strategy into the cartesian product of their values, in order, labelled
// "BASE[key=value;...]" (keys in name order, "lr" last). Every variant runs on every seed.
// Throws ConfigError for an empty alternative or more than kMaxStrategies strategies.
std::vector<StrategyEntry> expand_sweeps(const std::vector<StrategyEntry>& entries,
                                         const std::vector<std::string>& lr_texts, const std::vector<double>& lrs);

// "he_base, mei, small=mei" -> entries (label=plugin, or label alone).
std::vector<StrategyEntry> parse_strategy_list(const std::string& text, const std::string& key);

}  // namespace harness

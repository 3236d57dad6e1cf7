// `harness pretrain`: train a backbone on a source task and save a checkpoint
// that `harness run` rebuilds the backbone from alone.
#include "harness/cli_options.h"
#include "harness/commands.h"
#include "harness/config.h"
#include "harness/data/task.h"
#include "harness/device.h"
#include "harness/errors.h"
#include "harness/models/checkpoint.h"
#include "harness/models/pretrain.h"
#include "harness/progress.h"

#include <boost/program_options.hpp>

#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

namespace po = boost::program_options;

namespace harness {
namespace {

// A checkpoint already trained with exactly these settings is reused.
bool same_settings(const CheckpointMeta& meta, const PretrainOptions& options, const DataSpec& data) {
  return meta.arch == options.arch.arch && meta.epochs == options.epochs && meta.batch_size == options.batch_size &&
         meta.lr == options.lr && meta.seed == options.seed && meta.aux_binary_weight == options.aux_binary_weight &&
         meta.source_dataset == data.dataset && meta.source_classes == data.classes;
}

// The older pretrain spellings of the shared [data] keys, kept so existing scripts run.
const std::pair<const char*, const char*> kDataAliases[] = {
    {"dataset", "data.dataset"}, {"data-path", "data.path"}, {"classes", "data.classes"},
    {"test-fraction", "data.test_fraction"}};

}  // namespace

int cmd_pretrain(const Args& args) {
  PretrainOptions options;
  std::string out, device_spec, config_file, seed;
  int threads = 0;
  po::options_description desc(
      "harness pretrain --out FILE [options]\n\nTrains a backbone (Adam) on a source data set, prints the source "
      "test accuracy and throughput, and saves a checkpoint with its metadata. An existing checkpoint trained with "
      "the same settings is reused (use --force to retrain).\nOptions may also come from --config FILE (INI, "
      "key = value, same names without dashes; the data keys in a [data] section, as in an experiment file); the "
      "command line wins.\n\noptions");
  desc.add_options()("help,h", "show this help")("config", po::value<std::string>(&config_file), "options file")(
      "out", po::value<std::string>(&out), "checkpoint file to write (required)")(
      "arch", po::value<std::string>(&options.arch.arch)->default_value("convnet"), "convnet | vgg | resnet")(
      "dataset", po::value<std::string>(), "= --data.dataset (source data set; default here fashion-mnist)")(
      "data-path", po::value<std::string>(), "= --data.path")("classes", po::value<std::string>(), "= --data.classes")(
      "test-fraction", po::value<std::string>(), "= --data.test_fraction")(
      "epochs", po::value<int64_t>(&options.epochs)->default_value(2), "training epochs")(
      "batch-size", po::value<int64_t>(&options.batch_size)->default_value(256), "batch size")(
      "lr", po::value<double>(&options.lr)->default_value(1e-3), "Adam learning rate")(
      "seed", po::value<std::string>(&seed)->default_value("0"), "seed of initialization and batch order")(
      "aux-binary-weight", po::value<double>(&options.aux_binary_weight)->default_value(0.0),
      "B in (1-B) CE(y) + B CE(y_b): auxiliary head on a random balanced binary partition of the classes")(
      "device", po::value<std::string>(&device_spec)->default_value("auto"), "auto | cpu | cuda | cuda:K")(
      "threads", po::value<int>(&threads)->default_value(0), "CPU threads (0 = all cores)")(
      "force", "retrain even when --out holds a checkpoint with the same settings");
  po::options_description data_keys("data keys (shared with `harness run`)");
  add_data_options(data_keys);
  desc.add(data_keys);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).run(), vm);
  if (vm.count("help")) {
    std::cout << desc;
    return kExitOk;
  }
  if (vm.count("config")) {
    const std::string file = vm["config"].as<std::string>();
    std::ifstream in(file);
    if (!in) throw ConfigError(file + ": cannot open options file");
    try {
      po::store(po::parse_config_file(in, desc), vm);
    } catch (const po::error& e) {
      throw ConfigError(file + ": " + e.what());
    }
  }
  po::notify(vm);
  for (const auto& [alias, key] : kDataAliases) {
    if (!vm.count(alias)) continue;
    if (vm.count(key)) throw ConfigError(std::string("pretrain: --") + alias + " and --" + key + " both given");
    vm.insert({key, vm[alias]});
  }
  // Every option is checked before anything is read or computed from it.
  if (out.empty()) throw ConfigError("pretrain: --out FILE is required (where to save the checkpoint)");
  DataSpec data;
  try {
    data = load_data_spec(vm, {{"data.dataset", "fashion-mnist"}});
  } catch (const ConfigError& e) {
    // Name the option as the user spelled it.
    for (const auto& [alias, key] : kDataAliases) {
      if (vm.count(alias) && std::string(e.what()).find(key) != std::string::npos) {
        throw ConfigError("pretrain: " + std::string(e.what()) + " (given as --" + alias + ")");
      }
    }
    throw;
  }
  options.seed = parse_unsigned_option(seed, "pretrain: --seed");
  options.threads = threads;
  check_pretrain_options(options);

  if (std::filesystem::exists(out) && !vm.count("force")) {
    const CheckpointMeta meta = read_checkpoint_meta(out);
    if (same_settings(meta, options, data)) {
      std::cout << "pretrain: reusing " << out << " (" << meta.arch << " on " << meta.source_dataset
                << ", source test accuracy " << meta.source_test_accuracy << ")\n";
      return kExitOk;
    }
    throw ConfigError("pretrain: " + out + " holds a checkpoint trained with other settings (" + meta.arch + " on " +
                      meta.source_dataset + ", " + std::to_string(meta.epochs) +
                      " epochs); pass --force to overwrite it or choose another --out");
  }

  set_threads(threads);
  const torch::Device device = select_device(device_spec);
  options.device = device.str();
  data.normalize = true;
  std::cerr << "pretrain: loading " << data.dataset << "\n";
  Split source = load_task(data);
  for (const std::string& note : source.notes) std::cerr << "pretrain: " << note << "\n";
  options.arch.in_channels = source.train.images.size(1);
  options.arch.image_size = source.train.images.size(2);
  std::cerr << "pretrain: " << options.arch.arch << " on " << source.train.size() << " training images, "
            << source.train.num_classes << " classes, device " << device.str() << ", " << at::get_num_threads()
            << " threads\n";

  const int64_t steps_per_epoch = (source.train.size() + options.batch_size - 1) / options.batch_size;
  Progress progress("pretrain", options.epochs * steps_per_epoch, "steps");
  PretrainResult result = pretrain(options, source, [&](const PretrainProgress& p) {
    char detail[96];
    std::snprintf(detail, sizeof detail, "epoch %lld/%lld, loss %.4f, %.0f images/s", (long long)p.epoch,
                  (long long)p.epochs, p.loss, p.images_per_second);
    progress.update((p.epoch - 1) * p.steps_per_epoch + p.step, detail);
  });
  progress.finish();

  CheckpointMeta meta = result.meta;
  meta.source_dataset = data.dataset;
  meta.source_classes = data.classes;
  if (auto parent = std::filesystem::path(out).parent_path(); !parent.empty()) {
    std::filesystem::create_directories(parent);
  }
  save_checkpoint(out, *result.backbone, meta);
  std::cout << "pretrain: source test accuracy " << result.test_accuracy << ", " << result.images_per_second
            << " images/s, " << format_duration(result.seconds) << "; saved " << out << "\n";
  return kExitOk;
}

}  // namespace harness

// Checkpoint files: a torch::serialize archive with a "meta_json" string and a nested
// "backbone" archive of the module's parameters and buffers.
#include "harness/models/checkpoint.h"

#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <nlohmann/json.hpp>

#include "harness/errors.h"
#include "harness/models/builtin_backbone.h"
#include "harness/replacing_file.h"

namespace harness {
namespace {

constexpr const char* kMetaKey = "meta_json";
constexpr const char* kBackboneKey = "backbone";
constexpr int kFormatVersion = 1;

std::string brief(const std::exception& e) {
  const auto* c10_error = dynamic_cast<const c10::Error*>(&e);
  const std::string text = c10_error ? c10_error->what_without_backtrace() : e.what();
  return text.substr(0, text.find('\n'));
}

nlohmann::json to_json(const CheckpointMeta& m) {
  return {{"format_version", kFormatVersion},
          {"arch", m.arch},
          {"features", m.features},
          {"in_channels", m.in_channels},
          {"image_size", m.image_size},
          {"source_dataset", m.source_dataset},
          {"source_classes", m.source_classes},
          {"source_num_classes", m.source_num_classes},
          {"epochs", m.epochs},
          {"lr", m.lr},
          {"batch_size", m.batch_size},
          {"seed", m.seed},
          {"aux_binary_weight", m.aux_binary_weight},
          {"source_test_accuracy", m.source_test_accuracy},
          {"norm_mean", m.norm_mean},
          {"norm_std", m.norm_std},
          {"harness_version", m.harness_version},
          {"device", m.device},
          {"images_per_second", m.images_per_second},
          {"train_seconds", m.train_seconds}};
}

CheckpointMeta from_json(const nlohmann::json& j) {
  CheckpointMeta m;
  j.at("arch").get_to(m.arch);
  j.at("features").get_to(m.features);
  j.at("in_channels").get_to(m.in_channels);
  j.at("image_size").get_to(m.image_size);
  j.at("source_dataset").get_to(m.source_dataset);
  j.at("source_classes").get_to(m.source_classes);
  j.at("source_num_classes").get_to(m.source_num_classes);
  j.at("epochs").get_to(m.epochs);
  j.at("lr").get_to(m.lr);
  j.at("batch_size").get_to(m.batch_size);
  j.at("seed").get_to(m.seed);
  j.at("aux_binary_weight").get_to(m.aux_binary_weight);
  j.at("source_test_accuracy").get_to(m.source_test_accuracy);
  j.at("norm_mean").get_to(m.norm_mean);
  j.at("norm_std").get_to(m.norm_std);
  j.at("harness_version").get_to(m.harness_version);
  j.at("device").get_to(m.device);
  j.at("images_per_second").get_to(m.images_per_second);
  j.at("train_seconds").get_to(m.train_seconds);
  return m;
}

torch::serialize::InputArchive open_archive(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw DataError("checkpoint " + path + ": no such file");
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path, torch::kCPU);
  } catch (const std::exception& e) {
    throw DataError("checkpoint " + path + ": not a readable checkpoint file (" + brief(e) + ")");
  }
  return archive;
}

CheckpointMeta read_meta(torch::serialize::InputArchive& archive, const std::string& path) {
  c10::IValue value;
  bool found = false;
  try {
    found = archive.try_read(kMetaKey, value);
  } catch (const std::exception& e) {
    throw DataError("checkpoint " + path + ": cannot read its metadata (" + brief(e) + ")");
  }
  if (!found || !value.isString()) {
    throw DataError("checkpoint " + path + ": no '" + kMetaKey + "' metadata entry (not written by harness pretrain?)");
  }
  try {
    const auto j = nlohmann::json::parse(value.toStringRef());
    const int version = j.at("format_version").get<int>();
    if (version != kFormatVersion) {
      throw DataError("checkpoint " + path + ": format version " + std::to_string(version) + ", this harness reads " +
                      std::to_string(kFormatVersion));
    }
    return from_json(j);
  } catch (const nlohmann::json::exception& e) {
    throw DataError("checkpoint " + path + ": malformed metadata (" + e.what() + ")");
  }
}

}  // namespace

void save_checkpoint(const std::string& path, Backbone& backbone, const CheckpointMeta& meta) {
  auto* builtin = dynamic_cast<BuiltinBackbone*>(&backbone);
  if (!builtin) {
    throw ConfigError("cannot checkpoint backbone '" + backbone.describe() +
                      "': only built-in architectures are saved to checkpoints");
  }
  CheckpointMeta full = meta;
  full.arch = builtin->spec().arch;
  full.features = builtin->features();
  full.in_channels = builtin->spec().in_channels;
  full.image_size = builtin->spec().image_size;

  torch::serialize::OutputArchive archive;
  archive.write(kMetaKey, c10::IValue(to_json(full).dump()));
  torch::serialize::OutputArchive tensors;
  builtin->module().save(tensors);  // parameters and buffers, one nested archive per submodule
  archive.write(kBackboneKey, tensors);
  // Serialized in memory first: LibTorch's file writer, when a write fails (disk full), throws
  // again from its destructor and terminates the process.
  std::ostringstream bytes;
  try {
    archive.save_to(bytes);
  } catch (const std::exception& e) {
    throw DataError("checkpoint " + path + ": cannot serialize (" + brief(e) + ")");
  }
  // A kill or a failed write must not leave a half checkpoint under `path`: `harness run`
  // and a rerun of pretrain (which reuses a checkpoint with the same settings) would trust it.
  ReplacingFile staged(path);
  {
    std::ofstream out(staged.temp_path(), std::ios::binary | std::ios::trunc);
    const std::string data = bytes.str();
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    out.close();
    if (!out) throw DataError("checkpoint " + path + ": cannot write " + staged.temp_path() + " (disk full?)");
  }
  if (const std::error_code ec = staged.commit()) {
    throw DataError("checkpoint " + path + ": cannot move the written file " + staged.temp_path() + " onto it (" +
                    ec.message() + ")");
  }
}

std::unique_ptr<Backbone> load_checkpoint(const std::string& path, CheckpointMeta* meta_out) {
  auto archive = open_archive(path);
  const CheckpointMeta meta = read_meta(archive, path);
  std::unique_ptr<BuiltinBackbone> backbone;
  try {
    backbone = make_backbone(ArchSpec{meta.arch, meta.in_channels, meta.image_size});
  } catch (const ConfigError& e) {
    throw DataError("checkpoint " + path + ": " + e.what());
  }
  if (backbone->features() != meta.features) {
    throw DataError("checkpoint " + path + ": records K = " + std::to_string(meta.features) + " but architecture '" +
                    meta.arch + "' gives " + std::to_string(backbone->features()));
  }
  torch::serialize::InputArchive tensors;
  if (!archive.try_read(kBackboneKey, tensors)) {
    throw DataError("checkpoint " + path + ": no '" + kBackboneKey + "' tensors");
  }
  // Module::load replaces each tensor by the saved one whatever its shape, so shapes are checked
  // against the freshly built architecture afterwards.
  std::vector<std::pair<std::string, std::vector<int64_t>>> expected;
  for (const auto& item : backbone->module().named_parameters(true)) {
    expected.emplace_back(item.key(), item.value().sizes().vec());
  }
  for (const auto& item : backbone->module().named_buffers(true)) {
    expected.emplace_back(item.key(), item.value().sizes().vec());
  }
  try {
    backbone->module().load(tensors);
  } catch (const std::exception& e) {
    throw DataError("checkpoint " + path + ": its tensors do not fit architecture '" + meta.arch + "' (" + brief(e) +
                    ")");
  }
  std::vector<torch::Tensor> loaded = backbone->module().parameters(true);
  for (const auto& b : backbone->module().buffers(true)) loaded.push_back(b);
  for (size_t i = 0; i < expected.size(); ++i) {
    if (loaded[i].sizes().vec() != expected[i].second) {
      throw DataError("checkpoint " + path + ": tensor '" + expected[i].first +
                      "' has the wrong shape for architecture '" + meta.arch + "'");
    }
  }
  if (meta_out) *meta_out = meta;
  return backbone;
}

CheckpointMeta read_checkpoint_meta(const std::string& path) {
  auto archive = open_archive(path);
  return read_meta(archive, path);
}

}  // namespace harness

// Trial checkpoints in torch's archive format: the identity as attributes, the state as tensors.
#include "harness/trial_checkpoint.h"

#include "harness/data/seeded_split.h"
#include "harness/models/backbone.h"
#include "harness/optimizer.h"
#include "harness/replacing_file.h"

#include <harness/strategy.h>

#include <fcntl.h>
#include <torch/torch.h>
#include <unistd.h>

#include <filesystem>
#include <mutex>
#include <sstream>
#include <vector>

namespace harness {
namespace {

// Bump when the content changes: a checkpoint of another format is refused (and the trial restarts).
constexpr const char* kFormat = "harness-trial-checkpoint-1";

std::string message_of(const std::exception& e) {
  if (const auto* c10_error = dynamic_cast<const c10::Error*>(&e)) return c10_error->what_without_backtrace();
  return e.what();
}

c10::List<at::Tensor> tensor_list(const std::vector<torch::Tensor>& tensors) {
  c10::List<at::Tensor> list;
  for (const auto& t : tensors) list.push_back(t.detach());
  return list;
}

// The head's parameters then buffers, named "parameter NAME" / "buffer NAME".
std::vector<std::pair<std::string, torch::Tensor>> head_tensors(sdk::Head& head) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& item : head.named_parameters(/*recurse=*/true)) out.emplace_back("parameter " + item.key(), item.value());
  for (const auto& item : head.named_buffers(/*recurse=*/true)) out.emplace_back("buffer " + item.key(), item.value());
  return out;
}

// The default generator a trial's draws outside its own generators come from (dropout).
std::vector<torch::Generator> default_generators(const torch::Device& device) {
  std::vector<torch::Generator> out{at::detail::getDefaultCPUGenerator()};
  if (!device.is_cpu()) out.push_back(at::globalContext().defaultGenerator(device));
  return out;
}

torch::Tensor generator_state(torch::Generator& gen) {
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get_state();
}

void set_generator_state(torch::Generator& gen, const torch::Tensor& state) {
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state.cpu());
}

// Makes a rename within `folder` durable: without it a crash may lose the new name.
void sync_folder(const std::filesystem::path& folder) {
  if (const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

c10::IValue read_value(torch::serialize::InputArchive& archive, const std::string& path, const char* key) {
  c10::IValue value;
  if (!archive.try_read(key, value)) {
    throw CheckpointRefused(path + ": not a trial checkpoint of this harness (no '" + std::string(key) + "')");
  }
  return value;
}

void check_same(const std::string& path, const char* field, const std::string& saved, const std::string& trial) {
  if (saved != trial) {
    throw CheckpointRefused(path + ": the checkpoint belongs to another trial: its " + field + " is '" + saved +
                            "', this trial's is '" + trial + "'");
  }
}

// Copies `saved` into `live` after checking its shape and type.
void copy_into(const std::string& path, const std::string& what, const torch::Tensor& live, const torch::Tensor& saved) {
  if (!saved.defined() || saved.sizes() != live.sizes() || saved.scalar_type() != live.scalar_type()) {
    std::ostringstream msg;
    msg << path << ": " << what << " is " << (saved.defined() ? saved.sizes() : c10::IntArrayRef{}) << " "
        << (saved.defined() ? c10::toString(saved.scalar_type()) : "undefined") << " in the checkpoint but "
        << live.sizes() << " " << c10::toString(live.scalar_type()) << " in the trial";
    throw CheckpointRefused(msg.str());
  }
  live.copy_(saved);
}

std::vector<torch::Tensor> read_tensors(torch::serialize::InputArchive& archive, const std::string& path,
                                        const char* key) {
  const c10::IValue value = read_value(archive, path, key);
  if (!value.isTensorList()) throw CheckpointRefused(path + ": '" + key + "' is not a list of tensors");
  return value.toTensorVector();
}

void restore_list(const std::string& path, const char* what, const std::vector<torch::Tensor>& live,
                  const std::vector<torch::Tensor>& saved) {
  if (live.size() != saved.size()) {
    throw CheckpointRefused(path + ": the checkpoint has " + std::to_string(saved.size()) + " " + what +
                            " tensors, the trial " + std::to_string(live.size()));
  }
  for (std::size_t i = 0; i < live.size(); ++i) {
    copy_into(path, std::string(what) + " tensor " + std::to_string(i), live[i], saved[i]);
  }
}

}  // namespace

std::string checkpoint_path(const std::string& db_path, int64_t trial_id) {
  return db_path + ".checkpoints/trial-" + std::to_string(trial_id) + ".pt";
}

void remove_checkpoint(const std::string& path) noexcept {
  std::error_code ec;
  std::filesystem::remove(path, ec);
  const std::filesystem::path target(path);
  const std::string temp_prefix = "." + target.filename().string() + ".tmp-";  // ReplacingFile's names
  const std::filesystem::path folder = target.parent_path().empty() ? "." : target.parent_path();
  for (std::filesystem::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().filename().string().rfind(temp_prefix, 0) == 0) std::filesystem::remove(it->path(), ec);
  }
}

int64_t write_checkpoint(const std::string& path, const CheckpointIdentity& identity, int64_t step,
                         const TrialState& state) {
  const std::filesystem::path folder = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!folder.empty()) std::filesystem::create_directories(folder, ec);
  if (ec) throw Error(path + ": cannot create the checkpoint folder: " + ec.message());
  try {
    torch::serialize::OutputArchive archive;
    archive.write("format", c10::IValue(std::string(kFormat)));
    archive.write("config_hash", c10::IValue(identity.config_hash));
    archive.write("trial_id", c10::IValue(identity.trial_id));
    archive.write("strategy", c10::IValue(identity.strategy));
    archive.write("seed", c10::IValue(identity.seed));
    archive.write("params_json", c10::IValue(identity.params_json));
    archive.write("planned_steps", c10::IValue(identity.planned_steps));
    archive.write("plugin_hash", c10::IValue(identity.plugin_hash));
    archive.write("device_type", c10::IValue(identity.device_type));
    archive.write("step", c10::IValue(step));

    archive.write("backbone_parameters", c10::IValue(tensor_list(state.backbone.parameters())));
    archive.write("backbone_buffers", c10::IValue(tensor_list(state.backbone.buffers())));
    c10::List<std::string> head_names;
    std::vector<torch::Tensor> head_values;
    for (const auto& [name, tensor] : head_tensors(state.head)) {
      head_names.push_back(name);
      head_values.push_back(tensor);
    }
    archive.write("head_names", c10::IValue(head_names));
    archive.write("head_tensors", c10::IValue(tensor_list(head_values)));
    torch::serialize::OutputArchive optimizer(archive.compilation_unit());
    state.optimizer.save(optimizer);
    archive.write("optimizer", optimizer);

    std::vector<torch::Tensor> generators{generator_state(state.batches), generator_state(state.flips)};
    for (torch::Generator& gen : default_generators(state.device)) generators.push_back(generator_state(gen));
    archive.write("generators", c10::IValue(tensor_list(generators)));
    archive.write("crop_state", c10::IValue(static_cast<int64_t>(state.crops.state())));
    archive.write("order", c10::IValue(tensor_list({state.order.cpu()})));

    ReplacingFile file(path);
    try {
      archive.save_to(file.temp_path());
    } catch (const std::exception&) {
      // Another run on this database may have removed the folder it found empty: once more.
      if (folder.empty() || std::filesystem::exists(folder)) throw;
      std::filesystem::create_directories(folder);
      archive.save_to(file.temp_path());
    }
    if (const std::error_code commit_error = file.commit()) {
      throw Error(path + ": cannot replace the checkpoint: " + commit_error.message());
    }
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(path + ": cannot write the checkpoint: " + message_of(e));
  }
  sync_folder(folder.empty() ? std::filesystem::path(".") : folder);
  return static_cast<int64_t>(std::filesystem::file_size(path, ec));
}

TrialCheckpoint::TrialCheckpoint(std::string path, int64_t step, std::shared_ptr<torch::serialize::InputArchive> archive)
    : path_(std::move(path)), step_(step), archive_(std::move(archive)) {}

TrialCheckpoint TrialCheckpoint::read(const std::string& path, const CheckpointIdentity& identity,
                                      const torch::Device& device) {
  auto archive = std::make_shared<torch::serialize::InputArchive>();
  try {
    archive->load_from(path, device);
  } catch (const std::exception& e) {
    throw CheckpointRefused(path + ": cannot be read as a trial checkpoint (damaged or not one): " + message_of(e));
  }
  auto text = [&](const char* key) {
    const c10::IValue value = read_value(*archive, path, key);
    if (!value.isString()) throw CheckpointRefused(path + ": '" + key + "' is not text");
    return value.toStringRef();
  };
  auto integer = [&](const char* key) {
    const c10::IValue value = read_value(*archive, path, key);
    if (!value.isInt()) throw CheckpointRefused(path + ": '" + key + "' is not an integer");
    return value.toInt();
  };
  if (const std::string format = text("format"); format != kFormat) {
    throw CheckpointRefused(path + ": checkpoint format '" + format + "', this harness reads '" + kFormat + "'");
  }
  check_same(path, "experiment configuration hash", text("config_hash"), identity.config_hash);
  check_same(path, "trial id", std::to_string(integer("trial_id")), std::to_string(identity.trial_id));
  check_same(path, "strategy", text("strategy"), identity.strategy);
  check_same(path, "seed", std::to_string(integer("seed")), std::to_string(identity.seed));
  check_same(path, "strategy parameters", text("params_json"), identity.params_json);
  check_same(path, "planned steps", std::to_string(integer("planned_steps")), std::to_string(identity.planned_steps));
  check_same(path, "plugin file hash", text("plugin_hash"), identity.plugin_hash);
  check_same(path, "device type", text("device_type"), identity.device_type);
  const int64_t step = integer("step");
  if (step < 1 || step >= identity.planned_steps) {
    throw CheckpointRefused(path + ": step " + std::to_string(step) + " is not within the trial's " +
                            std::to_string(identity.planned_steps) + " steps");
  }
  return TrialCheckpoint(path, step, std::move(archive));
}

void TrialCheckpoint::restore(const TrialState& state) const {
  torch::NoGradGuard no_grad;
  torch::serialize::InputArchive& archive = *archive_;
  restore_list(path_, "backbone parameter", state.backbone.parameters(), read_tensors(archive, path_, "backbone_parameters"));
  restore_list(path_, "backbone buffer", state.backbone.buffers(), read_tensors(archive, path_, "backbone_buffers"));

  const c10::IValue names_value = read_value(archive, path_, "head_names");
  const std::vector<torch::Tensor> head_values = read_tensors(archive, path_, "head_tensors");
  const auto live = head_tensors(state.head);
  std::vector<std::string> names;
  if (names_value.isList()) {
    for (const c10::IValue& name : names_value.toListRef()) names.push_back(name.isString() ? name.toStringRef() : "");
  }
  if (names.size() != live.size() || head_values.size() != live.size()) {
    throw CheckpointRefused(path_ + ": the checkpoint's head has " + std::to_string(names.size()) +
                            " tensors, the trial's " + std::to_string(live.size()));
  }
  for (std::size_t i = 0; i < live.size(); ++i) {
    if (names[i] != live[i].first) {
      throw CheckpointRefused(path_ + ": head tensor " + std::to_string(i) + " is '" + names[i] +
                              "' in the checkpoint, '" + live[i].first + "' in the trial");
    }
    copy_into(path_, "head " + live[i].first, live[i].second, head_values[i]);
  }

  torch::serialize::InputArchive optimizer;
  if (!archive.try_read("optimizer", optimizer)) throw CheckpointRefused(path_ + ": no optimizer state");
  try {
    state.optimizer.load(optimizer);
  } catch (const std::exception& e) {
    throw CheckpointRefused(path_ + ": its optimizer state does not fit the trial's parameters: " + message_of(e));
  }

  std::vector<torch::Generator> generators{state.batches, state.flips};
  for (const torch::Generator& gen : default_generators(state.device)) generators.push_back(gen);
  const std::vector<torch::Tensor> saved = read_tensors(archive, path_, "generators");
  if (saved.size() != generators.size()) {
    throw CheckpointRefused(path_ + ": the checkpoint has " + std::to_string(saved.size()) + " generator states, the trial " +
                            std::to_string(generators.size()));
  }
  try {
    for (std::size_t i = 0; i < generators.size(); ++i) set_generator_state(generators[i], saved[i]);
  } catch (const std::exception& e) {
    throw CheckpointRefused(path_ + ": a generator state does not fit: " + message_of(e));
  }
  const c10::IValue crop_state = read_value(archive, path_, "crop_state");
  if (!crop_state.isInt()) throw CheckpointRefused(path_ + ": 'crop_state' is not an integer");
  state.crops = SplitMix64(static_cast<uint64_t>(crop_state.toInt()));
  const std::vector<torch::Tensor> order = read_tensors(archive, path_, "order");
  if (order.size() != 1 || order[0].scalar_type() != torch::kLong || order[0].dim() != 1) {
    throw CheckpointRefused(path_ + ": 'order' is not one permutation");
  }
  state.order = order[0].to(state.device);
}

}  // namespace harness

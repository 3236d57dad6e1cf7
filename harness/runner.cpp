// The trial runner: records the experiment, its plugins and trials, then claims
// and runs trials until none is left. Several worker processes may share one
// database: the store claims each trial exactly once.
#include "harness/runner.h"

#include "db/store.h"
#include "harness/commands.h"
#include "harness/data/task.h"
#include "harness/device.h"
#include "harness/errors.h"
#include "harness/exception_text.h"
#include "harness/loader/loaded_strategy.h"
#include "harness/loader/strategy_registry.h"
#include "harness/models/checkpoint.h"
#include "harness/models/torchscript_backbone.h"
#include "harness/progress.h"
#include "harness/version.h"
#include "harness/trial.h"
#include "harness/trial_checkpoint.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <thread>

extern char** environ;

namespace harness {
namespace {

std::string host_name() {
  char buf[256] = {0};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

// How this process is recorded as the worker of the trials it claims.
std::string this_worker() { return host_name() + ":" + std::to_string(::getpid()); }

// Everything a process needs to run trials of one experiment.
struct Prepared {
  std::map<std::string, const LoadedStrategy*> strategy_by_label;
  std::map<std::string, sdk::Params> params_by_label;
};

bool same_setting(const std::string& a, const std::string& b) {
  if (a == b) return true;
  try {  // numbers as numbers: "1e-4" is "0.0001"
    std::size_t used_a = 0, used_b = 0;
    const double x = std::stod(a, &used_a), y = std::stod(b, &used_b);
    return used_a == a.size() && used_b == b.size() && x == y;
  } catch (const std::exception&) {
    return false;
  }
}

// A strategy's required [train] settings against the experiment's, before any trial runs.
void check_required_settings(const ExperimentConfig& config, const StrategyEntry& entry, const LoadedStrategy& strategy,
                             const sdk::Params& params) {
  std::map<std::string, std::string> required;
  try {
    required = strategy.required_settings(params);
  } catch (const PluginError& e) {
    throw PluginError("strategy '" + entry.label + "': " + e.what());
  }
  for (const auto& [key, value] : required) {
    const auto it = config.values.find("train." + key);
    if (it == config.values.end()) {
      throw PluginError("strategy '" + entry.label + "' (" + entry.plugin + ") requires [train] " + key +
                        ", which is not a [train] key");
    }
    if (!same_setting(it->second, value)) {
      throw ConfigError("strategy '" + entry.label + "' (" + entry.plugin + ") requires [train] " + key + " = " + value +
                        ", but the experiment sets " + key + " = " + it->second +
                        ": set it so, or run this strategy in an experiment of its own");
    }
  }
}

Prepared prepare_strategies(const ExperimentConfig& config, const StrategyRegistry& registry) {
  Prepared prepared;
  for (const StrategyEntry& entry : config.strategies) {
    const LoadedStrategy& strategy = registry.get(entry.plugin);
    try {
      prepared.params_by_label[entry.label] = resolve_params(strategy, entry.params);
    } catch (const Error& e) {
      throw ConfigError("strategy '" + entry.label + "' (" + entry.plugin + "): " + e.what());
    }
    prepared.strategy_by_label[entry.label] = &strategy;
    check_required_settings(config, entry, strategy, prepared.params_by_label[entry.label]);
  }
  return prepared;
}

std::string params_json(const sdk::Params& params) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : params.values()) j[k] = v;
  return j.dump();
}

// The backbone file's content is part of the configuration: a rerun (or a shard, or a later
// session resuming a study) with a different file under the same path must not mix its trials
// with the recorded ones, so the hash then differs and ensure_experiment refuses the run.
std::string backbone_fingerprint(const ExperimentConfig& config) {
  const std::string& file = config.backbone.checkpoint.empty() ? config.backbone.torchscript : config.backbone.checkpoint;
  if (!std::filesystem::exists(file)) throw ConfigError("backbone file " + file + " does not exist");
  return "\n# backbone file SHA-1: " + sha1_file(file) + "\n";
}

// Records the experiment, plugins and trials (idempotent); returns the experiment id and sets
// `config_hash`. A shard records only its block of the trials; the configuration (and its hash)
// is the same in every shard.
int64_t record_experiment(db::Store& store, const ExperimentConfig& config, const Prepared& prepared,
                          const torch::Device& device, const Shard& shard, std::string& config_hash) {
  db::ExperimentRecord record;
  record.name = config.name;
  record.config_text = config.resolved_text() + backbone_fingerprint(config);
  record.config_hash = sha1_hex(record.config_text);
  config_hash = record.config_hash;
  record.harness_version = harness_version();
  record.git_revision = git_revision();
  record.torch_version = torch_version();
  record.host = host_name();
  record.device = device.str();
  // cuBLAS is deterministic only with a fixed workspace: a CUDA run records the one it had.
  if (device.is_cuda() && config.deterministic) record.device += "; CUBLAS_WORKSPACE_CONFIG=" + cublas_workspace_config();
  record.deterministic = config.deterministic;
  const int64_t experiment_id = store.ensure_experiment(record);

  std::vector<db::TrialSpec> trials;
  for (int64_t seed : config.seeds) {
    for (const StrategyEntry& entry : config.strategies) {
      trials.push_back({entry.label, seed, params_json(prepared.params_by_label.at(entry.label)), config.train.steps});
    }
  }
  store.ensure_trials(experiment_id, shard_subset(trials, shard));
  return experiment_id;
}

std::function<std::unique_ptr<Backbone>()> backbone_factory(const ExperimentConfig& config, const Dataset& train) {
  const int64_t channels = train.images.size(1), size = train.images.size(2);
  if (!config.backbone.checkpoint.empty()) {
    const std::string path = config.backbone.checkpoint;
    const CheckpointMeta meta = read_checkpoint_meta(path);
    if (meta.in_channels != channels || meta.image_size != size) {
      throw ConfigError("backbone " + path + " expects " + std::to_string(meta.in_channels) + "x" +
                        std::to_string(meta.image_size) + " images but data set '" + config.data.dataset + "' has " +
                        std::to_string(channels) + "x" + std::to_string(size));
    }
    return [path] { return load_checkpoint(path); };
  }
  const std::string path = config.backbone.torchscript;
  const BackboneConfig b = config.backbone;
  if (b.in_channels != channels || b.image_size != size) {
    throw ConfigError("[backbone] in_channels/image_size (" + std::to_string(b.in_channels) + "x" +
                      std::to_string(b.image_size) + ") do not match data set '" + config.data.dataset + "' (" +
                      std::to_string(channels) + "x" + std::to_string(size) + ")");
  }
  return [path, b] { return load_torchscript_backbone(path, b.in_channels, b.image_size); };
}

// The message of the exception being handled; one that is not a std::exception can only come from plugin code.
std::string current_exception_message(const LoadedStrategy& strategy) {
  try {
    throw;
  } catch (const std::exception& e) {
    return exception_text(e);
  } catch (...) {
    return "strategy '" + strategy.name() + "' (" + strategy.file() +
           ") threw an exception that is not a std::exception";
  }
}

// The checkpoint a claimed trial resumes from, or nothing (it starts from step 1). Deletes the
// trial's rows after the checkpoint's step (all of them without one). A checkpoint that does not
// fit the trial, or that covers steps the database lacks, is refused with a note naming it.
std::optional<TrialCheckpoint> resume_point(db::Store& store, const std::string& path, const CheckpointIdentity& identity,
                                            const torch::Device& device,
                                            const std::function<void(const std::string&)>& note) {
  std::optional<TrialCheckpoint> checkpoint;
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    try {
      checkpoint = TrialCheckpoint::read(path, identity, device);
    } catch (const CheckpointRefused& e) {
      note(std::string("checkpoint refused: ") + e.what() + "; the trial starts again from step 1");
    }
  }
  const int64_t step = checkpoint ? checkpoint->step() : 0;
  if (const int64_t kept = store.truncate_trial(identity.trial_id, step); kept != step) {
    note("checkpoint refused: " + path + ": it covers steps 1-" + std::to_string(step) + " but the database holds " +
         std::to_string(kept) + " of them; the trial starts again from step 1");
    store.truncate_trial(identity.trial_id, 0);
    checkpoint.reset();
  }
  return checkpoint;
}

// Claims and runs trials in this process until none is left.
void work(const ExperimentConfig& config, const Prepared& prepared, db::Store& store, int64_t experiment_id,
          const std::string& config_hash, const torch::Device& device, bool show_progress) {
  Split data = load_task(config.data);
  for (const std::string& note : data.notes) std::cerr << "data: " << note << "\n";
  for (const auto& [split, part] : {std::pair<const char*, const Dataset*>{"training", &data.train}, {"test", &data.test}}) {
    if (part->size() == 0) {
      throw DataError("data set '" + config.data.dataset + "'" +
                      (config.data.path.empty() ? "" : " (" + config.data.path + ")") + ": the " + split +
                      " split has no images (classes, test_fraction " + std::to_string(config.data.test_fraction) +
                      "): nothing to run a trial on");
    }
  }
  if (config.data.validation_fraction > 0.0 && data.validation.size() == 0) {
    throw DataError("data set '" + config.data.dataset + "'" +
                    (config.data.path.empty() ? "" : " (" + config.data.path + ")") +
                    ": the validation split has no images (validation_fraction " +
                    std::to_string(config.data.validation_fraction) + " of too few training images per class)");
  }
  for (Dataset* part : {&data.train, &data.test, &data.validation}) {
    if (part->size() == 0) continue;
    part->images = part->images.to(device);
    part->labels = part->labels.to(device);
  }
  const auto make_backbone = backbone_factory(config, data.train);
  const std::string worker = this_worker();

  const db::StatusCounts counts = store.status_counts(experiment_id);
  int64_t finished = counts.done + counts.failed;
  std::unique_ptr<Progress> progress;
  if (show_progress) {
    progress = std::make_unique<Progress>("run " + config.name, counts.total(), "trials", 10.0, finished);
  }
  if (progress) progress->update(finished);

  // A sweep's variant with its own learning rate trains with a copy of [train] that has it.
  std::map<std::string, TrainConfig> train_by_label;
  for (const StrategyEntry& entry : config.strategies) {
    if (!entry.lr) continue;
    train_by_label[entry.label] = config.train;
    train_by_label[entry.label].lr = *entry.lr;
  }
  auto note = [&](const std::string& line) {
    if (progress) progress->note(line); else std::cerr << "[" << worker << "] " << line << "\n";
  };
  // A killed trial's rows stay until its checkpoint is read: resume_point() keeps those it covers.
  while (auto trial = store.claim_next_trial(experiment_id, worker, db::EarlierRows::Keep)) {
    const auto start = std::chrono::steady_clock::now();
    TrialInput input;
    const auto own_train = train_by_label.find(trial->strategy);
    input.train = own_train == train_by_label.end() ? &config.train : &own_train->second;
    input.data = &data;
    input.strategy = prepared.strategy_by_label.at(trial->strategy);
    input.params = prepared.params_by_label.at(trial->strategy);
    input.seed = trial->seed;
    input.device = device;
    input.make_backbone = make_backbone;
    const LoadedStrategy& strategy = *prepared.strategy_by_label.at(trial->strategy);
    store.set_trial_plugin(trial->trial_id,
                           store.ensure_plugin(strategy.name(), strategy.version(), strategy.file(), strategy.file_hash()));

    db::StepRecorder recorder = store.recorder(trial->trial_id);
    const std::string label = trial->strategy + " seed " + std::to_string(trial->seed);
    const CheckpointIdentity identity{config_hash,         trial->trial_id,      trial->strategy,
                                      trial->seed,         trial->params_json,   trial->planned_steps,
                                      strategy.file_hash(), c10::DeviceTypeName(device.type(), /*lower_case=*/true)};
    const std::string checkpoint = checkpoint_path(config.db_path, trial->trial_id);
    bool checkpoint_warned = false;
    input.save_checkpoint = [&](int64_t step, const TrialState& state) {
      recorder.flush();  // the database holds every step the checkpoint covers
      try {
        write_checkpoint(checkpoint, identity, step, state);
      } catch (const Error& e) {
        if (!checkpoint_warned) note("trial " + label + ": no checkpoint (the trial goes on): " + e.what());
        checkpoint_warned = true;
      }
    };
    try {
      const std::optional<TrialCheckpoint> resume = resume_point(store, checkpoint, identity, device, note);
      if (resume) {
        note("trial " + label + ": resumed after step " + std::to_string(resume->step()) + " from " + checkpoint);
        input.resume = &*resume;
      }
      const StepSink sink = [&](const db::StepRow& row, const std::vector<db::MetricRow>& metrics) {
        recorder.add(row, metrics);
      };
      const auto on_step = [&](int64_t step) {
        if (progress) progress->update(finished, label + " step " + std::to_string(step) + "/" + std::to_string(config.train.steps));
      };
      try {
        run_trial(input, sink, on_step);
      } catch (const CheckpointRefused& e) {  // it did not fit the fresh trial: nothing ran yet, start over
        note(std::string("checkpoint refused: ") + e.what() + "; the trial starts again from step 1");
        input.resume = nullptr;
        store.truncate_trial(trial->trial_id, 0);
        run_trial(input, sink, on_step);
      }
      recorder.finish(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      const std::string line = "trial " + label + ": done in " +
                               format_duration(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      if (progress) progress->note(line); else std::cerr << "[" << worker << "] " << line << "\n";
    } catch (...) {
      // trial.cpp calls the strategy's make_head and plan itself, so a plugin's throw of any type lands here.
      const std::string error = current_exception_message(strategy);
      recorder.fail(error);
      const std::string line = "trial " + label + ": FAILED: " + error;
      if (progress) progress->note(line); else std::cerr << "[" << worker << "] " << line << "\n";
    }
    remove_checkpoint(checkpoint);  // a finished or failed trial is never resumed
    ++finished;
    if (progress) progress->update(finished);
  }
  if (progress) progress->finish();
}

// Starts `n` worker processes running the same command, waits for them while
// showing the experiment's progress from the database.
void spawn_workers(const RunOptions& options, int threads_each, db::Store& store, int64_t experiment_id,
                   const std::string& name) {
  std::vector<pid_t> pids;
  for (int w = 0; w < options.workers; ++w) {
    std::vector<std::string> argv = options.worker_argv;
    argv.push_back("--worker");
    argv.push_back("--threads");
    argv.push_back(std::to_string(threads_each));
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    pid_t pid = 0;
    if (::posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, cargv.data(), environ) != 0) {
      throw Error("could not start worker process " + std::to_string(w));
    }
    pids.push_back(pid);
  }
  const db::StatusCounts at_start = store.status_counts(experiment_id);
  Progress progress("run " + name + " (" + std::to_string(options.workers) + " workers)", at_start.total(), "trials",
                    10.0, at_start.done + at_start.failed);
  std::size_t running = pids.size();
  while (running > 0) {
    for (auto& pid : pids) {
      if (pid == 0) continue;
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        pid = 0;
        --running;
      }
    }
    const db::StatusCounts counts = store.status_counts(experiment_id);
    progress.update(counts.done + counts.failed, std::to_string(counts.failed) + " failed");
    if (running > 0) std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  progress.finish();
}

// A finished experiment's database is left in rollback-journal mode, which reads anywhere (a read-only
// folder, a committed copy) without -wal/-shm files; only when no other process has it open, and the
// next run switches it back to WAL. A failure here loses nothing: the file stays in WAL.
void leave_wal_for_readers(db::Store& store) {
  try {
    store.database().leave_wal();
  } catch (const DbError& e) {
    std::cerr << "note: the database stays in WAL mode: " << e.what() << "\n";
  }
}

}  // namespace

int run_experiment(const ExperimentConfig& config, const StrategyRegistry& registry, const RunOptions& options) {
  const Prepared prepared = prepare_strategies(config, registry);
  const torch::Device device = select_device(config.device);
  set_deterministic(config.deterministic);
  set_precision(config.train.precision);
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int threads = options.threads > 0 ? options.threads : std::max(1, cores / std::max(1, options.workers));
  set_threads(threads);

  if (auto parent = std::filesystem::path(config.db_path).parent_path(); !parent.empty()) {
    std::filesystem::create_directories(parent);
  }
  db::StoreOptions store_options;
  store_options.recorder.flush_seconds = options.flush_seconds;
  db::Store store = db::Store::open(config.db_path, store_options);
  std::string config_hash;
  const int64_t experiment_id = record_experiment(store, config, prepared, device, options.shard, config_hash);

  if (options.is_worker) {
    work(config, prepared, store, experiment_id, config_hash, device, /*show_progress=*/false);
    return kExitOk;
  }
  const db::StatusCounts before = store.status_counts(experiment_id);
  std::cerr << "run " << config.name << ": " << before.total() << " trials ("
            << (options.shard.whole() ? "" : "shard " + options.shard.str() + " of ") << config.strategies.size()
            << " strategies x " << config.seeds.size() << " seeds), " << before.done << " already done; device "
            << device.str() << ", " << options.workers << " worker(s) x " << threads << " thread(s); db "
            << config.db_path << "\n";
  if (options.workers > 1) {
    spawn_workers(options, threads, store, experiment_id, config.name);
  } else {
    work(config, prepared, store, experiment_id, config_hash, device, /*show_progress=*/true);
  }
  std::error_code ignored;  // the checkpoint folder goes when its last checkpoint has
  std::filesystem::remove(std::filesystem::path(checkpoint_path(config.db_path, 0)).parent_path(), ignored);

  const db::StatusCounts after = store.status_counts(experiment_id);
  const db::RunningTrials running = store.running_trials(experiment_id, this_worker());
  if (after.pending + after.running == 0) leave_wal_for_readers(store);
  // Trials another live process of this host runs are its work, not unfinished work of this run; pending
  // ones, those of a process that died since the last claim, and those of another host nobody here does.
  const int64_t not_finished = after.pending + running.dead + running.other_host_total();
  std::cout << "run " << config.name << ": " << after.done << " done, " << after.failed << " failed, ";
  if (running.live > 0) {
    std::cout << running.live << (running.live == 1 ? " trial" : " trials") << " still running in other processes, ";
  }
  std::cout << not_finished << " not finished (db " << config.db_path << ")\n";
  if (after.pending > 0) {
    std::cerr << "  " << after.pending << " trial(s) pending that no process is running: run again to run them\n";
  }
  if (running.dead > 0) {
    std::cerr << "  " << running.dead << " trial(s) left running by a process of this host that has ended since: run "
              << "again to resume them\n";
  }
  for (const auto& [host, n] : running.other_hosts) {
    std::cerr << "  " << n << " trial(s) running by a process on "
              << (host.empty() ? std::string("an unrecorded host") : "host " + host)
              << ", which this host can neither check nor take over\n";
  }
  if (after.failed > 0) {
    std::cerr << "failed trials:\n";
    for (const db::FailedTrial& f : store.failed_trials(experiment_id)) {
      std::cerr << "  " << f.strategy << " seed " << f.seed << ": " << f.error << "\n";
    }
    return kExitFailedTrials;
  }
  return not_finished > 0 ? kExitFailedTrials : kExitOk;
}

}  // namespace harness

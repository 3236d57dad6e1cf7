// The step loop of one trial. Everything measured here is measured on the
// training batch before the update, as PROTOCOL.md defines it.
#include "harness/trial.h"

#include "harness/data/transforms.h"
#include "harness/device.h"
#include "harness/exception_text.h"
#include "harness/measurements.h"
#include "harness/optimizer.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <map>

namespace harness {
namespace {

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

torch::Generator cpu_generator(uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  return gen;
}

void set_requires_grad(const std::vector<torch::Tensor>& params, bool on) {
  for (const auto& p : params) p.set_requires_grad(on);
}

// Leaves frozen parameters without a gradient, so Adam skips them entirely
// (a zero gradient would still move them through the moment estimates).
void clear_grads(const std::vector<torch::Tensor>& params) {
  for (const auto& p : params) {
    if (p.grad().defined()) p.mutable_grad() = torch::Tensor();
  }
}

std::vector<torch::Tensor> snapshot(const std::vector<torch::Tensor>& params) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> copies;
  copies.reserve(params.size());
  for (const auto& p : params) copies.push_back(p.detach().clone());
  return copies;
}

// The summed cross-entropy and the count of correct predictions over a split, as a float64 [2]
// tensor left on the device: an evaluation copies the sums of all its splits to the host at once.
torch::Tensor evaluation_sums(Backbone& backbone, sdk::Head& head, const torch::Tensor& images,
                              const torch::Tensor& labels, int64_t batch_size, Precision precision) {
  torch::NoGradGuard no_grad;
  backbone.train(false);
  head.train(false);
  const int64_t n = labels.size(0);
  const auto on_device = torch::TensorOptions().device(labels.device());
  auto loss_sum = torch::zeros({}, on_device.dtype(torch::kFloat64));
  auto correct = torch::zeros({}, on_device.dtype(torch::kLong));
  for (int64_t begin = 0; begin < n; begin += batch_size) {
    const int64_t end = std::min(n, begin + batch_size);
    torch::Tensor logits;
    {
      const AutocastScope autocast(precision, labels.device());
      logits = head.forward(backbone.forward(images.slice(0, begin, end)));
    }
    logits = logits.to(torch::kFloat32);
    const auto y = labels.slice(0, begin, end);
    loss_sum += torch::nn::functional::cross_entropy(
                    logits, y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                    .to(torch::kFloat64);
    correct += logits.argmax(1).eq(y).sum();
  }
  return torch::stack({loss_sum, correct.to(torch::kFloat64)});
}

// An evaluation set: a split, or the subset of it fixed by a trial's seed (max_test_examples).
struct EvalSet {
  torch::Tensor images, labels;
  int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
};

EvalSet evaluation_set(const Dataset& split, int64_t max_examples, uint64_t seed, const torch::Device& device) {
  EvalSet set{split.images, split.labels};
  if (max_examples > 0 && max_examples < set.size()) {
    auto gen = cpu_generator(seed);
    const auto keep = torch::randperm(set.size(), gen, torch::kLong).slice(0, 0, max_examples).to(device);
    set.images = set.images.index_select(0, keep);
    set.labels = set.labels.index_select(0, keep);
  }
  return set;
}

// Slots of the one float64 vector a training step copies to the host.
// The loss terms (and the objective, under label smoothing) follow them, then the drift parts.
enum Measured : int64_t { kLoss, kTrainAcc, kZeta, kCross, kFeatureVariance, kFeatureGradEnergy, kFixedSlots };

// The training split's features under the pretrained backbone, for data-dependent heads:
// computed on the first request (eval mode, no gradient, in batches) and kept for the trial.
class TrainingFeatureSource final : public sdk::FeatureSource {
 public:
  TrainingFeatureSource(Backbone& backbone, const Dataset& train, uint64_t seed, int64_t batch_size,
                        Precision precision)
      : backbone_(backbone), train_(train), seed_(seed), batch_size_(batch_size), precision_(precision) {}

  sdk::TrainingFeatures get(int64_t max_examples) override {
    if (max_examples < 0) throw std::invalid_argument("training features: max_examples must be >= 0");
    const int64_t n = train_.size();
    const int64_t m = max_examples == 0 || max_examples >= n ? n : max_examples;
    if (auto it = cache_.find(m); it != cache_.end()) return it->second;
    torch::NoGradGuard no_grad;
    torch::Tensor images = train_.images, labels = train_.labels;
    if (m < n) {  // a subset fixed by the trial's seed: the same for every strategy of a seed
      auto gen = cpu_generator(seed_);
      const auto keep = torch::randperm(n, gen, torch::kLong).slice(0, 0, m).to(labels.device());
      images = images.index_select(0, keep);
      labels = labels.index_select(0, keep);
    }
    backbone_.train(false);
    std::vector<torch::Tensor> parts;
    for (int64_t begin = 0; begin < m; begin += batch_size_) {
      const AutocastScope autocast(precision_, images.device());
      parts.push_back(backbone_.forward(images.slice(0, begin, std::min(m, begin + batch_size_))).to(torch::kFloat32));
    }
    sdk::TrainingFeatures out{parts.empty() ? torch::zeros({0, 0}) : torch::cat(parts), labels};
    cache_.emplace(m, out);
    return out;
  }

 private:
  Backbone& backbone_;
  const Dataset& train_;
  uint64_t seed_;
  int64_t batch_size_;
  Precision precision_;
  std::map<int64_t, sdk::TrainingFeatures> cache_;
};

}  // namespace

TrialSeeds TrialSeeds::from(int64_t seed) {
  const uint64_t base = splitmix64(static_cast<uint64_t>(seed) ^ 0x5EED5EED5EED5EEDULL);
  return {splitmix64(base + 1), splitmix64(base + 2), splitmix64(base + 3), splitmix64(base + 4),
          splitmix64(base + 5), splitmix64(base + 6), splitmix64(base + 7)};
}

bool is_eval_step(const TrainConfig& train, int64_t step) {
  return step <= train.dense_eval_steps || step % train.eval_every == 0 || step == train.steps;
}

void run_trial(const TrialInput& input, const StepSink& sink, const std::function<void(int64_t)>& on_step) {
  const TrainConfig& cfg = *input.train;
  const Dataset& train_set = input.data->train;
  const TrialSeeds seeds = TrialSeeds::from(input.seed);
  const auto device = input.device;

  // Evaluation sets: the whole test split, or a subset fixed by the seed; the validation split
  // (when the task has one) likewise, with a subset of its own seed.
  EvalSet test_set = evaluation_set(input.data->test, cfg.max_test_examples, seeds.eval_subset, device);
  EvalSet validation_set =
      evaluation_set(input.data->validation, cfg.max_test_examples, seeds.validation_subset, device);
  const torch::MemoryFormat layout = torch_memory_format(cfg.memory_format);
  for (EvalSet* set : {&test_set, &validation_set}) {
    if (set->size() > 0) set->images = set->images.contiguous(layout);
  }

  std::unique_ptr<Backbone> backbone = input.make_backbone();
  backbone->to(device);
  // The model as the strategy sees it: the backbone's blocks from the input up, then the head.
  const std::vector<ParameterGroup> blocks = backbone->parameter_groups();
  std::vector<torch::Tensor> backbone_params;
  sdk::ModelInfo model;
  for (const ParameterGroup& block : blocks) {
    int64_t count = 0;
    for (const auto& p : block.parameters) count += p.numel();
    model.groups.push_back({block.name, count, false});
    backbone_params.insert(backbone_params.end(), block.parameters.begin(), block.parameters.end());
  }
  to_memory_format(backbone_params, cfg.memory_format);  // before the snapshot: the copies keep the layout
  const std::vector<torch::Tensor> pretrained = snapshot(backbone_params);

  sdk::HeadSpec spec;
  spec.features = backbone->features();
  spec.classes = train_set.num_classes;
  spec.learning_rate = cfg.lr;
  spec.batch_size = cfg.batch_size;
  spec.total_steps = cfg.steps;
  spec.seed = seeds.head;
  spec.model = model;
  TrainingFeatureSource feature_source(*backbone, train_set, seeds.feature_subset, cfg.eval_batch_size, cfg.precision);
  spec.training_features = &feature_source;
  torch::manual_seed(seeds.head);  // the SDK promises a seeded default generator
  std::shared_ptr<sdk::Head> head;
  try {
    head = input.strategy->make_head(spec, input.params);  // never null: the loader checks
  } catch (const std::exception& e) {
    throw TrialFailure("failed to build the head: " + exception_text(e));
  }
  head->to(device);
  const std::vector<torch::Tensor> head_params = head->parameters();
  int64_t head_count = 0;
  for (const auto& p : head_params) head_count += p.numel();
  model.groups.push_back({"head", head_count, true});
  const std::size_t head_group = model.groups.size() - 1;

  // One optimizer group per block and one for the head, so a plan can scale or freeze each.
  std::vector<std::vector<torch::Tensor>> optimizer_groups;
  for (const ParameterGroup& block : blocks) optimizer_groups.push_back(block.parameters);
  optimizer_groups.push_back(head_params);
  GroupOptimizer optimizer(cfg.optimizer, optimizer_groups, cfg.lr, cfg.weight_decay);

  auto batch_gen = cpu_generator(seeds.batches);
  auto flip_gen = cpu_generator(seeds.flips);
  // Crop boxes come from their own stream, so turning crops on leaves the flips as they were.
  SplitMix64 crop_rng(seeds.crops);
  const bool flips = cfg.hflip || cfg.augment != Augment::None;
  const int64_t n_train = train_set.size();
  if (n_train == 0) throw TrialFailure("the training split has no images: nothing to fine-tune on");
  if (test_set.size() == 0) throw TrialFailure("the test split has no images: nothing to evaluate on");
  const int64_t batch = std::min(cfg.batch_size, n_train);
  const int64_t batches_per_epoch = n_train / batch;
  const int64_t classes = train_set.num_classes;
  torch::Tensor order;
  std::vector<bool> trains(model.groups.size());

  const TrialState state{*backbone, *head, optimizer, batch_gen, flip_gen, crop_rng, order, device};
  int64_t first_step = 1;
  if (input.resume) {
    input.resume->restore(state);
    first_step = input.resume->step() + 1;
  }
  auto last_checkpoint = std::chrono::steady_clock::now();
  auto checkpoint_due = [&](int64_t step) {
    if (!input.save_checkpoint || step >= cfg.steps) return false;  // the trial finishes next
    if (cfg.checkpoint_every > 0 && step % cfg.checkpoint_every == 0) return true;
    return cfg.checkpoint_seconds > 0 &&
           std::chrono::duration<double>(std::chrono::steady_clock::now() - last_checkpoint).count() >=
               cfg.checkpoint_seconds;
  };

  for (int64_t step = first_step; step <= cfg.steps; ++step) {
    const auto t0 = std::chrono::steady_clock::now();
    const int64_t slot = (step - 1) % batches_per_epoch;
    if (slot == 0) order = torch::randperm(n_train, batch_gen, torch::kLong).to(device);
    const auto index = order.slice(0, slot * batch, (slot + 1) * batch);
    auto x = train_set.images.index_select(0, index);
    const auto y = train_set.labels.index_select(0, index);
    if (cfg.augment == Augment::CropFlip) x = random_resized_crop(x, crop_rng);
    if (flips) {
      const auto flip = torch::rand({batch}, flip_gen).lt(0.5).to(device).view({-1, 1, 1, 1});
      x = torch::where(flip, x.flip({3}), x);
    }
    x = x.contiguous(layout);

    const sdk::StepContext context{step, cfg.steps, &model};
    const sdk::StepPlan plan = input.strategy->plan(context, input.params);
    if (!plan.groups.empty() && plan.groups.size() != model.groups.size()) {
      throw TrialFailure(input.strategy->where() + ": its plan for step " + std::to_string(step) +
                         " has " + std::to_string(plan.groups.size()) + " group entries, the model has " +
                         std::to_string(model.groups.size()) + " groups");
    }
    auto group_plan = [&](std::size_t g) { return plan.groups.empty() ? sdk::GroupPlan{} : plan.groups[g]; };
    bool backbone_trains = false;
    for (std::size_t g = 0; g < model.groups.size(); ++g) {
      trains[g] = (g == head_group ? plan.train_head : plan.train_backbone) && group_plan(g).trains;
      if (g != head_group) backbone_trains = backbone_trains || trains[g];
    }
    // A frozen block runs in eval mode: its BN statistics stay as pretrained.
    backbone->train(backbone_trains);
    for (std::size_t g = 0; g < blocks.size(); ++g) {
      set_requires_grad(blocks[g].parameters, trains[g]);
      if (backbone_trains && !trains[g]) blocks[g].train(false);
    }
    set_requires_grad(head_params, trains[head_group]);
    head->train(true);

    torch::Tensor features, logits;
    {
      const AutocastScope autocast(cfg.precision, device);
      if (backbone_trains) {
        features = backbone->forward(x);
        features.retain_grad();
      } else {
        {
          torch::NoGradGuard no_grad;
          features = backbone->forward(x);
        }
        features.requires_grad_(true);  // the error reaching X^L is measured either way
      }
      logits = head->forward(features);
    }
    logits = logits.to(torch::kFloat32);  // no-op in fp32; the loss and measurements in fp32 under bf16
    // The measurements of PROTOCOL.md are defined on the plain cross-entropy; the objective
    // adds label smoothing and the strategy's loss terms.
    const auto loss = torch::nn::functional::cross_entropy(logits, y);
    torch::Tensor objective =
        cfg.label_smoothing > 0
            ? torch::nn::functional::cross_entropy(
                  logits, y, torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(cfg.label_smoothing))
            : loss;
    const sdk::LossInputs loss_inputs{logits, y, features, backbone_params, pretrained, head_params, step};
    const std::map<std::string, torch::Tensor> terms = input.strategy->loss_terms(loss_inputs, input.params);
    for (const auto& [name, term] : terms) {
      if (!term.defined() || term.numel() != 1) {
        throw TrialFailure(input.strategy->where() + ": loss term '" + name + "' is not a scalar");
      }
      objective = objective + term.reshape({}).to(torch::kFloat32);
    }

    // Every measurement stays on the device until the one copy after the update.
    std::vector<torch::Tensor> measured(kFixedSlots);
    {
      torch::NoGradGuard no_grad;
      measured[kLoss] = loss.detach().to(torch::kFloat64);
      measured[kTrainAcc] = logits.argmax(1).eq(y).to(torch::kFloat64).mean();
      const auto energy = error_energy_on_device(logits, y);
      measured[kZeta] = energy[0];
      measured[kCross] = energy[1];
      measured[kFeatureVariance] = feature_variance_on_device(features);
      for (const auto& [name, term] : terms) measured.push_back(term.detach().reshape({1}).to(torch::kFloat64));
      if (cfg.label_smoothing > 0) measured.push_back(objective.detach().reshape({1}).to(torch::kFloat64));
    }

    clear_grads(backbone_params);
    clear_grads(head_params);
    objective.backward();
    measured[kFeatureGradEnergy] = feature_grad_energy_on_device(features.grad());
    const double base_lr = cfg.lr * schedule_factor(cfg.optimizer, step, cfg.steps) * plan.lr_scale;
    for (std::size_t g = 0; g < model.groups.size(); ++g) {
      const auto& params = g == head_group ? head_params : blocks[g].parameters;
      if (!trains[g]) clear_grads(params);  // no gradient: the optimizer skips the group entirely
      const sdk::GroupPlan gp = group_plan(g);
      optimizer.set(g, base_lr * gp.lr_scale, cfg.weight_decay * gp.weight_decay_scale);
    }
    optimizer.step();
    const auto drift_parts = squared_distances_on_device(backbone_params, pretrained);
    std::vector<torch::Tensor> flat;
    for (std::size_t i = 0; i < measured.size(); ++i) flat.push_back(measured[i].reshape({1}));
    flat.push_back(drift_parts);
    const auto host = torch::cat(flat).cpu();  // the step's one copy
    const double* v = host.data_ptr<double>();
    if (!std::isfinite(v[kLoss])) {
      throw TrialFailure("training loss became " + std::string(std::isnan(v[kLoss]) ? "NaN" : "infinite") +
                         " at step " + std::to_string(step));
    }

    db::StepRow row;
    row.step = step;
    row.phase = backbone_trains ? (trains[head_group] ? "full" : "backbone") : "head";
    row.lr = base_lr;
    row.train_loss = v[kLoss];
    row.train_acc = v[kTrainAcc];
    const ErrorEnergy energy = ErrorEnergy::from(v[kZeta], v[kCross], classes);
    row.zeta = energy.zeta;
    row.label_energy = energy.label_energy;
    row.cross_energy = energy.cross_energy;
    row.phi = energy.phi;
    row.noise_fraction = energy.noise_fraction;
    row.feature_variance = v[kFeatureVariance];
    row.feature_grad_energy = v[kFeatureGradEnergy];
    const double* drift = v + measured.size();
    row.backbone_drift = l2_from_squared(drift, static_cast<std::size_t>(drift_parts.numel()));
    row.step_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    if (is_eval_step(cfg, step)) {
      const auto e0 = std::chrono::steady_clock::now();
      std::vector<torch::Tensor> sums{
          evaluation_sums(*backbone, *head, test_set.images, test_set.labels, cfg.eval_batch_size, cfg.precision)};
      if (validation_set.size() > 0) {
        sums.push_back(evaluation_sums(*backbone, *head, validation_set.images, validation_set.labels,
                                       cfg.eval_batch_size, cfg.precision));
      }
      const auto host_sums = torch::cat(sums).cpu();  // the evaluation's one copy
      const double* e = host_sums.data_ptr<double>();
      const auto n_test = static_cast<double>(test_set.size());
      row.test_acc = e[1] / n_test;
      row.test_loss = e[0] / n_test;
      if (validation_set.size() > 0) {
        const auto n_validation = static_cast<double>(validation_set.size());
        row.val_acc = e[3] / n_validation;
        row.val_loss = e[2] / n_validation;
      }
      row.eval_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - e0).count();
    }

    std::vector<db::MetricRow> metrics;
    std::size_t slot_of_term = kFixedSlots;
    for (const auto& [name, term] : terms) metrics.push_back({step, "loss/" + name, v[slot_of_term++]});
    if (cfg.label_smoothing > 0) metrics.push_back({step, "loss/objective", v[slot_of_term++]});
    {
      torch::NoGradGuard no_grad;
      for (const auto& [name, value] : head->metrics()) metrics.push_back({step, name, value});
    }
    sink(row, metrics);
    if (on_step) on_step(step);
    if (checkpoint_due(step)) {
      input.save_checkpoint(step, state);
      last_checkpoint = std::chrono::steady_clock::now();
    }
  }
}

}  // namespace harness

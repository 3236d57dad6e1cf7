// The step loop of one trial. Everything measured here is measured on the
// training batch before the update, as PROTOCOL.md defines it.
#include "harness/trial.h"

#include "harness/measurements.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>

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

struct EvalResult {
  double accuracy = 0, loss = 0;
};

EvalResult evaluate(Backbone& backbone, sdk::Head& head, const torch::Tensor& images, const torch::Tensor& labels,
                    int64_t batch_size) {
  torch::NoGradGuard no_grad;
  backbone.train(false);
  head.train(false);
  const int64_t n = labels.size(0);
  double correct = 0, loss_sum = 0;
  for (int64_t begin = 0; begin < n; begin += batch_size) {
    const int64_t end = std::min(n, begin + batch_size);
    const auto logits = head.forward(backbone.forward(images.slice(0, begin, end)));
    const auto y = labels.slice(0, begin, end);
    loss_sum += torch::nn::functional::cross_entropy(
                    logits, y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                    .item<double>();
    correct += logits.argmax(1).eq(y).sum().item<double>();
  }
  return {correct / n, loss_sum / n};
}

}  // namespace

TrialSeeds TrialSeeds::from(int64_t seed) {
  const uint64_t base = splitmix64(static_cast<uint64_t>(seed) ^ 0x5EED5EED5EED5EEDULL);
  return {splitmix64(base + 1), splitmix64(base + 2), splitmix64(base + 3), splitmix64(base + 4)};
}

bool is_eval_step(const TrainConfig& train, int64_t step) {
  return step <= train.dense_eval_steps || step % train.eval_every == 0 || step == train.steps;
}

void run_trial(const TrialInput& input, const StepSink& sink, const std::function<void(int64_t)>& on_step) {
  const TrainConfig& cfg = *input.train;
  const Dataset& train_set = input.data->train;
  const TrialSeeds seeds = TrialSeeds::from(input.seed);
  const auto device = input.device;

  // Evaluation set: the whole test split, or a subset fixed by the seed.
  torch::Tensor test_images = input.data->test.images;
  torch::Tensor test_labels = input.data->test.labels;
  if (cfg.max_test_examples > 0 && cfg.max_test_examples < test_labels.size(0)) {
    auto gen = cpu_generator(seeds.eval_subset);
    const auto keep = torch::randperm(test_labels.size(0), gen, torch::kLong)
                          .slice(0, 0, cfg.max_test_examples)
                          .to(device);
    test_images = test_images.index_select(0, keep);
    test_labels = test_labels.index_select(0, keep);
  }

  std::unique_ptr<Backbone> backbone = input.make_backbone();
  backbone->to(device);
  const std::vector<torch::Tensor> backbone_params = backbone->parameters();
  const std::vector<torch::Tensor> pretrained = snapshot(backbone_params);

  sdk::HeadSpec spec;
  spec.features = backbone->features();
  spec.classes = train_set.num_classes;
  spec.learning_rate = cfg.lr;
  spec.batch_size = cfg.batch_size;
  spec.total_steps = cfg.steps;
  spec.seed = seeds.head;
  torch::manual_seed(seeds.head);  // the SDK promises a seeded default generator
  std::shared_ptr<sdk::Head> head;
  try {
    head = input.strategy->make_head(spec, input.params);
  } catch (const std::exception& e) {
    throw TrialFailure("strategy '" + input.strategy->name() + "' failed to build its head: " + e.what());
  }
  head->to(device);
  const std::vector<torch::Tensor> head_params = head->parameters();

  // Two parameter groups so a strategy's StepPlan can scale or freeze each.
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(backbone_params);
  groups.emplace_back(head_params);
  torch::optim::Adam optimizer(std::move(groups),
                               torch::optim::AdamOptions(cfg.lr).weight_decay(cfg.weight_decay));

  auto batch_gen = cpu_generator(seeds.batches);
  auto flip_gen = cpu_generator(seeds.flips);
  const int64_t n_train = train_set.size();
  const int64_t batch = std::min(cfg.batch_size, n_train);
  const int64_t batches_per_epoch = n_train / batch;
  torch::Tensor order;

  for (int64_t step = 1; step <= cfg.steps; ++step) {
    const auto t0 = std::chrono::steady_clock::now();
    const int64_t slot = (step - 1) % batches_per_epoch;
    if (slot == 0) order = torch::randperm(n_train, batch_gen, torch::kLong).to(device);
    const auto index = order.slice(0, slot * batch, (slot + 1) * batch);
    auto x = train_set.images.index_select(0, index);
    const auto y = train_set.labels.index_select(0, index);
    if (cfg.hflip) {
      const auto flip = torch::rand({batch}, flip_gen).lt(0.5).to(device).view({-1, 1, 1, 1});
      x = torch::where(flip, x.flip({3}), x);
    }

    const sdk::StepPlan plan = input.strategy->plan(step, input.params);
    set_requires_grad(backbone_params, plan.train_backbone);
    set_requires_grad(head_params, plan.train_head);
    // A frozen backbone runs in eval mode: its BN statistics stay as pretrained.
    backbone->train(plan.train_backbone);
    head->train(true);

    torch::Tensor features;
    if (plan.train_backbone) {
      features = backbone->forward(x);
      features.retain_grad();
    } else {
      {
        torch::NoGradGuard no_grad;
        features = backbone->forward(x);
      }
      features.requires_grad_(true);  // the error reaching X^L is measured either way
    }
    const auto logits = head->forward(features);
    const auto loss = torch::nn::functional::cross_entropy(logits, y);
    const double loss_value = loss.item<double>();
    if (!std::isfinite(loss_value)) {
      throw TrialFailure("training loss became " + std::string(std::isnan(loss_value) ? "NaN" : "infinite") +
                         " at step " + std::to_string(step));
    }

    db::StepRow row;
    row.step = step;
    row.phase = plan.train_backbone ? (plan.train_head ? "full" : "backbone") : "head";
    row.lr = cfg.lr * plan.lr_scale;
    row.train_loss = loss_value;
    {
      torch::NoGradGuard no_grad;
      const ErrorEnergy energy = error_energy(logits, y);
      row.zeta = energy.zeta;
      row.label_energy = energy.label_energy;
      row.cross_energy = energy.cross_energy;
      row.phi = energy.phi;
      row.noise_fraction = energy.noise_fraction;
      row.train_acc = logits.argmax(1).eq(y).to(torch::kFloat64).mean().item<double>();
      row.feature_variance = feature_variance(features);
    }

    clear_grads(backbone_params);
    clear_grads(head_params);
    loss.backward();
    row.feature_grad_energy = feature_grad_energy(features.grad());
    if (!plan.train_backbone) clear_grads(backbone_params);
    if (!plan.train_head) clear_grads(head_params);
    for (auto& group : optimizer.param_groups()) {
      static_cast<torch::optim::AdamOptions&>(group.options()).lr(row.lr);
    }
    optimizer.step();
    row.backbone_drift = l2_distance(backbone_params, pretrained);
    row.step_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    if (is_eval_step(cfg, step)) {
      const auto e0 = std::chrono::steady_clock::now();
      const EvalResult eval = evaluate(*backbone, *head, test_images, test_labels, cfg.eval_batch_size);
      row.test_acc = eval.accuracy;
      row.test_loss = eval.loss;
      row.eval_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - e0).count();
    }

    std::vector<db::MetricRow> metrics;
    {
      torch::NoGradGuard no_grad;
      for (const auto& [name, value] : head->metrics()) metrics.push_back({step, name, value});
    }
    sink(row, metrics);
    if (on_step) on_step(step);
  }
}

}  // namespace harness

// Pretraining loop: Adam, cross-entropy on a linear head (plus the optional auxiliary binary head),
// seeded shuffling, per-epoch source test accuracy and throughput.
#include "harness/models/pretrain.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <sstream>
#include <thread>

#include "harness/errors.h"
#include "harness/limits.h"

#ifndef HARNESS_VERSION
#define HARNESS_VERSION "unknown"
#endif

namespace harness {
namespace {

constexpr int64_t kEvalBatch = 128;  // small batches stay in cache: 2x faster than 1024
// Separates the partition's random stream from the batch order's, which uses the seed itself.
constexpr uint64_t kPartitionStream = 0x9E3779B97F4A7C15ull;

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

torch::Device parse_device(const std::string& text) {
  torch::Device device(torch::kCPU);
  try {
    device = torch::Device(text);
  } catch (const std::exception&) {
    throw ConfigError("pretrain: unknown device '" + text + "' (expected cpu, cuda or cuda:K)");
  }
  if (device.is_cuda() && !torch::cuda::is_available()) {
    throw ConfigError("pretrain: device '" + text + "' asked for but CUDA is not available");
  }
  return device;
}

void check_split(const Dataset& d, const std::string& which, const ArchSpec& arch, int64_t num_classes) {
  const std::string name = which + " split of '" + d.origin + "'";
  if (d.size() == 0) throw DataError("pretrain: the " + name + " is empty");
  const auto& x = d.images;
  if (x.dim() != 4 || x.size(0) != d.size() || x.size(1) != arch.in_channels || x.size(2) != arch.image_size ||
      x.size(3) != arch.image_size) {
    std::ostringstream shape;
    shape << x.sizes();
    throw DataError("pretrain: the " + name + " has images " + shape.str() + ", expected [" + std::to_string(d.size()) +
                    ", " + std::to_string(arch.in_channels) + ", " + std::to_string(arch.image_size) + ", " +
                    std::to_string(arch.image_size) + "]");
  }
  const int64_t lo = d.labels.min().item<int64_t>(), hi = d.labels.max().item<int64_t>();
  if (lo < 0 || hi >= num_classes) {
    throw DataError("pretrain: the " + name + " has labels in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                    "], expected [0, " + std::to_string(num_classes) + ")");
  }
}

double evaluate_accuracy(Backbone& backbone, torch::nn::Linear& head, const Dataset& data,
                         const torch::Device& device) {
  torch::NoGradGuard no_grad;
  backbone.train(false);
  head->eval();
  int64_t correct = 0;
  for (int64_t start = 0; start < data.size(); start += kEvalBatch) {
    const int64_t end = std::min(start + kEvalBatch, data.size());
    const auto x = data.images.slice(0, start, end).to(device);
    const auto y = data.labels.slice(0, start, end).to(device);
    correct += head->forward(backbone.forward(x)).argmax(1).eq(y).sum().item<int64_t>();
  }
  return static_cast<double>(correct) / static_cast<double>(data.size());
}

std::string number_text(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

}  // namespace

void check_pretrain_options(const PretrainOptions& o) {
  const auto& archs = arch_names();
  if (std::find(archs.begin(), archs.end(), o.arch.arch) == archs.end()) {
    std::string known;
    for (const auto& a : archs) known += (known.empty() ? "" : ", ") + a;
    throw ConfigError("pretrain: unknown architecture (--arch) '" + o.arch.arch + "', expected one of " + known);
  }
  if (o.epochs < 1) throw ConfigError("pretrain: epochs (--epochs) must be >= 1, got " + std::to_string(o.epochs));
  if (o.batch_size < 1) {
    throw ConfigError("pretrain: batch size (--batch-size) must be >= 1, got " + std::to_string(o.batch_size));
  }
  if (!(o.lr > 0 && o.lr <= kMaxLearningRate)) {
    throw ConfigError("pretrain: learning rate (--lr) must be in (0, " + number_text(kMaxLearningRate) + "], got " +
                      number_text(o.lr));
  }
  if (!(o.aux_binary_weight >= 0 && o.aux_binary_weight < 1)) {
    throw ConfigError("pretrain: aux_binary_weight (--aux-binary-weight) must be in [0, 1), got " +
                      number_text(o.aux_binary_weight));
  }
  if (o.threads < 0 || o.threads > kMaxThreads) {
    throw ConfigError("pretrain: threads (--threads) must be 0 (all cores) up to " + std::to_string(kMaxThreads) +
                      ", got " + std::to_string(o.threads));
  }
}

std::vector<int64_t> aux_binary_partition(int64_t num_classes, uint64_t seed) {
  if (num_classes < 2) {
    throw ConfigError("pretrain: the auxiliary binary task needs at least 2 source classes, got " +
                      std::to_string(num_classes));
  }
  auto gen = at::detail::createCPUGenerator(seed ^ kPartitionStream);
  const auto order = torch::randperm(num_classes, gen, torch::kLong);
  std::vector<int64_t> side(num_classes, 0);
  for (int64_t i = 0; i < num_classes / 2; ++i) side[order[i].item<int64_t>()] = 1;
  return side;
}

PretrainResult pretrain(const PretrainOptions& options, const Split& source,
                        const std::function<void(const PretrainProgress&)>& on_progress) {
  const auto t0 = Clock::now();
  torch::AutoGradMode grad_on(true);  // a caller's NoGradGuard must not silently break training
  check_pretrain_options(options);
  const torch::Device device = parse_device(options.device);
  const int64_t num_classes = source.train.num_classes;
  if (num_classes < 2) {
    throw DataError("pretrain: source '" + source.train.origin + "' has " + std::to_string(num_classes) +
                    " classes, need at least 2");
  }
  check_split(source.train, "train", options.arch, num_classes);
  check_split(source.test, "test", options.arch, num_classes);
  const int threads =
      options.threads > 0 ? options.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(threads);

  // Initialization draws from the default generator; the batch order from its own generator.
  torch::manual_seed(options.seed);
  std::unique_ptr<BuiltinBackbone> backbone = make_backbone(options.arch);
  torch::nn::Linear head(backbone->features(), num_classes);
  const bool use_aux = options.aux_binary_weight > 0;
  torch::nn::Linear aux_head{nullptr};
  std::vector<int64_t> partition;
  torch::Tensor side_of_class;
  if (use_aux) {
    aux_head = torch::nn::Linear(backbone->features(), 2);
    partition = aux_binary_partition(num_classes, options.seed);
    side_of_class = torch::tensor(partition, torch::kLong).to(device);
  }
  backbone->to(device);
  head->to(device);
  if (use_aux) aux_head->to(device);

  std::vector<torch::Tensor> params = backbone->parameters();
  for (const auto& p : head->parameters()) params.push_back(p);
  if (use_aux) {
    for (const auto& p : aux_head->parameters()) params.push_back(p);
  }
  torch::optim::Adam optimizer(params, torch::optim::AdamOptions(options.lr));

  const auto train_images = source.train.images.to(device);
  const auto train_labels = source.train.labels.to(device);
  const int64_t n = source.train.size();
  const int64_t steps_per_epoch = (n + options.batch_size - 1) / options.batch_size;
  auto batch_gen = at::detail::createCPUGenerator(options.seed);
  const double b = options.aux_binary_weight;

  PretrainResult result;
  double train_seconds = 0.0;
  int64_t images_seen = 0;
  PretrainProgress progress;
  progress.epochs = options.epochs;
  progress.steps_per_epoch = steps_per_epoch;
  for (int64_t epoch = 1; epoch <= options.epochs; ++epoch) {
    progress.epoch = epoch;
    const auto order = torch::randperm(n, batch_gen, torch::kLong).to(device);
    backbone->train(true);
    head->train();
    if (use_aux) aux_head->train();
    for (int64_t step = 1; step <= steps_per_epoch; ++step) {
      const auto s0 = Clock::now();
      const int64_t start = (step - 1) * options.batch_size;
      const auto index = order.slice(0, start, std::min(start + options.batch_size, n));
      const auto x = train_images.index_select(0, index);
      const auto y = train_labels.index_select(0, index);
      const auto features = backbone->forward(x);
      auto loss = torch::nn::functional::cross_entropy(head->forward(features), y);
      if (use_aux) {
        // Seed paper 002: (1 - B) CE(y) + B CE(y_b), y_b the side of y's class in the partition.
        const auto y_b = side_of_class.index_select(0, y);
        loss = (1 - b) * loss + b * torch::nn::functional::cross_entropy(aux_head->forward(features), y_b);
      }
      optimizer.zero_grad();
      loss.backward();
      optimizer.step();
      progress.loss = loss.item<double>();  // also waits for the device, so the timing is honest
      train_seconds += seconds_since(s0);
      images_seen += index.size(0);
      if (!std::isfinite(progress.loss)) {
        throw ConfigError("pretrain: the loss became " + std::to_string(progress.loss) + " at epoch " +
                          std::to_string(epoch) + " step " + std::to_string(step) + " (lr " +
                          std::to_string(options.lr) + " too high?)");
      }
      progress.step = step;
      progress.images_per_second = images_seen / std::max(train_seconds, 1e-9);
      progress.elapsed_seconds = seconds_since(t0);
      progress.epoch_end = false;
      progress.test_accuracy = -1.0;
      if (on_progress) on_progress(progress);
    }
    const double accuracy = evaluate_accuracy(*backbone, head, source.test, device);
    result.epoch_test_accuracy.push_back(accuracy);
    progress.epoch_end = true;
    progress.test_accuracy = accuracy;
    progress.elapsed_seconds = seconds_since(t0);
    if (on_progress) on_progress(progress);
  }

  result.test_accuracy = result.epoch_test_accuracy.back();
  result.images_per_second = images_seen / std::max(train_seconds, 1e-9);
  result.seconds = seconds_since(t0);
  result.aux_partition = partition;
  CheckpointMeta& meta = result.meta;
  meta.arch = options.arch.arch;
  meta.features = backbone->features();
  meta.in_channels = options.arch.in_channels;
  meta.image_size = options.arch.image_size;
  meta.source_dataset = source.train.origin;
  meta.source_num_classes = num_classes;
  meta.epochs = options.epochs;
  meta.lr = options.lr;
  meta.batch_size = options.batch_size;
  meta.seed = options.seed;
  meta.aux_binary_weight = options.aux_binary_weight;
  meta.source_test_accuracy = result.test_accuracy;
  meta.harness_version = HARNESS_VERSION;
  meta.device = device.str();
  meta.images_per_second = result.images_per_second;
  meta.train_seconds = result.seconds;
  result.backbone = std::move(backbone);
  return result;
}

}  // namespace harness

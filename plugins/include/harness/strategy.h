// The strategy SDK: the one header a strategy plugin includes.
//
// A strategy decides how the new classification head on top of a pretrained
// backbone is initialized and trained. It is compiled into its own shared
// library and exported with HARNESS_EXPORT_STRATEGY(MyStrategy). The harness
// reads the library's ABI tag (a data symbol, so no plugin code runs) and
// requires an exact match before it calls the factory.
#pragma once

#include <torch/nn/module.h>
#include <torch/types.h>
#include <torch/version.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

// Bump on any change to the classes below.
// 2: ABI tag became a data symbol; ParamSpec::choices; sdk::LinearHead.
// 3: parameter groups (ModelInfo, GroupPlan), StepContext for plan(), loss terms,
//    the training split's features for make_head (HeadSpec::training_features), settings a
//    strategy requires (required_settings).
#define HARNESS_SDK_API_VERSION 3

#define HARNESS_SDK_STR_(x) #x
#define HARNESS_SDK_STR(x) HARNESS_SDK_STR_(x)

// Host and plugin share LibTorch and the C++ runtime, so all four must match exactly.
#define HARNESS_SDK_ABI_TAG                                                         \
  "harness-sdk=" HARNESS_SDK_STR(HARNESS_SDK_API_VERSION) ";torch=" TORCH_VERSION \
      ";cxx=" __VERSION__ ";cxx11abi=" HARNESS_SDK_STR(_GLIBCXX_USE_CXX11_ABI)

#define HARNESS_SDK_EXPORT __attribute__((visibility("default")))

namespace harness::sdk {

enum class ParamType { Int, Real, Bool, String };

// A parameter a strategy declares: `harness strategies show NAME` prints these,
// and the host validates an experiment's values against them before a trial starts.
struct ParamSpec {
  std::string name;
  ParamType type = ParamType::Real;
  std::string default_value;  // as written in an experiment file; empty = no default (optional)
  std::string help;
  std::optional<double> min;  // inclusive bounds for Int and Real
  std::optional<double> max;
  std::vector<std::string> choices;  // for String: the allowed values (empty = any)
};

// Resolved parameter values, already validated by the host against parameters().
// A parameter without a default that the experiment does not set is absent (has() is false).
class Params {
 public:
  Params() = default;
  explicit Params(std::map<std::string, std::string> values) : values_(std::move(values)) {}

  bool has(const std::string& name) const { return values_.count(name) != 0; }
  const std::string& text(const std::string& name) const {
    auto it = values_.find(name);
    if (it == values_.end()) throw std::out_of_range("strategy parameter '" + name + "' is not set");
    return it->second;
  }
  double real(const std::string& name) const { return std::stod(text(name)); }
  int64_t integer(const std::string& name) const { return std::stoll(text(name)); }
  bool boolean(const std::string& name) const {
    const std::string& v = text(name);
    return v == "1" || v == "true" || v == "yes" || v == "on";
  }
  const std::map<std::string, std::string>& values() const { return values_; }

 private:
  std::map<std::string, std::string> values_;
};

// One named block of the model's trainable parameters, as the host describes it: the
// backbone's blocks from the input up (the built-in architectures name their stages, a
// TorchScript backbone its top-level children), then the head, always last, named "head".
struct GroupInfo {
  std::string name;
  int64_t parameters = 0;  // number of scalar parameters
  bool is_head = false;
};

// The model as parameter groups. Plain data: nothing of the host's internals.
struct ModelInfo {
  std::vector<GroupInfo> groups;  // backbone blocks from the input up, then the head
  int64_t backbone_blocks() const { return groups.empty() ? 0 : static_cast<int64_t>(groups.size()) - 1; }
  // Index of the group named `name`, or -1.
  int64_t find(const std::string& name) const {
    for (std::size_t i = 0; i < groups.size(); ++i) {
      if (groups[i].name == name) return static_cast<int64_t>(i);
    }
    return -1;
  }
};

// Features of the training split under the pretrained backbone (eval mode, no gradient) with
// their labels, computed by the host once per trial on the trial's device.
struct TrainingFeatures {
  torch::Tensor features;  // float32 [M, K]
  torch::Tensor labels;    // int64 [M], in [0, C)
};

// Handed to make_head: asks the host for the training features. `max_examples` 0 = all of the
// training split; otherwise a subset of that size (or all, when fewer), drawn with the trial's
// seed so every strategy of a seed sees the same subset. Throws std::exception on failure.
class FeatureSource {
 public:
  virtual ~FeatureSource() = default;
  virtual TrainingFeatures get(int64_t max_examples) = 0;
};

// What the host knows when it asks for a head.
struct HeadSpec {
  int64_t features = 0;        // K: width of the backbone's feature vector X^L
  int64_t classes = 0;         // C: number of target classes
  double learning_rate = 1e-4; // gamma: the initial learning rate of the fine-tune
  int64_t batch_size = 256;    // N
  int64_t total_steps = 0;     // steps the trial will run
  uint64_t seed = 0;           // the trial's seed; torch's default generator is already seeded from it
  // The training split's features (data-dependent heads: imprinting, a fitted probe). Valid
  // during make_head only; never null when the host calls make_head.
  FeatureSource* training_features = nullptr;
  ModelInfo model;             // the backbone's blocks (the head is the last group)
};

// What a strategy's plan sees at a step.
struct StepContext {
  int64_t step = 1;         // 1-based
  int64_t total_steps = 0;  // steps the trial runs
  const ModelInfo* model = nullptr;  // never null when the host calls plan()
};

// Per parameter group at a step: whether it trains, and multipliers of the experiment's
// learning rate (after its schedule) and weight decay.
struct GroupPlan {
  bool trains = true;
  double lr_scale = 1.0;
  double weight_decay_scale = 1.0;
};

// Which parameter groups train at a step, and how. Group g of ModelInfo trains when its switch
// (train_head for the head, train_backbone for every backbone block) and groups[g].trains are
// both true; its learning rate is lr(step) * lr_scale * groups[g].lr_scale. `groups` is empty
// (every group as the switches say) or holds one entry per group of ModelInfo. A frozen block
// runs in eval mode (its BatchNorm statistics stay as pretrained).
struct StepPlan {
  bool train_backbone = true;
  bool train_head = true;
  double lr_scale = 1.0;
  std::vector<GroupPlan> groups;
};

// What a loss term sees: the training batch (before the update) and the parameters.
struct LossInputs {
  const torch::Tensor& logits;    // [N, C], float32
  const torch::Tensor& labels;    // [N] int64
  const torch::Tensor& features;  // X^L [N, K], in front of the head
  const std::vector<torch::Tensor>& backbone_parameters;  // trainable, in ModelInfo order
  const std::vector<torch::Tensor>& pretrained;           // their values before step 1, same order
  const std::vector<torch::Tensor>& head_parameters;
  int64_t step;
};

// The new head: maps features X^L [N, K] to logits a^L [N, C]. A feature
// transform (FN) belongs inside forward(); the host measures the error that
// reaches X^L itself, in front of any transform. Everything trainable must be a
// registered parameter; fixed tensors are registered buffers (they follow to()).
// Everything a head carries from one step to the next (running statistics, counters)
// must be a registered parameter or buffer too: a trial resumed from a mid-trial
// checkpoint gets a head from make_head (same spec, same seed) and then the saved
// parameters and buffers, nothing else. A plain member keeps make_head's value; that
// is harmless only when every training forward sets it before it is read.
class Head : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(const torch::Tensor& features) = 0;
  // Extra per-step measurements (name -> value), recorded in the metrics table
  // after every step. Called with gradients disabled.
  virtual std::map<std::string, double> metrics() { return {}; }
};

// The plain affine head a^L = X^L W^T + b with W [C, K] ("weight") and b [C]
// ("bias"), both zero; a strategy initializes them (under torch::NoGradGuard)
// in make_head. Most initialization rules need nothing more.
class LinearHead : public Head {
 public:
  LinearHead(int64_t features, int64_t classes)
      : weight_(register_parameter("weight", torch::zeros({checked(classes, "classes"), checked(features, "features")}))),
        bias_(register_parameter("bias", torch::zeros({classes}))) {}
  torch::Tensor forward(const torch::Tensor& features) override {
    return torch::addmm(bias_, features, weight_.t());
  }
  torch::Tensor& weight() { return weight_; }
  torch::Tensor& bias() { return bias_; }

 private:
  static int64_t checked(int64_t n, const char* what) {
    if (n <= 0) throw std::invalid_argument(std::string("head needs a positive number of ") + what);
    return n;
  }
  torch::Tensor weight_;
  torch::Tensor bias_;
};

// A strategy: a tiny stateless description plus a head factory. One instance
// per loaded plugin; heads it creates must not outlive the plugin library
// (the host's LoadedStrategy::make_head guarantees this). Its hooks are const
// functions of their arguments: a strategy keeps no state between calls (no
// mutable or static members). The host calls one instance for many trials, in any
// order, and a trial resumed from a checkpoint calls plan() and loss_terms() from
// the checkpoint's step on, never for the steps before it.
class Strategy {
 public:
  virtual ~Strategy() = default;
  virtual std::string name() const = 0;         // must equal the library's file name without ".so"
  virtual std::string version() const = 0;
  virtual std::string description() const = 0;  // one line
  virtual std::vector<ParamSpec> parameters() const { return {}; }
  // [train] settings this strategy needs, key -> value as an experiment file writes it
  // (e.g. {"optimizer", "sgd"}). The host refuses an experiment whose setting differs before
  // any trial runs, naming the strategy and the key.
  virtual std::map<std::string, std::string> required_settings(const Params& params) const { return {}; }
  // Builds the head for spec.features -> spec.classes. Throw std::exception on bad input.
  virtual std::shared_ptr<Head> make_head(const HeadSpec& spec, const Params& params) const = 0;
  // Which groups train at context.step, with which multipliers. Default: everything, always.
  virtual StepPlan plan(const StepContext& context, const Params& params) const { return {}; }
  // Terms added to the training loss (name -> scalar tensor that autograd can differentiate).
  // Each term's value is recorded every step as metric "loss/NAME"; the per-step measurements
  // stay defined on the plain cross-entropy. Default: none.
  virtual std::map<std::string, torch::Tensor> loss_terms(const LossInputs& inputs, const Params& params) const {
    return {};
  }
};

}  // namespace harness::sdk

// The two symbols the loader imports, by these names, with C linkage: the ABI
// tag is a NUL-terminated char array (data, read before anything runs), the
// factory a function returning a new Strategy the host owns.
#define HARNESS_STRATEGY_ABI_SYMBOL "harness_strategy_abi_tag"
#define HARNESS_STRATEGY_FACTORY_SYMBOL "harness_strategy_create"

// Export a strategy class from a plugin: HARNESS_EXPORT_STRATEGY(MyStrategy)
#define HARNESS_EXPORT_STRATEGY(StrategyClass)                                                         \
  extern "C" HARNESS_SDK_EXPORT const char harness_strategy_abi_tag[] = HARNESS_SDK_ABI_TAG;          \
  extern "C" HARNESS_SDK_EXPORT ::harness::sdk::Strategy* harness_strategy_create() {                  \
    return new StrategyClass();                                                                        \
  }

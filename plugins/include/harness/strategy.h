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
#define HARNESS_SDK_API_VERSION 2

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

// What the host knows when it asks for a head.
struct HeadSpec {
  int64_t features = 0;        // K: width of the backbone's feature vector X^L
  int64_t classes = 0;         // C: number of target classes
  double learning_rate = 1e-4; // gamma: the initial learning rate of the fine-tune
  int64_t batch_size = 256;    // N
  int64_t total_steps = 0;     // steps the trial will run
  uint64_t seed = 0;           // the trial's seed; torch's default generator is already seeded from it
};

// Which parameter groups train at a step (1-based), and a learning-rate factor.
struct StepPlan {
  bool train_backbone = true;
  bool train_head = true;
  double lr_scale = 1.0;
};

// The new head: maps features X^L [N, K] to logits a^L [N, C]. A feature
// transform (FN) belongs inside forward(); the host measures the error that
// reaches X^L itself, in front of any transform. Everything trainable must be a
// registered parameter; fixed tensors are registered buffers (they follow to()).
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
// (the host's LoadedStrategy::make_head guarantees this).
class Strategy {
 public:
  virtual ~Strategy() = default;
  virtual std::string name() const = 0;         // must equal the library's file name without ".so"
  virtual std::string version() const = 0;
  virtual std::string description() const = 0;  // one line
  virtual std::vector<ParamSpec> parameters() const { return {}; }
  // Builds the head for spec.features -> spec.classes. Throw std::exception on bad input.
  virtual std::shared_ptr<Head> make_head(const HeadSpec& spec, const Params& params) const = 0;
  // Which groups train at `step` (1-based). Default: everything from step 1.
  virtual StepPlan plan(int64_t step, const Params& params) const { return {}; }
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

// A feature extractor: images [N, C, H, W] -> features X^L [N, K].
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace harness {

// One named block of a backbone's trainable parameters (a stage of a built-in architecture,
// a top-level child of a TorchScript module), with the switch of its train/eval mode.
struct ParameterGroup {
  std::string name;
  std::vector<torch::Tensor> parameters;
  std::function<void(bool)> train;  // train(true) / eval(false) for this block's modules
};

// What every backbone offers the trial loop, whether a built-in
// architecture (a torch::nn::Module) or a TorchScript module.
class Backbone {
 public:
  virtual ~Backbone() = default;
  virtual torch::Tensor forward(const torch::Tensor& images) = 0;  // -> [N, K]
  virtual std::vector<torch::Tensor> parameters() = 0;              // trainable parameters
  // The tensors that are not parameters but change in training (BatchNorm running statistics),
  // in a fixed order: a trial checkpoint saves them beside parameters(). Default: none.
  virtual std::vector<torch::Tensor> buffers() { return {}; }
  virtual void train(bool on) = 0;
  virtual void to(const torch::Device& device) = 0;
  virtual int64_t features() const = 0;  // K
  virtual std::string describe() const = 0;
  // The trainable parameters as named blocks from the input up; concatenated, in order, they
  // are parameters(). Default: one block, "backbone".
  virtual std::vector<ParameterGroup> parameter_groups() {
    return {{"backbone", parameters(), [this](bool on) { train(on); }}};
  }
};

}  // namespace harness

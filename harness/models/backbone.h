// A feature extractor: images [N, C, H, W] -> features X^L [N, K].
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace harness {

// What every backbone offers the trial loop, whether a built-in
// architecture (a torch::nn::Module) or a TorchScript module.
class Backbone {
 public:
  virtual ~Backbone() = default;
  virtual torch::Tensor forward(const torch::Tensor& images) = 0;  // -> [N, K]
  virtual std::vector<torch::Tensor> parameters() = 0;              // trainable parameters
  virtual void train(bool on) = 0;
  virtual void to(const torch::Device& device) = 0;
  virtual int64_t features() const = 0;  // K
  virtual std::string describe() const = 0;
};

}  // namespace harness

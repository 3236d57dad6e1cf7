// Loading and running TorchScript backbones.
#include "harness/models/torchscript_backbone.h"

#include <filesystem>
#include <sstream>
#include <utility>
#include <vector>

#include "harness/errors.h"
#include "harness/exception_text.h"

namespace harness {
namespace {

std::string shape_text(const torch::Tensor& t) {
  std::ostringstream out;
  out << t.sizes();
  return out.str();
}

// An exception's message without LibTorch's C++ backtrace. The TorchScript interpreter's own
// errors start "The following operation failed in the TorchScript interpreter." and put the
// module's message (its `raise`, or the failing operation's) on the last line, after the
// TorchScript tracebacks: that line is kept, with the innermost place of the original code.
std::string brief(const std::exception& e) {
  const std::string text = exception_text(e);
  std::vector<std::string> lines;
  for (std::size_t begin = 0; begin < text.size();) {
    const std::size_t end = std::min(text.find('\n', begin), text.size());
    if (text.find_first_not_of(" \t\r", begin) < end) lines.push_back(text.substr(begin, end - begin));
    begin = end + 1;
  }
  if (lines.empty()) return "(no message)";
  if (lines.front().rfind("The following operation failed in the TorchScript interpreter", 0) != 0) return lines.front();
  std::string message = lines.back();
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
    const std::size_t at = it->find("File \"");
    if (at != std::string::npos) {
      message += " (at " + it->substr(at) + ")";
      break;
    }
  }
  return message;
}

// The forward output as a tensor, or a DataError naming the file.
torch::Tensor run(torch::jit::Module& module, const torch::Tensor& images, const std::string& path) {
  c10::IValue out;
  try {
    out = module.forward({images});
  } catch (const std::exception& e) {
    throw DataError("TorchScript backbone " + path + ": forward failed on input " + shape_text(images) + ": " +
                    brief(e));
  }
  if (!out.isTensor()) {
    throw DataError("TorchScript backbone " + path + ": forward must return a tensor [N, K], got " + out.tagKind());
  }
  torch::Tensor features = out.toTensor();
  if (features.dim() != 2 || features.size(0) != images.size(0)) {
    throw DataError("TorchScript backbone " + path + ": forward must return features [N, K] for N = " +
                    std::to_string(images.size(0)) + " images, got " + shape_text(features));
  }
  return features;
}

}  // namespace

TorchScriptBackbone::TorchScriptBackbone(std::string path, torch::jit::Module module, int64_t features)
    : path_(std::move(path)), module_(std::move(module)), features_(features) {}

torch::Tensor TorchScriptBackbone::forward(const torch::Tensor& images) { return run(module_, images, path_); }

std::vector<torch::Tensor> TorchScriptBackbone::parameters() {
  std::vector<torch::Tensor> out;
  for (const auto& p : module_.parameters()) out.push_back(p);
  return out;
}

std::vector<torch::Tensor> TorchScriptBackbone::buffers() {
  std::vector<torch::Tensor> out;
  for (const auto& b : module_.buffers()) out.push_back(b);
  return out;
}

void TorchScriptBackbone::train(bool on) { module_.train(on); }

std::vector<ParameterGroup> TorchScriptBackbone::parameter_groups() {
  std::vector<ParameterGroup> groups;
  std::vector<torch::Tensor> own;
  for (const auto& p : module_.parameters(/*recurse=*/false)) own.push_back(p);
  if (!own.empty()) groups.push_back({"root", own, [this](bool on) { module_.train(on); }});
  for (const auto& child : module_.named_children()) {
    std::vector<torch::Tensor> params;
    for (const auto& p : child.value.parameters()) params.push_back(p);
    if (params.empty()) continue;
    torch::jit::Module block = child.value;  // shares the module's storage
    groups.push_back({child.name, params, [block](bool on) mutable { block.train(on); }});
  }
  return groups;
}

void TorchScriptBackbone::to(const torch::Device& device) { module_.to(device); }

std::string TorchScriptBackbone::describe() const {
  return "torchscript " + path_ + " (K=" + std::to_string(features_) + ")";
}

std::unique_ptr<TorchScriptBackbone> load_torchscript_backbone(const std::string& path, int64_t in_channels,
                                                               int64_t image_size, std::optional<int64_t> features) {
  if (in_channels < 1 || image_size < 1) {
    throw ConfigError("TorchScript backbone " + path + ": in_channels and image_size must be positive, got " +
                      std::to_string(in_channels) + " and " + std::to_string(image_size));
  }
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw DataError("TorchScript backbone " + path + ": no such file");
  }
  torch::jit::Module module;
  try {
    module = torch::jit::load(path, torch::kCPU);
  } catch (const std::exception& e) {
    throw DataError("TorchScript backbone " + path + ": not a loadable TorchScript file (" + brief(e) + ")");
  }
  if (!module.find_method("forward")) {
    throw DataError("TorchScript backbone " + path + ": the module has no forward method");
  }

  // Probe in eval mode so BN running statistics are not updated by the dummy batch.
  const bool was_training = module.is_training();
  module.eval();
  int64_t k = 0;
  {
    torch::NoGradGuard no_grad;
    k = run(module, torch::zeros({2, in_channels, image_size, image_size}), path).size(1);
  }
  module.train(was_training);
  if (features && *features != k) {
    throw ConfigError("TorchScript backbone " + path + " returns K = " + std::to_string(k) + " features, expected " +
                      std::to_string(*features));
  }
  if (k < 1) throw DataError("TorchScript backbone " + path + ": forward returns zero features");
  return std::make_unique<TorchScriptBackbone>(path, std::move(module), k);
}

}  // namespace harness

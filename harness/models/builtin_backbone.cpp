// Construction and validation of the built-in architectures.
#include "harness/models/builtin_backbone.h"

#include <regex>
#include <sstream>
#include <utility>

#include "harness/errors.h"
#include "harness/models/convnet.h"
#include "harness/models/resnet.h"
#include "harness/models/vgg.h"

namespace harness {
namespace {

std::string joined_names() {
  std::string out;
  for (const auto& name : arch_names()) out += (out.empty() ? "" : ", ") + name;
  return out;
}

std::string shape_text(const torch::Tensor& t) {
  std::ostringstream out;
  out << t.sizes();
  return out.str();
}

// Wraps a TORCH_MODULE holder; the forward closure keeps the typed holder alive alongside module_.
template <typename Holder>
std::unique_ptr<BuiltinBackbone> wrap(const ArchSpec& spec, Holder net, int64_t features) {
  return std::make_unique<BuiltinBackbone>(spec, features, net.ptr(),
                                           [net](const torch::Tensor& x) mutable { return net->forward(x); });
}

void check_size(const ArchSpec& spec, int64_t min_size) {
  if (spec.image_size < min_size) {
    throw ConfigError("architecture '" + spec.arch + "' needs images of at least " + std::to_string(min_size) + "x" +
                      std::to_string(min_size) + " (its pools halve the size twice), got image_size " +
                      std::to_string(spec.image_size));
  }
}

}  // namespace

const std::vector<std::string>& arch_names() {
  static const std::vector<std::string> names{"convnet", "vgg", "resnet"};
  return names;
}

BuiltinBackbone::BuiltinBackbone(ArchSpec spec, int64_t features, std::shared_ptr<torch::nn::Module> module,
                                 std::function<torch::Tensor(const torch::Tensor&)> forward)
    : spec_(std::move(spec)), features_(features), module_(std::move(module)), forward_(std::move(forward)) {}

torch::Tensor BuiltinBackbone::forward(const torch::Tensor& images) {
  if (images.dim() != 4 || images.size(1) != spec_.in_channels) {
    throw DataError("backbone '" + spec_.arch + "' expects images [N, " + std::to_string(spec_.in_channels) +
                    ", H, W], got " + shape_text(images));
  }
  return forward_(images);
}

std::vector<torch::Tensor> BuiltinBackbone::parameters() { return module_->parameters(); }

std::vector<torch::Tensor> BuiltinBackbone::buffers() { return module_->buffers(); }

void BuiltinBackbone::train(bool on) { module_->train(on); }

std::vector<ParameterGroup> BuiltinBackbone::parameter_groups() {
  static const std::regex numbered("^(conv|bn)([0-9]+)$");
  std::vector<ParameterGroup> groups;
  std::vector<std::vector<std::shared_ptr<torch::nn::Module>>> modules;
  for (const auto& child : module_->named_children()) {
    std::smatch m;
    std::string block = child.key();
    if (std::regex_match(child.key(), m, numbered)) {
      block = "block" + m[2].str();
    } else if (const auto underscore = block.find('_'); underscore != std::string::npos) {
      block = block.substr(0, underscore);
    }
    if (groups.empty() || groups.back().name != block) {
      groups.push_back({block, {}, nullptr});
      modules.emplace_back();
    }
    for (const auto& p : child.value()->parameters()) groups.back().parameters.push_back(p);
    modules.back().push_back(child.value());
  }
  for (std::size_t i = 0; i < groups.size(); ++i) {
    groups[i].train = [blocks = modules[i]](bool on) {
      for (const auto& b : blocks) b->train(on);
    };
  }
  return groups;
}

void BuiltinBackbone::to(const torch::Device& device) { module_->to(device); }

std::string BuiltinBackbone::describe() const {
  int64_t count = 0;
  for (const auto& p : module_->parameters()) count += p.numel();
  return spec_.arch + " (" + std::to_string(spec_.in_channels) + "x" + std::to_string(spec_.image_size) + "x" +
         std::to_string(spec_.image_size) + " -> K=" + std::to_string(features_) + ", " + std::to_string(count) +
         " parameters)";
}

std::unique_ptr<BuiltinBackbone> make_backbone(const ArchSpec& spec) {
  if (spec.in_channels < 1) {
    throw ConfigError("architecture '" + spec.arch + "': in_channels must be >= 1, got " +
                      std::to_string(spec.in_channels));
  }
  if (spec.arch == "convnet") {
    check_size(spec, ConvNetImpl::kMinImageSize);
    return wrap(spec, ConvNet(spec.in_channels), ConvNetImpl::kFeatures);
  }
  if (spec.arch == "vgg") {
    check_size(spec, VggImpl::kMinImageSize);
    return wrap(spec, Vgg(spec.in_channels), VggImpl::kFeatures);
  }
  if (spec.arch == "resnet") {
    check_size(spec, ResNetImpl::kMinImageSize);
    return wrap(spec, ResNet(spec.in_channels), ResNetImpl::kFeatures);
  }
  throw ConfigError("unknown backbone architecture '" + spec.arch + "'; valid names: " + joined_names());
}

}  // namespace harness

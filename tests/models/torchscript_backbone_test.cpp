// Tests of TorchScript backbones, on tiny modules scripted by /usr/bin/python3 (PyTorch, same version line).
#include "harness/models/torchscript_backbone.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "harness/errors.h"

namespace harness {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;

constexpr const char* kPython = "/usr/bin/python3";

// Scripts three modules: `good.pt` (conv 3->8 + BN + ReLU, global average pool, linear 8->16,
// saved fresh so BN running_mean is 0), `not2d.pt` (returns [N, 8, H, W]) and writes the eval-mode
// output of good.pt on a fixed input, one value per line, to `expected.txt`.
constexpr const char* kScript = R"PY(
import sys, torch
out = sys.argv[1]
torch.manual_seed(0)
class Good(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(8)
        self.fc = torch.nn.Linear(8, 16)
    def forward(self, x):
        x = torch.relu(self.bn(self.conv(x)))
        return self.fc(x.mean(dim=(2, 3)))
class NotFlat(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
    def forward(self, x):
        return self.conv(x)
class Raises(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(3, 4)
    def forward(self, x):
        if x.size(2) != 10:
            raise RuntimeError("Raises wants 10x10 images, got " + str(x.size(2)))
        return self.fc(x.mean(dim=(2, 3)))
torch.jit.script(Raises()).save(out + "/raises.pt")
good = torch.jit.script(Good())
good.save(out + "/good.pt")
torch.jit.script(NotFlat()).save(out + "/not2d.pt")
good.eval()
x = torch.linspace(-1, 1, 2 * 3 * 10 * 10).reshape(2, 3, 10, 10)
with torch.no_grad():
    y = good(x)
with open(out + "/expected.txt", "w") as f:
    for v in y.flatten().tolist():
        f.write(repr(v) + "\n")
)PY";

class TorchScriptTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() / ("models_torchscript_test_" + std::to_string(::getpid())));
    fs::create_directories(*dir_);
    const auto script = *dir_ / "make.py";
    std::ofstream(script) << kScript;
    const std::string command = std::string(kPython) + " " + script.string() + " " + dir_->string() + " 2>&1";
    status_ = std::system(command.c_str());
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }
  void SetUp() override {
    ASSERT_TRUE(fs::exists(kPython)) << kPython << " is missing: these tests need Python with PyTorch";
    ASSERT_EQ(status_, 0) << kPython << " failed to script the test modules (is python3-torch installed?)";
  }
  static std::string file(const std::string& name) { return (*dir_ / name).string(); }

  static fs::path* dir_;
  static int status_;
};
fs::path* TorchScriptTest::dir_ = nullptr;
int TorchScriptTest::status_ = -1;

TEST_F(TorchScriptTest, DiscoversKAndMatchesPythonOutputs) {
  auto backbone = load_torchscript_backbone(file("good.pt"), 3, 10);
  EXPECT_EQ(backbone->features(), 16);
  backbone->train(false);
  const auto x = torch::linspace(-1, 1, 2 * 3 * 10 * 10).reshape({2, 3, 10, 10});
  torch::Tensor y;
  {
    torch::NoGradGuard no_grad;
    y = backbone->forward(x);
  }
  ASSERT_EQ(y.sizes(), (std::vector<int64_t>{2, 16}));
  std::ifstream in(file("expected.txt"));
  std::vector<float> expected;
  for (double v; in >> v;) expected.push_back(static_cast<float>(v));
  ASSERT_EQ(expected.size(), 32u);
  EXPECT_TRUE(torch::allclose(y.flatten(), torch::tensor(expected), 1e-5, 1e-6));
}

TEST_F(TorchScriptTest, ParametersAreTheModulesAndTrainable) {
  auto backbone = load_torchscript_backbone(file("good.pt"), 3, 10);
  int64_t count = 0;
  for (const auto& p : backbone->parameters()) {
    count += p.numel();
    EXPECT_TRUE(p.requires_grad());
  }
  EXPECT_EQ(count, (8 * 3 * 9 + 8) + (8 + 8) + (8 * 16 + 16));
  // Gradients reach them through the backbone.
  backbone->train(true);
  backbone->forward(torch::randn({4, 3, 10, 10})).pow(2).sum().backward();
  for (const auto& p : backbone->parameters()) EXPECT_TRUE(p.grad().defined());
}

TEST_F(TorchScriptTest, ProbingForKLeavesBatchNormStatisticsAlone) {
  auto backbone = load_torchscript_backbone(file("good.pt"), 3, 10);
  const auto running_mean = backbone->module().attr("bn").toModule().attr("running_mean").toTensor();
  EXPECT_TRUE(torch::equal(running_mean, torch::zeros({8})));
  EXPECT_TRUE(backbone->module().is_training());  // restored: it was saved in training mode
  // train(true) then a forward does move them: the probe above would have been detected.
  backbone->train(true);
  backbone->forward(torch::randn({4, 3, 10, 10}) + 3);
  EXPECT_FALSE(
      torch::equal(backbone->module().attr("bn").toModule().attr("running_mean").toTensor(), torch::zeros({8})));
}

TEST_F(TorchScriptTest, AModulesOwnErrorIsKeptAndNoBacktraceIsPrinted) {
  auto backbone = load_torchscript_backbone(file("raises.pt"), 3, 10);
  try {
    backbone->forward(torch::zeros({2, 3, 12, 12}));
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    const std::string message = e.what();
    EXPECT_THAT(message, HasSubstr("raises.pt"));
    EXPECT_THAT(message, HasSubstr("Raises wants 10x10 images, got 12"));  // the module's own words
    EXPECT_THAT(message, HasSubstr("(at File \""));  // where in its code (LibTorch 1.13: the .py line)
    EXPECT_THAT(message, Not(HasSubstr("Traceback")));
    EXPECT_THAT(message, Not(HasSubstr("Exception raised from")));         // LibTorch's C++ backtrace
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

TEST_F(TorchScriptTest, GivenKMustAgree) {
  EXPECT_NO_THROW(load_torchscript_backbone(file("good.pt"), 3, 10, 16));
  EXPECT_THROW(load_torchscript_backbone(file("good.pt"), 3, 10, 32), ConfigError);
}

TEST_F(TorchScriptTest, OutputThatIsNot2DIsADataErrorNamingTheFile) {
  try {
    load_torchscript_backbone(file("not2d.pt"), 3, 10);
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_THAT(e.what(), HasSubstr("not2d.pt"));
    EXPECT_THAT(e.what(), HasSubstr("[N, K]"));
  }
}

TEST_F(TorchScriptTest, WrongInputShapeIsADataErrorNamingTheFile) {
  try {
    load_torchscript_backbone(file("good.pt"), 1, 10);  // the module wants 3 channels
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_THAT(e.what(), HasSubstr("good.pt"));
    EXPECT_THAT(e.what(), HasSubstr("forward failed"));
  }
}

TEST_F(TorchScriptTest, MissingOrNonTorchScriptFileIsADataErrorNamingIt) {
  EXPECT_THROW(load_torchscript_backbone(file("absent.pt"), 3, 10), DataError);
  std::ofstream(file("text.pt")) << "not a zip archive";
  try {
    load_torchscript_backbone(file("text.pt"), 3, 10);
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_THAT(e.what(), HasSubstr("text.pt"));
  }
}

}  // namespace
}  // namespace harness

// Tests of LoadedStrategy: each refusal names the file and reason; heads keep their library alive.
#include "harness/loader/loaded_strategy.h"

#include "harness/errors.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace harness {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

const std::string kDir = HARNESS_TEST_PLUGIN_DIR;
const std::string kGood = kDir + "/good/good_plugin.so";

// The PluginError message of loading `file`, or "" if it loaded.
std::string refusal(const std::string& file) {
  try {
    LoadedStrategy::load(file);
  } catch (const PluginError& e) {
    return e.what();
  }
  return "";
}

bool is_loaded(const std::string& file) {
  void* handle = ::dlopen(file.c_str(), RTLD_NOW | RTLD_NOLOAD);
  if (handle) ::dlclose(handle);
  return handle != nullptr;
}

TEST(LoadedStrategy, LoadsAGoodPlugin) {
  auto loaded = LoadedStrategy::load(kGood);
  EXPECT_EQ(loaded->name(), "good_plugin");
  EXPECT_EQ(loaded->version(), "1.2.3");
  EXPECT_EQ(loaded->description(), "test plugin with one parameter of each type");
  EXPECT_EQ(loaded->file(), kGood);
  EXPECT_EQ(loaded->strategy().parameters().size(), 5u);
  EXPECT_EQ(loaded->parameters().size(), 5u);
}

TEST(LoadedStrategy, HashIsTheSha1OfTheFile) {
  auto loaded = LoadedStrategy::load(kGood);
  ASSERT_EQ(loaded->file_hash().size(), 40u);
  // Cross-check against the system tool.
  const std::string cmd = "sha1sum '" + kGood + "'";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  char buf[41] = {};
  ASSERT_EQ(std::fread(buf, 1, 40, pipe), 40u);
  ::pclose(pipe);
  EXPECT_EQ(loaded->file_hash(), std::string(buf, 40));
}

TEST(LoadedStrategy, Sha1OfKnownText) {
  const std::string file = ::testing::TempDir() + "/sha1_abc.txt";
  FILE* f = std::fopen(file.c_str(), "wb");
  std::fputs("abc", f);
  std::fclose(f);
  EXPECT_EQ(sha1_file(file), "a9993e364706816aba3e25717850c26c9cd0d89d");  // FIPS 180 test vector
}

TEST(LoadedStrategy, RefusesMissingFile) {
  EXPECT_THAT(refusal(kDir + "/nowhere/x.so"), AllOf(HasSubstr("nowhere/x.so"), HasSubstr("not found")));
}

TEST(LoadedStrategy, RefusesATextFile) {
  EXPECT_THAT(refusal(kDir + "/bad/not_a_library.so"),
              AllOf(HasSubstr("not_a_library.so"), HasSubstr("not a shared library")));
}

TEST(LoadedStrategy, RefusesAnElfThatIsNotALoadableLibrary) {
  // The test executable itself is ELF but not a dlopen-able module (PIE executables are refused by glibc).
  const std::string self = ::testing::TempDir() + "/fake_plugin.so";
  const std::string cmd = "head -c 64 /proc/self/exe > '" + self + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_THAT(refusal(self), AllOf(HasSubstr("fake_plugin.so"), HasSubstr("not a loadable shared library")));
}

TEST(LoadedStrategy, RefusesAWrongAbiTagBeforeRunningTheFactory) {
  // The factory aborts the process if called: reaching the assertion proves it was not.
  EXPECT_THAT(refusal(kDir + "/bad/wrong_abi.so"),
              AllOf(HasSubstr("wrong_abi.so"), HasSubstr("ABI mismatch"), HasSubstr("harness-sdk=999"),
                    HasSubstr(host_abi_tag())));
  EXPECT_FALSE(is_loaded(kDir + "/bad/wrong_abi.so")) << "a refused plugin must not stay loaded";
}

TEST(LoadedStrategy, NoCodeOfAWrongAbiPluginRunsNotEvenItsStaticConstructors) {
  const std::string plugin = kDir + "/static_init/static_init_wrong_abi.so";
  const std::string marker = ::testing::TempDir() + "/static_init_marker";
  std::filesystem::remove(marker);
  ASSERT_EQ(::setenv("HARNESS_TEST_STATIC_INIT_MARKER", marker.c_str(), 1), 0);
  EXPECT_THAT(refusal(plugin), AllOf(HasSubstr("static_init_wrong_abi.so"), HasSubstr("ABI mismatch")));
  EXPECT_FALSE(std::filesystem::exists(marker)) << "the plugin's static constructor ran before its tag was checked";
  EXPECT_FALSE(is_loaded(plugin));
  // The marker does appear once the library is loaded: the check above can fail.
  void* handle = ::dlopen(plugin.c_str(), RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(handle, nullptr) << ::dlerror();
  ::dlclose(handle);
  EXPECT_TRUE(std::filesystem::exists(marker));
  ::unsetenv("HARNESS_TEST_STATIC_INIT_MARKER");
}

TEST(LoadedStrategy, RefusesATruncatedPluginInsteadOfDyingInDlopen) {
  std::ifstream in(kGood, std::ios::binary);
  const std::string whole(std::istreambuf_iterator<char>(in), {});
  // Half a file: its header and first segments are there, the rest is missing. dlopen of it
  // dies of SIGBUS; the refusal has to come before.
  const std::string cut = ::testing::TempDir() + "/good_plugin.so";
  std::ofstream(cut, std::ios::binary | std::ios::trunc) << whole.substr(0, whole.size() / 2);
  EXPECT_THAT(refusal(cut), AllOf(HasSubstr("good_plugin.so"), HasSubstr("truncated")));
  EXPECT_FALSE(is_loaded(cut));
}

TEST(LoadedStrategy, APluginCallThatThrowsAnythingIsAPluginErrorNamingFileAndCall) {
  const std::string dir = kDir + "/throwing/";
  EXPECT_THAT(refusal(dir + "int_factory.so"),
              AllOf(HasSubstr("int_factory.so"), HasSubstr(HARNESS_STRATEGY_FACTORY_SYMBOL "()"),
                    HasSubstr("not a std::exception")));
  EXPECT_THAT(refusal(dir + "int_version.so"),
              AllOf(HasSubstr("int_version.so"), HasSubstr("version()"), HasSubstr("not a std::exception")));
  EXPECT_THAT(refusal(dir + "throwing_parameters.so"),
              AllOf(HasSubstr("throwing_parameters.so"), HasSubstr("parameters()"),
                    HasSubstr("parameters failed on purpose")));
  for (const char* file : {"int_factory.so", "int_version.so", "throwing_parameters.so"}) {
    EXPECT_FALSE(is_loaded(dir + file)) << file;
  }

  auto loaded = LoadedStrategy::load(dir + "non_std_calls.so");
  sdk::HeadSpec spec;
  spec.features = 4;
  spec.classes = 3;
  const auto message_of = [](auto&& call) -> std::string {
    try {
      call();
    } catch (const PluginError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_THAT(message_of([&] { loaded->make_head(spec, sdk::Params()); }),
              AllOf(HasSubstr("non_std_calls.so"), HasSubstr("make_head"), HasSubstr("not a std::exception")));
  const sdk::ModelInfo model{{{"head", 1, true}}};
  EXPECT_THAT(message_of([&] { loaded->plan({1, 1, &model}, sdk::Params()); }),
              AllOf(HasSubstr("non_std_calls.so"), HasSubstr("plan"), HasSubstr("not a std::exception")));
}

TEST(LoadedStrategy, HostTagNamesApiTorchCompilerAndAbi) {
  const std::string tag = host_abi_tag();
  EXPECT_THAT(tag, AllOf(HasSubstr("harness-sdk=" HARNESS_SDK_STR(HARNESS_SDK_API_VERSION)),
                         HasSubstr("torch=" TORCH_VERSION), HasSubstr("cxx="), HasSubstr("cxx11abi=")));
}

TEST(LoadedStrategy, RefusesMissingFactory) {
  EXPECT_THAT(refusal(kDir + "/bad/no_factory.so"),
              AllOf(HasSubstr("no_factory.so"), HasSubstr("missing symbol"), HasSubstr(HARNESS_STRATEGY_FACTORY_SYMBOL)));
}

TEST(LoadedStrategy, RefusesMissingAbiTag) {
  EXPECT_THAT(refusal(kDir + "/bad/no_abi.so"),
              AllOf(HasSubstr("no_abi.so"), HasSubstr("missing symbol"), HasSubstr(HARNESS_STRATEGY_ABI_SYMBOL)));
}

TEST(LoadedStrategy, RethrowsAThrowingFactoryWithFileAndSymbol) {
  EXPECT_THAT(refusal(kDir + "/bad/throwing_factory.so"),
              AllOf(HasSubstr("throwing_factory.so"), HasSubstr(HARNESS_STRATEGY_FACTORY_SYMBOL),
                    HasSubstr("constructor failed on purpose")));
  EXPECT_FALSE(is_loaded(kDir + "/bad/throwing_factory.so"));
}

TEST(LoadedStrategy, RefusesANameThatDiffersFromTheFile) {
  EXPECT_THAT(refusal(kDir + "/bad/name_mismatch.so"),
              AllOf(HasSubstr("name_mismatch.so"), HasSubstr("some_other_name"), HasSubstr("does not match")));
}

TEST(LoadedStrategy, RefusesADefaultThatDoesNotParse) {
  EXPECT_THAT(refusal(kDir + "/bad/bad_param_default.so"),
              AllOf(HasSubstr("bad_param_default.so"), HasSubstr("steps"), HasSubstr("many"), HasSubstr("int")));
}

TEST(LoadedStrategy, HeadKeepsTheLibraryAliveAfterTheStrategyIsGone) {
  std::shared_ptr<sdk::Head> head;
  {
    auto loaded = LoadedStrategy::load(kGood);
    sdk::HeadSpec spec;
    spec.features = 4;
    spec.classes = 3;
    head = loaded->make_head(spec, sdk::Params(std::map<std::string, std::string>{{"rate", "0.25"}}));
  }
  ASSERT_TRUE(is_loaded(kGood));
  // Calling into the head's plugin code (vtable, forward) after its strategy died.
  const auto out = head->forward(torch::ones({2, 4}));
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{2, 3}));
  EXPECT_FLOAT_EQ(out[0][0].item<float>(), 1.0f);  // 4 features x weight 0.25
  head.reset();
  // The last reference was the head's: the library is unloaded with it, not leaked.
  EXPECT_FALSE(is_loaded(kGood));
}

TEST(LoadedStrategy, MakeHeadFailureIsRethrownWithThePluginName) {
  auto loaded = LoadedStrategy::load(kGood);
  sdk::HeadSpec spec;
  spec.features = 4;
  spec.classes = 13;
  try {
    loaded->make_head(spec, sdk::Params());
    FAIL() << "expected a PluginError";
  } catch (const PluginError& e) {
    EXPECT_THAT(std::string(e.what()), AllOf(HasSubstr("good_plugin"), HasSubstr("13 classes are unlucky")));
  }
}

}  // namespace
}  // namespace harness

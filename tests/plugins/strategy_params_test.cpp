// Tests of resolve_params: unknown keys, ill-typed and out-of-range values, defaults.
#include "harness/loader/strategy_params.h"

#include "harness/errors.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace harness {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

class FakeStrategy final : public sdk::Strategy {
 public:
  std::string name() const override { return "fake"; }
  std::string version() const override { return "0"; }
  std::string description() const override { return "fake"; }
  std::vector<sdk::ParamSpec> parameters() const override {
    return {{"steps", sdk::ParamType::Int, "3", "", 0.0, 10.0, {}},
            {"rate", sdk::ParamType::Real, "0.5", "", 0.0, 1.0, {}},
            {"flag", sdk::ParamType::Bool, "no", "", std::nullopt, std::nullopt, {}},
            {"mode", sdk::ParamType::String, "a", "", std::nullopt, std::nullopt, {"a", "b"}},
            {"label", sdk::ParamType::String, "", "", std::nullopt, std::nullopt, {}}};
  }
  std::shared_ptr<sdk::Head> make_head(const sdk::HeadSpec&, const sdk::Params&) const override { return nullptr; }
};

std::string error_of(const std::map<std::string, std::string>& given) {
  try {
    resolve_params(FakeStrategy(), given);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(ResolveParams, FillsDefaultsAndLeavesOptionalAbsent) {
  const sdk::Params p = resolve_params(FakeStrategy(), {});
  EXPECT_EQ(p.integer("steps"), 3);
  EXPECT_DOUBLE_EQ(p.real("rate"), 0.5);
  EXPECT_EQ(p.text("flag"), "false");  // normalized
  EXPECT_EQ(p.text("mode"), "a");
  EXPECT_FALSE(p.has("label"));
}

TEST(ResolveParams, GivenValuesWin) {
  const sdk::Params p = resolve_params(FakeStrategy(), {{"steps", "10"}, {"rate", "1e-1"}, {"flag", "on"},
                                                        {"mode", "b"}, {"label", "x y"}});
  EXPECT_EQ(p.integer("steps"), 10);
  EXPECT_DOUBLE_EQ(p.real("rate"), 0.1);
  EXPECT_TRUE(p.boolean("flag"));
  EXPECT_EQ(p.text("mode"), "b");
  EXPECT_EQ(p.text("label"), "x y");
}

TEST(ResolveParams, UnknownKeyListsTheDeclaredNames) {
  EXPECT_THAT(error_of({{"stpes", "1"}}), AllOf(HasSubstr("'stpes'"), HasSubstr("fake"), HasSubstr("steps, rate, flag, mode, label")));
}

TEST(ResolveParams, IllTypedValuesNameKeyValueAndType) {
  EXPECT_THAT(error_of({{"steps", "2.5"}}), AllOf(HasSubstr("'steps'"), HasSubstr("'2.5'"), HasSubstr("int")));
  EXPECT_THAT(error_of({{"steps", "3x"}}), AllOf(HasSubstr("'steps'"), HasSubstr("'3x'"), HasSubstr("int")));
  EXPECT_THAT(error_of({{"steps", ""}}), HasSubstr("'steps'"));
  EXPECT_THAT(error_of({{"rate", "half"}}), AllOf(HasSubstr("'rate'"), HasSubstr("'half'"), HasSubstr("real")));
  EXPECT_THAT(error_of({{"rate", "nan"}}), HasSubstr("'rate'"));
  EXPECT_THAT(error_of({{"flag", "maybe"}}), AllOf(HasSubstr("'flag'"), HasSubstr("'maybe'"), HasSubstr("bool")));
  EXPECT_THAT(error_of({{"mode", "c"}}), AllOf(HasSubstr("'mode'"), HasSubstr("'c'"), HasSubstr("one of: a b")));
}

TEST(ResolveParams, OutOfBoundsValuesNameTheRange) {
  EXPECT_THAT(error_of({{"steps", "11"}}), AllOf(HasSubstr("'steps'"), HasSubstr("'11'"), HasSubstr("[0, 10]")));
  EXPECT_THAT(error_of({{"steps", "-1"}}), HasSubstr("[0, 10]"));
  EXPECT_THAT(error_of({{"rate", "1.0001"}}), AllOf(HasSubstr("'rate'"), HasSubstr("[0, 1]")));
  EXPECT_EQ(error_of({{"rate", "1"}, {"steps", "0"}}), "");  // bounds are inclusive
}

TEST(CheckParameterSpecs, RefusesDuplicatesAndBadDefaults) {
  EXPECT_THROW(check_parameter_specs({{"a", sdk::ParamType::Int, "1", "", {}, {}, {}},
                                      {"a", sdk::ParamType::Int, "1", "", {}, {}, {}}}),
               ConfigError);
  EXPECT_THROW(check_parameter_specs({{"a", sdk::ParamType::Int, "20", "", 0.0, 10.0, {}}}), ConfigError);
  EXPECT_NO_THROW(check_parameter_specs({{"a", sdk::ParamType::Int, "", "", 0.0, 10.0, {}}}));
}

}  // namespace
}  // namespace harness

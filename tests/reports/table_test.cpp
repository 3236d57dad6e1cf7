// Tests of reports/table.cpp: the number formats the tables show.
#include "reports/table.h"

#include <gtest/gtest.h>

namespace harness::reports {
namespace {

TEST(TableFormat, SignificantKeepsItsDigitsAndTrailingZeros) {
  EXPECT_EQ(significant(0.1, 3), "0.100");
  EXPECT_EQ(significant(1.9, 3), "1.90");
  EXPECT_EQ(significant(221.4, 3), "221");
  EXPECT_EQ(significant(33.84, 3), "33.8");
  EXPECT_EQ(significant(-0.6194, 3), "-0.619");
  EXPECT_EQ(significant(9.996, 3), "10.0");  // rounds up into the next decade
  EXPECT_EQ(significant(0.0009996, 3), "1.00e-03");
  EXPECT_EQ(significant(0.001, 3), "0.00100");
  EXPECT_EQ(significant(4.12e-4, 3), "4.12e-04");
  EXPECT_EQ(significant(12345.0, 3), "1.23e+04");
  EXPECT_EQ(significant(0.0, 3), "0.00");
  EXPECT_EQ(significant(0.0652, 2), "0.065");
}

TEST(TableFormat, PValuesKeepTwoSignificantDigitsDownToTheExponentForm) {
  EXPECT_EQ(p_text(std::nullopt), "n/a");
  EXPECT_EQ(p_text(0.3312), "0.3312");
  EXPECT_EQ(p_text(0.0013), "0.0013");
  EXPECT_EQ(p_text(0.001), "0.0010");
  EXPECT_EQ(p_text(0.000243), "0.000243");  // %.3g: below 1e-3 no longer "0.0002"
  EXPECT_EQ(p_text(4.03e-17), "4.03e-17");
}

}  // namespace
}  // namespace harness::reports

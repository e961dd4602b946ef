#include "ntp/rational.hpp"

#include <gtest/gtest.h>

namespace ntp {
namespace {

// Boost reads an integer string with a leading '0' as octal; decimal text must not be ("0.101"
// once parsed as 65/1000, "0.09" threw).
TEST(ParseRational, LeadingZerosAreDecimal) {
  EXPECT_EQ(*parse_rational("0.101"), Rational(101, 1000));
  EXPECT_EQ(*parse_rational("0.09"), Rational(9, 100));
  EXPECT_EQ(*parse_rational("0.0101"), Rational(101, 10000));
  EXPECT_EQ(*parse_rational("010"), Rational(10));
  EXPECT_EQ(*parse_rational("-0.0101e2"), Rational(-101, 100));
  EXPECT_EQ(*parse_rational("007/010"), Rational(7, 10));
  EXPECT_EQ(*parse_rational("0.0"), Rational(0));
  EXPECT_EQ(*parse_rational("000"), Rational(0));
}

TEST(ParseRational, PlainForms) {
  EXPECT_EQ(*parse_rational("1/3"), Rational(1, 3));
  EXPECT_EQ(*parse_rational(" 2.5 "), Rational(5, 2));
  EXPECT_EQ(*parse_rational("1e-3"), Rational(1, 1000));
  EXPECT_EQ(*parse_rational(".5"), Rational(1, 2));
  EXPECT_FALSE(parse_rational("1/0"));
  EXPECT_FALSE(parse_rational("0x10"));
  EXPECT_FALSE(parse_rational("."));
  EXPECT_FALSE(parse_rational("1/-2"));
}

}  // namespace
}  // namespace ntp

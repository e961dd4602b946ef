#include "ntp/scalar.hpp"

#include <gtest/gtest.h>

#include "ntp/errors.hpp"
#include "ntp/test_support.hpp"

namespace ntp {
namespace {

template <class S>
class ScalarTraitsTest : public ::testing::Test {
 protected:
  void SetUp() override { set_mpfr_digits(60); }
};

using AllScalars =
    ::testing::Types<float, double, long double, dd_real, qd_real, Float128, Mp50, Mpfr>;

TYPED_TEST_SUITE(ScalarTraitsTest, AllScalars, testing_support::ScalarName);

// from_rational rounds correctly: the result is within half an ulp of 1/3, i.e. the exact error
// |x - 1/3| <= eps/2 * |x| (relative half-ulp bound, checked in exact rationals).
TYPED_TEST(ScalarTraitsTest, FromRationalIsCorrectlyRounded) {
  using T = ScalarTraits<TypeParam>;
  for (const Rational& q :
       {Rational(1, 3), Rational(-2, 7), Rational(1, 10), Rational(123456789, 1000)}) {
    const TypeParam x = T::from_rational(q);
    const Rational back = T::to_rational(x);
    Rational err = back - q;
    if (err < 0) err = -err;
    Rational absq = q < 0 ? Rational(-q) : q;
    const Rational bound = T::to_rational(T::epsilon()) * absq;  // eps * |q| >= half ulp
    EXPECT_LE(err, bound) << T::name() << " q=" << q.str();
  }
}

TYPED_TEST(ScalarTraitsTest, DyadicValuesConvertExactly) {
  using T = ScalarTraits<TypeParam>;
  const Rational q = rational_from_double(0.3125);  // 5/16
  EXPECT_EQ(T::to_rational(T::from_rational(q)), q);
  EXPECT_EQ(T::to_double(T::from_rational(q)), 0.3125);
}

TYPED_TEST(ScalarTraitsTest, Log1pExpm1AreAccurateForTinyArguments) {
  using T = ScalarTraits<TypeParam>;
  // log1p(x) = x - x^2/2 + ..., expm1(x) = x + x^2/2 + ...: for x = 2^-60 the first term is
  // exact to far below any type's epsilon.
  const TypeParam x = T::from_rational(Rational(1, BigInt(1) << 60));
  EXPECT_EQ(T::to_double(log1p_s(x)), std::ldexp(1.0, -60));
  EXPECT_EQ(T::to_double(expm1_s(x)), std::ldexp(1.0, -60));
}

TEST(Precision, ParsesEveryNameAndRejectsOthers) {
  for (const char* n :
       {"float", "double", "long-double", "dd", "qd", "float128", "mp50", "mpfr:200"}) {
    EXPECT_EQ(parse_precision(n).name(), n);
  }
  EXPECT_THROW(parse_precision("quad"), InvalidInput);
  EXPECT_THROW(parse_precision("mpfr:"), InvalidInput);
  EXPECT_THROW(parse_precision("mpfr:5"), InvalidInput);
  EXPECT_THROW(parse_precision("mpfr:99999999"), InvalidInput);
  try {
    parse_precision("quad");
  } catch (const InvalidInput& e) {
    EXPECT_NE(std::string(e.what()).find("--precision"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("quad"), std::string::npos);
  }
}

}  // namespace
}  // namespace ntp

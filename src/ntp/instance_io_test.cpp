#include "ntp/instance_io.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "ntp/errors.hpp"
#include "ntp/rational.hpp"

namespace ntp {
namespace {

Rational power_of_ten(int k) {
  BigInt r = 1;
  for (int i = 0; i < k; ++i) r *= 10;
  return Rational(r);
}

// rational_to_json converted the double to int64 before testing its range: undefined behaviour
// (UBSan: float-cast-overflow) for exact integers beyond 2^63 such as 1e20 or -2^64.
TEST(RationalToJson, LargeExactIntegersAreDoublesWithoutOverflow) {
  const nlohmann::json big = rational_to_json(power_of_ten(20));
  ASSERT_TRUE(big.is_number_float());
  EXPECT_EQ(big.get<double>(), 1e20);
  const Rational two_64 = Rational(BigInt(1) << 64);
  EXPECT_EQ(rational_to_json(-two_64).get<double>(), -18446744073709551616.0);
  const Rational two_63 = Rational(BigInt(1) << 63);
  EXPECT_TRUE(rational_to_json(two_63).is_number_float());
  EXPECT_EQ(rational_to_json(Rational(-(BigInt(1) << 63))).get<double>(), -9223372036854775808.0);
  // Small integers stay JSON integers, other rationals exact strings.
  EXPECT_TRUE(rational_to_json(Rational(12)).is_number_integer());
  EXPECT_EQ(rational_to_json(Rational(-12)).get<std::int64_t>(), -12);
  EXPECT_EQ(rational_to_json(Rational(1, 4)).get<double>(), 0.25);
  EXPECT_EQ(rational_to_json(Rational(1, 3)).get<std::string>(), "1/3");
  // Beyond the double range: an exact string.
  EXPECT_TRUE(rational_to_json(power_of_ten(400)).is_string());
}

}  // namespace
}  // namespace ntp

#pragma once
/** @file rational.hpp
 * Exact rationals (GMP via Boost.Multiprecision) and the lossless text forms ntpcheck reads and
 * writes: JSON numbers (read as the exact double they denote), decimal strings ("0.1" is exactly
 * 1/10), and rational strings ("1/3").
 */
#include <boost/multiprecision/gmp.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ntp {

using Rational = boost::multiprecision::mpq_rational;
using BigInt = boost::multiprecision::mpz_int;

/**
 * Parses a decimal ("-1.25e-3", "7") or rational ("-2/7") string exactly.
 * Returns std::nullopt when the text is not such a number (e.g. "nan", "inf", "0x1p3", "", "1/0")
 * or is longer than max_length characters (instance files: 4096; certificates hold exact
 * solutions of large systems and allow more).
 */
std::optional<Rational> parse_rational(std::string_view text, std::size_t max_length = 4096);

/** The exact rational value of a finite double (every double is a dyadic rational). */
Rational rational_from_double(double x);

/** Text that parse_rational reads back exactly: an integer, "p/q", or a finite decimal when q is
 * a product of powers of 2 and 5 and the decimal is short. */
std::string rational_to_string(const Rational& q);

/** Decimal scientific text of q correctly rounded to `digits` significant digits. */
std::string rational_to_decimal(const Rational& q, int digits);

/** Nearest double to q (round to nearest even; correct rounding, unlike mpq_get_d). */
double rational_to_double(const Rational& q);

}  // namespace ntp

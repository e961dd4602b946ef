#include "ntp/rational.hpp"

#include <mpfr.h>

#include <cctype>
#include <cmath>
#include <stdexcept>

namespace ntp {

namespace {

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (std::isdigit(static_cast<unsigned char>(c)) == 0) return false;
  }
  return true;
}

/** Decimal digits to an integer. Leading zeros are stripped first: Boost reads a string that
 * starts with '0' as octal ("0101" would be 65). */
BigInt decimal_digits_to_int(std::string_view s) {
  while (s.size() > 1 && s.front() == '0') s.remove_prefix(1);
  return BigInt{std::string(s)};
}

std::optional<BigInt> parse_integer(std::string_view s) {
  bool neg = false;
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
    neg = s.front() == '-';
    s.remove_prefix(1);
  }
  if (!all_digits(s)) return std::nullopt;
  BigInt v = decimal_digits_to_int(s);
  return neg ? BigInt(-v) : v;
}

BigInt pow10(long e) {
  BigInt r = 1;
  BigInt base = 10;
  unsigned long k = static_cast<unsigned long>(e);
  while (k != 0) {
    if ((k & 1UL) != 0) r *= base;
    base *= base;
    k >>= 1UL;
  }
  return r;
}

}  // namespace

std::optional<Rational> parse_rational(std::string_view text, std::size_t max_length) {
  // Trim surrounding blanks only; anything else unusual is rejected.
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())) != 0) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())) != 0) {
    text.remove_suffix(1);
  }
  if (text.empty() || text.size() > max_length) return std::nullopt;
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    auto num = parse_integer(text.substr(0, slash));
    auto den_text = text.substr(slash + 1);
    if (!den_text.empty() && (den_text.front() == '+' || den_text.front() == '-')) {
      return std::nullopt;  // the sign belongs to the numerator
    }
    auto den = parse_integer(den_text);
    if (!num || !den || *den == 0) return std::nullopt;
    return Rational(*num, *den);
  }
  bool neg = false;
  std::string_view s = text;
  if (s.front() == '-' || s.front() == '+') {
    neg = s.front() == '-';
    s.remove_prefix(1);
  }
  long exponent = 0;
  if (auto e = s.find_first_of("eE"); e != std::string_view::npos) {
    auto exp_text = s.substr(e + 1);
    bool eneg = false;
    if (!exp_text.empty() && (exp_text.front() == '-' || exp_text.front() == '+')) {
      eneg = exp_text.front() == '-';
      exp_text.remove_prefix(1);
    }
    if (!all_digits(exp_text) || exp_text.size() > 6) return std::nullopt;
    exponent = std::stol(std::string(exp_text));
    if (eneg) exponent = -exponent;
    s = s.substr(0, e);
  }
  std::string digits;
  if (auto dot = s.find('.'); dot != std::string_view::npos) {
    auto ip = s.substr(0, dot);
    auto fp = s.substr(dot + 1);
    if (ip.empty() && fp.empty()) return std::nullopt;
    if ((!ip.empty() && !all_digits(ip)) || (!fp.empty() && !all_digits(fp))) return std::nullopt;
    digits = std::string(ip) + std::string(fp);
    exponent -= static_cast<long>(fp.size());
  } else {
    if (!all_digits(s)) return std::nullopt;
    digits = std::string(s);
  }
  if (exponent > 100000 || exponent < -100000) return std::nullopt;
  BigInt mant = decimal_digits_to_int(digits);
  if (neg) mant = -mant;
  if (exponent >= 0) return Rational(BigInt(mant * pow10(exponent)));
  return Rational(mant, pow10(-exponent));
}

Rational rational_from_double(double x) {
  if (!std::isfinite(x)) throw std::invalid_argument("rational_from_double: non-finite value");
  return Rational(x);  // mpq_set_d is exact
}

std::string rational_to_string(const Rational& q) {
  const BigInt den = boost::multiprecision::denominator(q);
  if (den == 1) return boost::multiprecision::numerator(q).str();
  // A finite decimal exists iff den = 2^a 5^b; use it when it is short.
  BigInt d = den;
  unsigned a = 0;
  unsigned b = 0;
  while (d % 2 == 0) {
    d /= 2;
    ++a;
  }
  while (d % 5 == 0) {
    d /= 5;
    ++b;
  }
  if (d == 1 && std::max(a, b) <= 40) {
    const unsigned k = std::max(a, b);
    const BigInt scaled = boost::multiprecision::numerator(q) * pow10(k) / den;  // exact
    const bool neg = scaled < 0;
    std::string digits = (neg ? BigInt(-scaled) : scaled).str();
    if (digits.size() <= k) digits.insert(0, k + 1 - digits.size(), '0');
    digits.insert(digits.size() - k, ".");
    while (digits.back() == '0') digits.pop_back();
    if (digits.back() == '.') digits.pop_back();
    return (neg ? "-" : "") + digits;
  }
  return q.str();
}

std::string rational_to_decimal(const Rational& q, int digits) {
  mpfr_t x;
  const auto prec = static_cast<mpfr_prec_t>(std::ceil(digits * 3.3219280948873623) + 16);
  mpfr_init2(x, prec);
  mpfr_set_q(x, q.backend().data(), MPFR_RNDN);
  std::string fmt = "%." + std::to_string(digits > 1 ? digits - 1 : 0) + "Re";
  char* out = nullptr;
  if (mpfr_asprintf(&out, fmt.c_str(), x) < 0) {
    mpfr_clear(x);
    throw std::runtime_error("rational_to_decimal: mpfr_asprintf failed");
  }
  std::string s(out);
  mpfr_free_str(out);
  mpfr_clear(x);
  return s;
}

double rational_to_double(const Rational& q) {
  mpfr_t x;
  mpfr_init2(x, 53);
  // Round once, to nearest, in an exponent range wide enough that the double conversion is exact
  // for normal numbers; subnormals take a second, correctly handled rounding via mpfr_subnormalize.
  const mpfr_exp_t emin = mpfr_get_emin();
  const mpfr_exp_t emax = mpfr_get_emax();
  mpfr_set_emin(-1073);
  mpfr_set_emax(1024);
  const int t = mpfr_set_q(x, q.backend().data(), MPFR_RNDN);
  mpfr_subnormalize(x, t, MPFR_RNDN);
  const double d = mpfr_get_d(x, MPFR_RNDN);
  mpfr_set_emin(emin);
  mpfr_set_emax(emax);
  mpfr_clear(x);
  return d;
}

}  // namespace ntp

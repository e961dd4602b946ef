#include "ntp/scalar.hpp"

#include <mpfr.h>

#include <cfloat>
#include <cstdio>
#include <sstream>

#include "ntp/errors.hpp"

namespace ntp {

namespace {

/** RAII mpfr_t of a given precision holding a correctly rounded rational. */
class MpfrTemp {
 public:
  explicit MpfrTemp(mpfr_prec_t prec) { mpfr_init2(x_, prec); }
  MpfrTemp(const Rational& q, mpfr_prec_t prec) : MpfrTemp(prec) {
    mpfr_set_q(x_, q.backend().data(), MPFR_RNDN);
  }
  ~MpfrTemp() { mpfr_clear(x_); }
  MpfrTemp(const MpfrTemp&) = delete;
  MpfrTemp& operator=(const MpfrTemp&) = delete;
  mpfr_ptr get() { return x_; }

 private:
  mpfr_t x_;
};

Rational mpfr_to_rational(mpfr_srcptr x) {
  Rational q;
  mpfr_get_q(q.backend().data(), x);
  return q;
}

template <class F>
std::string printf_string(const char* fmt, F value) {
  char buf[128];
  std::snprintf(buf, sizeof buf, fmt, value);
  return buf;
}

/** Correct rounding to a hardware binary format with precision `bits`, handling subnormals. */
template <class T>
T round_to_hardware(const Rational& q) {
  constexpr int bits = std::numeric_limits<T>::digits;
  constexpr int emin = std::numeric_limits<T>::min_exponent - bits + 1;  // subnormal floor
  MpfrTemp x(bits);
  const mpfr_exp_t old_min = mpfr_get_emin();
  const mpfr_exp_t old_max = mpfr_get_emax();
  mpfr_set_emin(emin);
  mpfr_set_emax(std::numeric_limits<T>::max_exponent);
  const int t = mpfr_set_q(x.get(), q.backend().data(), MPFR_RNDN);
  mpfr_subnormalize(x.get(), t, MPFR_RNDN);
  T r;
  if constexpr (std::is_same_v<T, float>) {
    r = mpfr_get_flt(x.get(), MPFR_RNDN);
  } else if constexpr (std::is_same_v<T, double>) {
    r = mpfr_get_d(x.get(), MPFR_RNDN);
  } else {
    r = mpfr_get_ld(x.get(), MPFR_RNDN);
  }
  mpfr_set_emin(old_min);
  mpfr_set_emax(old_max);
  return r;
}

template <class T>
Rational hardware_to_rational(T x) {
  MpfrTemp m(std::numeric_limits<T>::digits);
  if constexpr (std::is_same_v<T, long double>) {
    mpfr_set_ld(m.get(), x, MPFR_RNDN);
  } else {
    mpfr_set_d(m.get(), static_cast<double>(x), MPFR_RNDN);
  }
  return mpfr_to_rational(m.get());
}

}  // namespace

// ---------------------------------------------------------------------------------- precisions

std::string PrecisionSpec::name() const {
  switch (kind) {
    case Precision::kFloat:
      return "float";
    case Precision::kDouble:
      return "double";
    case Precision::kLongDouble:
      return "long-double";
    case Precision::kDD:
      return "dd";
    case Precision::kQD:
      return "qd";
    case Precision::kFloat128:
      return "float128";
    case Precision::kMp50:
      return "mp50";
    case Precision::kMpfr:
      return "mpfr:" + std::to_string(mpfr_digits);
  }
  return "?";
}

int PrecisionSpec::decimal_digits() const {
  switch (kind) {
    case Precision::kFloat:
      return 7;
    case Precision::kDouble:
      return 16;
    case Precision::kLongDouble:
      return 19;
    case Precision::kDD:
      return 32;
    case Precision::kQD:
      return 64;
    case Precision::kFloat128:
      return 34;
    case Precision::kMp50:
      return 50;
    case Precision::kMpfr:
      return static_cast<int>(mpfr_digits);
  }
  return 0;
}

const char* precision_names_help() {
  return "float, double, long-double, dd, qd, float128, mp50, mpfr:DIGITS (10..10000)";
}

PrecisionSpec parse_precision(const std::string& text, const std::string& field) {
  static const std::pair<const char*, Precision> kNames[] = {
      {"float", Precision::kFloat},
      {"double", Precision::kDouble},
      {"long-double", Precision::kLongDouble},
      {"dd", Precision::kDD},
      {"qd", Precision::kQD},
      {"float128", Precision::kFloat128},
      {"mp50", Precision::kMp50}};
  for (const auto& [n, k] : kNames) {
    if (text == n) return PrecisionSpec{k, 0};
  }
  if (text.rfind("mpfr:", 0) == 0) {
    const std::string digits = text.substr(5);
    if (!digits.empty() && digits.size() <= 5 &&
        digits.find_first_not_of("0123456789") == std::string::npos) {
      const unsigned long n = std::stoul(digits);
      if (n >= 10 && n <= 10000) return PrecisionSpec{Precision::kMpfr, static_cast<unsigned>(n)};
    }
    throw InvalidInput("invalid precision: " + field +
                       " needs mpfr:DIGITS with 10 <= DIGITS <= 10000, got \"" + text + "\"");
  }
  throw InvalidInput("invalid precision: " + field + " must be one of " + precision_names_help() +
                     ", got \"" + text + "\"");
}

void set_mpfr_digits(unsigned digits10) { Mpfr::default_precision(digits10); }

// ---------------------------------------------------------------------------------- hardware

#define NTP_HARDWARE_TRAITS(Type, Name, Fmt, Digits)                                               \
  std::string ScalarTraits<Type>::name() { return Name; }                                          \
  Type ScalarTraits<Type>::epsilon() { return std::numeric_limits<Type>::epsilon(); }              \
  int ScalarTraits<Type>::max_digits10() { return Digits; }                                        \
  Type ScalarTraits<Type>::from_rational(const Rational& q) { return round_to_hardware<Type>(q); } \
  Rational ScalarTraits<Type>::to_rational(const Type& x) {                                        \
    return hardware_to_rational<Type>(x);                                                          \
  }                                                                                                \
  double ScalarTraits<Type>::to_double(const Type& x) { return static_cast<double>(x); }           \
  std::string ScalarTraits<Type>::to_string(const Type& x) { return printf_string(Fmt, x); }       \
  double ScalarTraits<Type>::log_min_normal() {                                                    \
    return std::log(static_cast<double>(std::numeric_limits<Type>::min()));                        \
  }                                                                                                \
  double ScalarTraits<Type>::log_min_positive() {                                                  \
    return std::log(static_cast<double>(std::numeric_limits<Type>::min())) -                       \
           (std::numeric_limits<Type>::digits - 1) * std::log(2.0);                                \
  }

NTP_HARDWARE_TRAITS(float, "float", "%.9g", 9)
NTP_HARDWARE_TRAITS(double, "double", "%.17g", 17)
#undef NTP_HARDWARE_TRAITS

// long double: its range is wider than double's, so logs are computed in long double.
std::string ScalarTraits<long double>::name() { return "long-double"; }
long double ScalarTraits<long double>::epsilon() { return LDBL_EPSILON; }
int ScalarTraits<long double>::max_digits10() { return 21; }
long double ScalarTraits<long double>::from_rational(const Rational& q) {
  return round_to_hardware<long double>(q);
}
Rational ScalarTraits<long double>::to_rational(const long double& x) {
  return hardware_to_rational<long double>(x);
}
double ScalarTraits<long double>::to_double(const long double& x) { return static_cast<double>(x); }
std::string ScalarTraits<long double>::to_string(const long double& x) {
  return printf_string("%.21Lg", x);
}
double ScalarTraits<long double>::log_min_normal() {
  return static_cast<double>(std::log(LDBL_MIN));
}
double ScalarTraits<long double>::log_min_positive() {
  return static_cast<double>(std::log(LDBL_MIN) - (LDBL_MANT_DIG - 1) * std::log(2.0L));
}

// ---------------------------------------------------------------------------------- QD

std::string ScalarTraits<dd_real>::name() { return "dd"; }
dd_real ScalarTraits<dd_real>::epsilon() { return dd_real::_eps; }
int ScalarTraits<dd_real>::max_digits10() { return 33; }
dd_real ScalarTraits<dd_real>::from_rational(const Rational& q) {
  MpfrTemp x(q, 300);
  const double hi = mpfr_get_d(x.get(), MPFR_RNDN);
  mpfr_sub_d(x.get(), x.get(), hi, MPFR_RNDN);  // exact: 300 bits hold the remainder
  const double lo = mpfr_get_d(x.get(), MPFR_RNDN);
  return dd_real(hi, lo);
}
Rational ScalarTraits<dd_real>::to_rational(const dd_real& x) {
  return rational_from_double(x.x[0]) + rational_from_double(x.x[1]);
}
double ScalarTraits<dd_real>::to_double(const dd_real& x) { return x.x[0]; }
std::string ScalarTraits<dd_real>::to_string(const dd_real& x) {
  return rational_to_decimal(to_rational(x), max_digits10());
}
double ScalarTraits<dd_real>::log_min_normal() { return std::log(DBL_MIN) + 53 * std::log(2.0); }
double ScalarTraits<dd_real>::log_min_positive() { return std::log(DBL_MIN) - 52 * std::log(2.0); }

std::string ScalarTraits<qd_real>::name() { return "qd"; }
qd_real ScalarTraits<qd_real>::epsilon() { return qd_real::_eps; }
int ScalarTraits<qd_real>::max_digits10() { return 66; }
qd_real ScalarTraits<qd_real>::from_rational(const Rational& q) {
  MpfrTemp x(q, 500);
  double part[4];
  for (double& p : part) {
    p = mpfr_get_d(x.get(), MPFR_RNDN);
    mpfr_sub_d(x.get(), x.get(), p, MPFR_RNDN);
  }
  return qd_real(part[0], part[1], part[2], part[3]);
}
Rational ScalarTraits<qd_real>::to_rational(const qd_real& x) {
  Rational r = 0;
  for (int i = 0; i < 4; ++i) r += rational_from_double(x.x[i]);
  return r;
}
double ScalarTraits<qd_real>::to_double(const qd_real& x) { return x.x[0]; }
std::string ScalarTraits<qd_real>::to_string(const qd_real& x) {
  return rational_to_decimal(to_rational(x), max_digits10());
}
double ScalarTraits<qd_real>::log_min_normal() {
  return std::log(DBL_MIN) + 3 * 53 * std::log(2.0);
}
double ScalarTraits<qd_real>::log_min_positive() { return std::log(DBL_MIN) - 52 * std::log(2.0); }

// ---------------------------------------------------------------------------------- float128

std::string ScalarTraits<Float128>::name() { return "float128"; }
Float128 ScalarTraits<Float128>::epsilon() { return std::numeric_limits<Float128>::epsilon(); }
int ScalarTraits<Float128>::max_digits10() { return 36; }
Float128 ScalarTraits<Float128>::from_rational(const Rational& q) {
  // Round once to 113 bits, then go through 40 decimal digits, which read back exactly.
  MpfrTemp x(q, 113);
  char* out = nullptr;
  mpfr_asprintf(&out, "%.39Re", x.get());
  Float128 r(out);
  mpfr_free_str(out);
  return r;
}
Rational ScalarTraits<Float128>::to_rational(const Float128& x) {
  // Three doubles hold the 113-bit significand exactly (each subtraction is exact).
  Rational r = 0;
  Float128 rest = x;
  for (int i = 0; i < 3; ++i) {
    const double p = rest.convert_to<double>();
    r += rational_from_double(p);
    rest -= Float128(p);
  }
  return r;
}
double ScalarTraits<Float128>::to_double(const Float128& x) { return x.convert_to<double>(); }
std::string ScalarTraits<Float128>::to_string(const Float128& x) {
  return x.str(max_digits10(), std::ios_base::scientific);
}
double ScalarTraits<Float128>::log_min_normal() { return -16382 * std::log(2.0); }
double ScalarTraits<Float128>::log_min_positive() { return -16494 * std::log(2.0); }

// ----------------------------------------------------------------------------------
// cpp_bin_float<50>

std::string ScalarTraits<Mp50>::name() { return "mp50"; }
Mp50 ScalarTraits<Mp50>::epsilon() { return std::numeric_limits<Mp50>::epsilon(); }
int ScalarTraits<Mp50>::max_digits10() { return std::numeric_limits<Mp50>::max_digits10; }
Mp50 ScalarTraits<Mp50>::from_rational(const Rational& q) {
  MpfrTemp x(q, std::numeric_limits<Mp50>::digits);
  char* out = nullptr;
  const std::string fmt = "%." + std::to_string(max_digits10() + 2) + "Re";
  mpfr_asprintf(&out, fmt.c_str(), x.get());
  Mp50 r(out);
  mpfr_free_str(out);
  return r;
}
Rational ScalarTraits<Mp50>::to_rational(const Mp50& x) {
  int e = 0;
  const Mp50 mant = frexp(x, &e);  // x = mant * 2^e, |mant| in [0.5, 1)
  constexpr int bits = std::numeric_limits<Mp50>::digits;
  const BigInt n = ldexp(mant, bits).convert_to<BigInt>();  // exact integer
  Rational r(n);
  const int shift = e - bits;
  if (shift >= 0) {
    r *= Rational(BigInt(1) << shift);
  } else {
    r /= Rational(BigInt(1) << -shift);
  }
  return r;
}
double ScalarTraits<Mp50>::to_double(const Mp50& x) { return x.convert_to<double>(); }
std::string ScalarTraits<Mp50>::to_string(const Mp50& x) {
  return x.str(max_digits10(), std::ios_base::scientific);
}
double ScalarTraits<Mp50>::log_min_normal() {
  return static_cast<double>(std::numeric_limits<Mp50>::min_exponent) * std::log(2.0);
}
double ScalarTraits<Mp50>::log_min_positive() { return log_min_normal(); }

// ---------------------------------------------------------------------------------- MPFR

std::string ScalarTraits<Mpfr>::name() {
  return "mpfr:" + std::to_string(Mpfr::default_precision());
}
Mpfr ScalarTraits<Mpfr>::epsilon() { return std::numeric_limits<Mpfr>::epsilon(); }
int ScalarTraits<Mpfr>::max_digits10() { return static_cast<int>(Mpfr::default_precision()) + 3; }
Mpfr ScalarTraits<Mpfr>::from_rational(const Rational& q) {
  Mpfr r;
  mpfr_set_q(r.backend().data(), q.backend().data(), MPFR_RNDN);
  return r;
}
Rational ScalarTraits<Mpfr>::to_rational(const Mpfr& x) {
  return mpfr_to_rational(x.backend().data());
}
double ScalarTraits<Mpfr>::to_double(const Mpfr& x) {
  return mpfr_get_d(x.backend().data(), MPFR_RNDN);
}
std::string ScalarTraits<Mpfr>::to_string(const Mpfr& x) {
  return x.str(max_digits10(), std::ios_base::scientific);
}
double ScalarTraits<Mpfr>::log_min_normal() {
  return static_cast<double>(mpfr_get_emin()) * std::log(2.0);
}
double ScalarTraits<Mpfr>::log_min_positive() { return log_min_normal(); }

}  // namespace ntp

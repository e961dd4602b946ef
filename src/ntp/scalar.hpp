#pragma once
/** @file scalar.hpp
 * The scalar layer: the supported precisions, their traits (epsilon, digits, exponent range,
 * exact conversions from and to rationals) and the Eigen glue for the QD types.
 *
 * Scalar code never writes std::exp(x): it says `using std::exp;` and calls `exp(x)`, so the
 * overloads of the multiprecision and QD types are found by argument-dependent lookup.
 */
#include <qd/dd_real.h>
#include <qd/qd_real.h>

#include <Eigen/Core>
#include <boost/multiprecision/cpp_bin_float.hpp>
#include <boost/multiprecision/eigen.hpp>
#include <boost/multiprecision/float128.hpp>
#include <boost/multiprecision/mpfr.hpp>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>

#include "ntp/rational.hpp"

namespace Eigen {
/** Eigen traits for QD's double-double (about 32 significant digits). */
template <>
struct NumTraits<dd_real> : GenericNumTraits<dd_real> {
  using Real = dd_real;
  using NonInteger = dd_real;
  using Nested = dd_real;
  using Literal = dd_real;
  enum {
    IsComplex = 0,
    IsInteger = 0,
    IsSigned = 1,
    RequireInitialization = 1,
    ReadCost = 2,
    AddCost = 20,
    MulCost = 25
  };
  static inline Real epsilon() { return dd_real::_eps; }
  static inline Real dummy_precision() { return dd_real(1e-28); }
  static inline Real highest() { return dd_real::_max; }
  static inline Real lowest() { return -dd_real::_max; }
  static inline int digits10() { return 31; }
};
/** Eigen traits for QD's quad-double (about 64 significant digits). */
template <>
struct NumTraits<qd_real> : GenericNumTraits<qd_real> {
  using Real = qd_real;
  using NonInteger = qd_real;
  using Nested = qd_real;
  using Literal = qd_real;
  enum {
    IsComplex = 0,
    IsInteger = 0,
    IsSigned = 1,
    RequireInitialization = 1,
    ReadCost = 4,
    AddCost = 80,
    MulCost = 100
  };
  static inline Real epsilon() { return qd_real::_eps; }
  static inline Real dummy_precision() { return qd_real(1e-60); }
  static inline Real highest() { return qd_real::_max; }
  static inline Real lowest() { return -qd_real::_max; }
  static inline int digits10() { return 62; }
};
}  // namespace Eigen

namespace ntp {

namespace bmp = boost::multiprecision;

/** IEEE binary128 (software, via libquadmath). */
using Float128 = bmp::float128;
/** 50 decimal digits, binary, fixed precision, wide exponent range. */
using Mp50 = bmp::number<bmp::cpp_bin_float<50>, bmp::et_off>;
/** MPFR with precision chosen at run time (Mpfr::default_precision(digits10)). */
using Mpfr = bmp::number<bmp::mpfr_float_backend<0>, bmp::et_off>;

template <class S>
using Matrix = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;
template <class S>
using Vector = Eigen::Matrix<S, Eigen::Dynamic, 1>;

/** The precisions the CLI names: float, double, long-double, dd, qd, float128, mp50, mpfr:DIGITS.
 */
enum class Precision { kFloat, kDouble, kLongDouble, kDD, kQD, kFloat128, kMp50, kMpfr };

struct PrecisionSpec {
  Precision kind = Precision::kDouble;
  unsigned mpfr_digits = 0;  ///< decimal digits, only for kMpfr
  /** The CLI name ("double", "mpfr:200"). */
  [[nodiscard]] std::string name() const;
  /** Approximate number of significant decimal digits. */
  [[nodiscard]] int decimal_digits() const;
  bool operator==(const PrecisionSpec&) const = default;
};

/** Parses a CLI precision name; throws InvalidInput naming `field` and the value. */
PrecisionSpec parse_precision(const std::string& text, const std::string& field = "--precision");

/** Known names, for help texts. */
const char* precision_names_help();

/**
 * Everything ntpcheck needs to know about a scalar type. All precision knowledge (epsilon,
 * tolerances, horizons) lives here, never as a literal in algorithms.
 */
template <class S>
struct ScalarTraits;

#define NTP_DECLARE_SCALAR_TRAITS(Type)                                            \
  template <>                                                                      \
  struct ScalarTraits<Type> {                                                      \
    static std::string name();                                                     \
    static Type epsilon();                                                         \
    /** Digits needed to print a value so that it reads back exactly. */           \
    static int max_digits10();                                                     \
    /** Correctly rounded conversion from an exact rational. */                    \
    static Type from_rational(const Rational& q);                                  \
    /** The exact rational value of x (finite x). */                               \
    static Rational to_rational(const Type& x);                                    \
    static double to_double(const Type& x);                                        \
    static std::string to_string(const Type& x);                                   \
    /** log of the smallest positive normal value (e^-R underflows below it). */   \
    static double log_min_normal();                                                \
    /** log of the smallest positive value (subnormal where the type has them). */ \
    static double log_min_positive();                                              \
  }

NTP_DECLARE_SCALAR_TRAITS(float);
NTP_DECLARE_SCALAR_TRAITS(double);
NTP_DECLARE_SCALAR_TRAITS(long double);
NTP_DECLARE_SCALAR_TRAITS(dd_real);
NTP_DECLARE_SCALAR_TRAITS(qd_real);
NTP_DECLARE_SCALAR_TRAITS(Float128);
NTP_DECLARE_SCALAR_TRAITS(Mp50);
NTP_DECLARE_SCALAR_TRAITS(Mpfr);
#undef NTP_DECLARE_SCALAR_TRAITS

/** Converts a double (an exact dyadic rational) to S exactly when S is at least as wide. */
template <class S>
S from_double(double x) {
  return ScalarTraits<S>::from_rational(rational_from_double(x));
}

/** A double matrix converted exactly (doubles are dyadic) when S is at least as wide. */
template <class S>
Matrix<S> from_double_matrix(const Eigen::MatrixXd& W) {
  Matrix<S> out(W.rows(), W.cols());
  for (Eigen::Index i = 0; i < W.size(); ++i) out.data()[i] = from_double<S>(W.data()[i]);
  return out;
}

/** log1p for every supported type (QD has none: Kahan's correction of log(1+x)). */
template <class S>
S log1p_s(const S& x) {
  if constexpr (std::is_same_v<S, dd_real> || std::is_same_v<S, qd_real>) {
    const S u = S(1.0) + x;
    if (u == S(1.0)) return x;
    return log(u) * x / (u - S(1.0));
  } else if constexpr (std::is_floating_point_v<S>) {
    return std::log1p(x);
  } else {
    return boost::multiprecision::log1p(x);
  }
}

/** expm1 for every supported type (QD has none: Kahan's correction of exp(x)-1). */
template <class S>
S expm1_s(const S& x) {
  if constexpr (std::is_same_v<S, dd_real> || std::is_same_v<S, qd_real>) {
    const S u = exp(x);
    if (u == S(1.0)) return x;
    const S um1 = u - S(1.0);
    if (um1 == S(-1.0)) return S(-1.0);
    return um1 * x / log(u);
  } else if constexpr (std::is_floating_point_v<S>) {
    return std::expm1(x);
  } else {
    return boost::multiprecision::expm1(x);
  }
}

/** True when x is finite (for every supported type). */
template <class S>
bool is_finite_s(const S& x) {
  if constexpr (std::is_same_v<S, dd_real> || std::is_same_v<S, qd_real>) {
    return x.isfinite();
  } else if constexpr (std::is_floating_point_v<S>) {
    return std::isfinite(x);
  } else {
    return boost::multiprecision::isfinite(x);
  }
}

/**
 * Sets the working precision of the run-time MPFR type (process-wide in Boost 1.74: set it before
 * building matrices, never from two threads at once).
 */
void set_mpfr_digits(unsigned digits10);

}  // namespace ntp

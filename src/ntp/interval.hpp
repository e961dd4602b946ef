#pragma once
/** @file interval.hpp
 * RAII handles for MPFI intervals and MPFR numbers (the rigorous side of the certificates,
 * theory.md §7) and the outward conversions to double used in reports.
 */
#include <mpfi.h>
#include <mpfr.h>

#include "ntp/rational.hpp"

namespace ntp {

/** RAII MPFI interval of a fixed precision. */
class Interval {
 public:
  explicit Interval(long prec) { mpfi_init2(x_, prec); }
  ~Interval() { mpfi_clear(x_); }
  Interval(const Interval&) = delete;
  Interval& operator=(const Interval&) = delete;
  mpfi_ptr get() { return x_; }
  [[nodiscard]] mpfi_srcptr get() const { return x_; }

 private:
  mpfi_t x_;
};

/** RAII MPFR number of a fixed precision. */
class Real {
 public:
  explicit Real(long prec) { mpfr_init2(x_, prec); }
  ~Real() { mpfr_clear(x_); }
  Real(const Real&) = delete;
  Real& operator=(const Real&) = delete;
  mpfr_ptr get() { return x_; }
  [[nodiscard]] mpfr_srcptr get() const { return x_; }

 private:
  mpfr_t x_;
};

/** Left end rounded down to double. */
inline double lower_double(mpfi_srcptr x) {
  Real e(mpfi_get_prec(x));
  mpfi_get_left(e.get(), x);
  return mpfr_get_d(e.get(), MPFR_RNDD);
}

/** Right end rounded up to double. */
inline double upper_double(mpfi_srcptr x) {
  Real e(mpfi_get_prec(x));
  mpfi_get_right(e.get(), x);
  return mpfr_get_d(e.get(), MPFR_RNDU);
}

/** max |x| over the interval, rounded up to double. */
inline double magnitude_upper(mpfi_srcptr x) {
  Real e(mpfi_get_prec(x));
  mpfi_mag(e.get(), x);
  return mpfr_get_d(e.get(), MPFR_RNDU);
}

}  // namespace ntp

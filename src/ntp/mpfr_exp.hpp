#pragma once
/** @file mpfr_exp.hpp
 * A fast, allocation-free exponential for MPFR numbers at one fixed precision p, for hot loops
 * that would otherwise call mpfr_exp (the MPFR loss kernel).
 *
 * Algorithm. w = p + 12, Lw = ceil((w + 4)/64) limbs, F = 64 Lw - 2, T table levels (1..5,
 * chosen by p), B = 8 T + 1, sigma = 2^-B + 2^-55.
 *  1. k = nearest integer to x / ln2 in double arithmetic (|x| < 2^40, so |k| < 2^41 and
 *     |x / ln2 - k| <= 1/2 + 2^-9, hence |x - k ln2| < 0.348). r = RN_{w+2}(x - k L) with
 *     L = RN_{w+48}(ln 2); k L is exact (precision w + 112).
 *  2. Indices from the double RN(r): i_t = round(rem 2^{8t}), rem -= i_t 2^{-8t} (exact in double
 *     by Sterbenz), t = 1..T; |i_1| <= 90, |i_t| <= 128. D = sum_t i_t 2^{-8t}; s = r - D is exact
 *     at precision w + 4 and |s| <= 2^-B + |r| 2^-53 <= sigma.
 *  3. Taylor in GMP mpn fixed point, where the speed comes from: S = floor(|s| 2^{64 Lw}) (a shift
 *     of the significand of s). h_N = 1/N! and, for n = N-1 .. 2, h_n = 1/n! +- |s| h_{n+1}, all
 *     truncated to 64 L_n fraction bits, L_n ~ (w + 8 + log2 N - n B)/64 limbs (nonincreasing;
 *     also >= (log2 n! + 3)/64 so that 1/n! - |s| h_{n+1} cannot borrow): the high-order terms
 *     run on one or two limbs. Then h_1 = 1 +- |s| h_2 and |u| = |s| h_1 at Lw limbs (u ~ e^s - 1).
 *  4. Pi = product of the table entries RN(2^F e^{i_t 2^{-8t}}) / 2^F (T - 1 products, each
 *     truncated to F fraction bits; Pi = 1 when every index is 0), V = Pi +- Pi |u| (truncated),
 *     and rop = RN_p(V 2^k) by one mpfr_set_z_2exp: the only rounding to p bits, the scaling by
 *     2^k is exact because over/underflow was excluded beforehand.
 *
 * Error bound (proved; every constant is evaluated in the constructor in MPFR with rounding
 * upward, and exposed as error_bound()). Write H_n = sum_{j=n}^{N} s^{j-n}/j!, hb_n >= |h_n|.
 *  - reduction: |r - (x - k ln2)| <= |k| |L - ln2| + 2^{-w-4} <= 2^41 2^{-w-49} + 2^{-w-4} = rho;
 *    D and s are exact, so the relative error induced on e^r is <= e^rho - 1 <= rho + rho^2.
 *  - Taylor, fixed point: each truncation (of |s|, of 1/n!, of a product) costs < 2^{-64 L_n}, so
 *    e_n = |h_n - H_n| <= sigma e_{n+1} + 2^{-64 L_n} (2 hb_{n+1} + 2), e_N <= 2^{-64 L_N}; the
 * same recurrence at n = 1 and for u with L = Lw gives alpha_u >= |u - s H_1|.
 *  - truncation of the series: |e^s - 1 - s H_1| <= sum_{n > N} sigma^n/n! <= 2 sigma^{N+1}/(N+1)!;
 *    N is the least with this <= 2^{-w-4}. With alpha = alpha_u + that, |(1 + u)/e^s - 1| <=
 *    alpha e^sigma = alpha'.
 *  - tables and products: every fixed-point value lies in [e^-0.353, e^0.353] c [0.70, 1.43], so
 *    an absolute error 2^-F is a relative error <= 1.5 2^-F = a; T entries and T - 1 products
 *    give pi = (1 + a)^{2T-1} - 1 <= m a + (m a)^2, m = 2T - 1; truncating Pi |u| adds a.
 *  - so V / e^{x - k ln2} = 1 + eps with 1 + eps <= e^rho ((1 + pi)(1 + alpha') + a).
 *  - final rounding: for y = exp(x), |y| < 2^{EXP(y)} = 2^p ulp(y). If RN_p(V 2^k) lies in the
 *    binade of y, its error is <= ulp(y)/2 + |V 2^k - y|; otherwise a power of two lies between
 *    V 2^k and y and |RN_p(V 2^k) - V 2^k| <= |V 2^k - y|. Either way
 *    |rop - y| <= (1/2 + 2^p eps) ulp(y).
 *  With 12 guard bits and F >= w + 2, 2^p eps < 2^-12 for every p: error_bound() is about
 *  0.50002 ulp (the constructor throws std::logic_error if its computed bound were >= 0.52).
 *
 * Delegated to mpfr_exp: NaN, +-inf, zero, |x| >= 2^40, and k outside [emin + 1, emax - 2] of
 * the current exponent range (the result could over/underflow). The index and k computations
 * assume the default floating-point rounding mode (to nearest). Rounding is to nearest whatever
 * the caller's habits; flags are set as mpfr_set_z_2exp sets them (inexact), not as mpfr_exp
 * would; the ternary value is not returned.
 */
#include <gmp.h>
#include <mpfr.h>

#include <vector>

namespace ntp {

/** exp(x) at a fixed precision with tables built once; not thread-safe (owns scratch). */
class MpfrExp {
 public:
  /** Builds the tables for precision p. levels = number of table levels T in 1..5, 0 = choose by
   * p (measured). Throws std::invalid_argument for p < MPFR_PREC_MIN or levels out of range. */
  explicit MpfrExp(mpfr_prec_t p, int levels = 0);
  ~MpfrExp();
  MpfrExp(const MpfrExp&) = delete;
  MpfrExp& operator=(const MpfrExp&) = delete;

  mpfr_prec_t precision() const { return p_; }
  /** The proved bound on |rop - exp(x)| in ulps of exp(x) (about 0.50002). */
  double error_bound() const { return error_bound_ulps_; }
  /** Table levels T in use. */
  int levels() const { return levels_; }
  /** Taylor degree N in use. */
  int degree() const { return degree_; }

  /** rop = exp(x) rounded to rop's precision, which must be p (throws std::invalid_argument
   * otherwise). x: any mpfr value of any precision; rop may alias x. |rop - exp(x)| <=
   * error_bound() ulp(exp(x)) < 1 ulp (derivation in the file comment). Deterministic; no heap
   * allocation (measured with valgrind: the allocation count does not grow with the calls). */
  void exp(mpfr_ptr rop, mpfr_srcptr x);

 private:
  mpfr_prec_t p_;
  mpfr_prec_t w_;   ///< p + 12
  mpfr_prec_t wr_;  ///< precision of r
  int levels_ = 0;
  int degree_ = 0;
  double error_bound_ulps_ = 1.0;

  mpfr_t ln2_;   ///< RN_{w+48}(ln 2)
  mpfr_t kln2_;  ///< k ln2_, exact
  mpfr_t r_;     ///< x - k ln2
  mpfr_t s_;     ///< r - D, exact
  mpfr_t d_;     ///< D = sum i_t 2^{-8t}, 53 bits

  /** Level t (0-based) entry i, |i| <= offset_[t]: RN(e^{i 2^{-8(t+1)}} 2^F) in Lw limbs at
   * table_fx_[(base_[t] + i + offset_[t]) Lw]. */
  std::vector<mp_limb_t> table_fx_;
  std::vector<long> offset_;
  std::vector<long> base_;
  long frac_bits_ = 0;               ///< F = 64 Lw - 2
  std::vector<mp_limb_t> one_fx_;    ///< 2^F
  std::vector<mp_limb_t> pi_fx_[2];  ///< partial products of the entries, Lw + 1 limbs
  std::vector<mp_limb_t> v_fx_;      ///< Pi (1 + u)

  // Taylor part: fixed-point Horner (GMP mpn).
  int limbs_ = 0;                   ///< Lw: limbs of s_ and of the fixed-point numbers
  std::vector<int> fx_limbs_;       ///< L_n: limbs kept at step n (top limbs), n = 2..N
  std::vector<mp_limb_t> coef_fx_;  ///< floor(2^{64 Lw}/n!), Lw limbs per n
  std::vector<mp_limb_t> s_fx_;     ///< floor(|s| 2^{64 Lw})
  std::vector<mp_limb_t> prod_fx_;  ///< 2 Lw limbs
  std::vector<mp_limb_t> h_fx_[2];  ///< h_n alternately
  __mpz_struct z_view_;             ///< read-only view on V (mpz_roinit_n, no allocation)
};

}  // namespace ntp

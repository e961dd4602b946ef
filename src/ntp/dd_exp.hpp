#pragma once
/** @file dd_exp.hpp
 * A fast exponential for QD's double-double type, for hot loops that would otherwise call qd's
 * exp(dd_real) (7x slower here: qd evaluates a Taylor series on x / 512, then squares nine times).
 *
 * Algorithm (all in double arithmetic with round-to-nearest; the two_prod error terms use Dekker's
 * split, or one fma when the build has __FMA__: both give the exact product error, so the bits
 * are the same either way; the build must not contract other operations, -ffp-contract=off):
 *  1. N = nearest integer to RN(x_hi * RN(256 / ln2)), k = floor(N / 256), j = N mod 256, so
 *     x = k ln2 + j ln2 / 256 + r. With ln2 / 256 = c1 + c2 + c3 (c1, c2 of 35 bits, |N| < 2^18:
 *     N c1 and N c2 are exact; |c1 + c2 + c3 - ln2 / 256| < 2^-137), r = rh + rl is computed
 *     with x_hi - N c1 exact, two two_sums for - N c2 and + x_lo, and the roundings of the low
 *     word only: |rh + rl - r| <= 2^-111, |rh| <= ln2 / 512 + 2^-43 < 2^-9.5.
 *  2. e^rh - 1 = P(rh) by the Taylor polynomial of degree 9 (truncation <= 2^-116.8), nested as
 *     s + s (s (1/2 + s (1/6 + s (1/24 + s q)))) with s = rh and q = 1/5! + ... + s^4/9! in
 *     double; 1/24 + s q as an unnormalized double-double from one quick_two_sum (|error| <=
 *     2^-67.9, hence <= 2^-105.9 in P after the factor s^4); the outer steps with exact
 *     products s * hi (two_prod) and double-double constants (errors <= 2^-106 times s^3, s^2,
 *     s, ...: <= 2^-115 in P). rl enters as e^{rh + rl} = e^rh (1 + rl) + O(rl^2), added to P's low
 *     word as rl + rl P_hi. So |P - (e^r - 1)| <= 2^-105.5.
 *  3. R = 2^{j/256} (1 + P) = T + T P with T = T_hi + T_lo from a table of 256 double-doubles
 *     (8 KiB with the split of T_hi; correctly rounded, |error| <= 2^-107), T_hi * P_hi exact, the
 * cross terms in double, and the low word of R rounded twice at magnitude <= 2^-51 (<= 2^-104.4
 * relative: the inherent cost of a double-double result), then one quick_two_sum (exact).
 *  4. Result (2^k R_hi, 2^k R_lo): multiplications by the double 2^k, i.e. std::ldexp on each
 *     word as qd does (exact when the word stays normal; correctly rounded to the subnormal grid
 *     otherwise).
 *
 * Bound. Steps 1-3 give |R - e^{x - k ln2}| <= 2^-103.5 e^{x - k ln2}. Hence for every normalized
 * x = x_hi + x_lo (|x_lo| <= ulp(x_hi) / 2, as QD's operations return) with -709 < x_hi < 709:
 *     |dd_exp(x) - e^x| <= 2^-103 e^x + 2^-1074,
 * where 2^-1074 (the smallest subnormal) bounds the two roundings of step 4 and is 0 unless a
 * word lands below 2^-1022: the result is within 2^-103 (relative) of e^x whenever e^x >= 2^-960
 * (x > -665.4), and within 2^-100 whenever e^x >= 2^-970 (x >= -672.3, i.e. down to QD's
 * _min_normalized, 2^-969). Below, the absolute error stays <= 2^-1074 + 2^-103 e^x; for
 * e^x < 2^-1022 (x_hi < -708.39) the high word itself is subnormal, as in qd. The tests check
 * 2^-103 relative (plus 2^-1074 absolute) against MPFR; the largest error measured
 * (5 million arguments) is 2^-104.9 relative, qd's exp 2^-101.2 on [-30, 0].
 *
 * Special arguments, identical to qd's exp (bit for bit, also for the signs of NaNs):
 *  - x_hi <= -709 (also -inf, whatever x_lo is): (0, 0). x_hi >= 709 (also +inf): (inf, inf).
 *  - x_hi == 0 (+0 or -0, whatever x_lo is): (1, 0) exactly. x == 1: dd_real::_e.
 *  - otherwise, a NaN in either word: (x_hi + x_lo, x_hi + x_lo); an infinite x_lo: the default
 *    NaN (inf - inf) in both words (qd returns both words NaN, with these signs).
 *  - for -709 < x_hi < -708.39 the result is subnormal and nonzero, as in qd, so the horizon
 *    where e^-R becomes 0 is R = 709 for both functions.
 * Elsewhere dd_exp and qd's exp differ by up to their error bounds (the pairs may even differ by an
 * ulp in the high word with compensating low words; e.g. for x = 2^-1074 qd returns (1, 0) and
 * dd_exp (1, 2^-1074)).
 *
 * Deterministic: no state, no rounding-mode dependence beyond round-to-nearest, same bits on
 * every call. Thread-safe (the table is a constant).
 */
#include <qd/dd_real.h>

namespace ntp {

/** exp(x) in double-double, table-driven (256 entries of 2^{j/256}, degree-9 Taylor
 * polynomial); bound: |dd_exp(x) - e^x| <= 2^-103 e^x + 2^-1074 for -709 < x_hi < 709,
 * derived in the file comment (reduction 2^-111, polynomial 2^-105.5, table and final
 * double-double rounding 2^-104.4 relative). Special arguments as qd's exp. */
dd_real dd_exp(const dd_real& x);

}  // namespace ntp

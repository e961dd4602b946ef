/** @file dd_exp_test.cpp
 * dd_exp against mpfr_exp at 300 bits on the exact value x_hi + x_lo: the bound of dd_exp.hpp
 * (|error| <= 2^-103 e^x + 2^-1074) over random, kernel-range, tiny, near-(N ln2 / 256) and
 * near-table-boundary arguments with zero and nonzero low words; special arguments bit-identical to
 * qd's exp; the underflow and overflow horizons; determinism.
 */
#include "ntp/dd_exp.hpp"

#include <gtest/gtest.h>
#include <mpfr.h>
#include <qd/dd_real.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace ntp {
namespace {

/** An mpfr_t with RAII, for the tests only. */
class Mp {
 public:
  explicit Mp(mpfr_prec_t prec) { mpfr_init2(v_, prec); }
  ~Mp() { mpfr_clear(v_); }
  Mp(const Mp&) = delete;
  Mp& operator=(const Mp&) = delete;
  mpfr_ptr get() { return v_; }

 private:
  mpfr_t v_;
};

/** Stated bound: relative 2^-kRelBits plus absolute 2^-1074. */
constexpr long kRelBits = 103;

/** Checks dd_exp(x) against e^x (exact hi + lo, 300 bits) and returns log2 of the relative error
 * (-2000 when exact); records a failure when the bound is violated. */
class Checker {
 public:
  Checker() : e_(300), y_(300), d_(300), b_(300), t_(300) {}

  double check(const dd_real& x, const dd_real& y, long rel_bits = kRelBits) {
    mpfr_set_d(e_.get(), x.x[0], MPFR_RNDN);
    mpfr_add_d(e_.get(), e_.get(), x.x[1], MPFR_RNDN);  // exact at 300 bits for |x| < 709
    mpfr_exp(e_.get(), e_.get(), MPFR_RNDN);
    mpfr_set_d(y_.get(), y.x[0], MPFR_RNDN);
    mpfr_add_d(y_.get(), y_.get(), y.x[1], MPFR_RNDN);
    mpfr_sub(d_.get(), y_.get(), e_.get(), MPFR_RNDN);
    mpfr_abs(d_.get(), d_.get(), MPFR_RNDN);
    mpfr_mul_2si(b_.get(), e_.get(), -rel_bits, MPFR_RNDN);
    mpfr_set_ui_2exp(t_.get(), 1, -1074, MPFR_RNDN);
    mpfr_add(b_.get(), b_.get(), t_.get(), MPFR_RNDN);
    EXPECT_LE(mpfr_cmp(d_.get(), b_.get()), 0) << describe(x, y);
    if (mpfr_zero_p(d_.get())) return -2000.0;
    mpfr_div(d_.get(), d_.get(), e_.get(), MPFR_RNDN);
    long ex = 0;
    const double m = mpfr_get_d_2exp(&ex, d_.get(), MPFR_RNDN);
    return std::log2(m) + static_cast<double>(ex);
  }

  static std::string describe(const dd_real& x, const dd_real& y) {
    char buf[200];
    std::snprintf(buf, sizeof buf, "x = (%a, %a) -> (%a, %a)", x.x[0], x.x[1], y.x[0], y.x[1]);
    return buf;
  }

 private:
  Mp e_, y_, d_, b_, t_;
};

/** A normalized low word for hi: uniform in [-ulp(hi)/2, ulp(hi)/2]. */
double random_lo(double hi, std::mt19937_64& g) {
  if (hi == 0.0) return 0.0;
  std::uniform_real_distribution<double> u(-0.5, 0.5);
  return u(g) * std::ldexp(1.0, std::ilogb(hi) - 52);
}

/** x_hi uniform in [a, b], low word zero for even i and random for odd i; returns the largest
 * log2 relative error seen. Also checks that the result is normalized (|lo| <= ulp(hi)/2) when
 * its high word is normal and 2^-1022 < |lo|. */
double check_uniform(double a, double b, int n, std::uint64_t seed) {
  std::mt19937_64 g(seed);
  std::uniform_real_distribution<double> u(a, b);
  Checker c;
  double worst = -2000.0;
  for (int i = 0; i < n; ++i) {
    const double hi = u(g);
    const dd_real x = (i % 2 == 0) ? dd_real(hi) : dd_real(hi) + dd_real(random_lo(hi, g));
    const dd_real y = dd_exp(x);
    worst = std::max(worst, c.check(x, y));
    if (std::isnormal(y.x[0]) && std::fabs(y.x[1]) >= std::numeric_limits<double>::min()) {
      EXPECT_LE(std::fabs(y.x[1]), std::ldexp(1.0, std::ilogb(y.x[0]) - 53))
          << Checker::describe(x, y);
    }
  }
  return worst;
}

bool same_bits(const dd_real& a, const dd_real& b) { return std::memcmp(a.x, b.x, 16) == 0; }

TEST(DdExp, WholeRange) {
  // The combined bound is asserted per point in check(); the relative error alone exceeds 2^-103
  // only where a word of the result is subnormal (e^x < 2^-960).
  check_uniform(-709.0, 709.0, 20000, 1);
}

TEST(DdExp, NormalRangeRelative) {
  // e^x >= 2^-960: no subnormal word, the relative bound holds alone (2^-1074 / e^x <= 2^-114).
  const double worst = check_uniform(-665.0, 708.99, 10000, 2);
  EXPECT_LT(worst, -kRelBits);
  RecordProperty("worst_log2_rel_error", std::to_string(worst));
}

TEST(DdExp, KernelRangeAndAtLeastAsAccurateAsQd) {
  const double worst = check_uniform(-30.0, 0.0, 20000, 3);
  EXPECT_LT(worst, -kRelBits);
  // qd's own error on the same kind of arguments (fewer: qd's exp is slow).
  std::mt19937_64 g(4);
  std::uniform_real_distribution<double> u(-30.0, 0.0);
  Checker c;
  double worst_qd = -2000.0;
  for (int i = 0; i < 4000; ++i) {
    const double hi = u(g);
    const dd_real x = dd_real(hi) + dd_real(random_lo(hi, g));
    worst_qd = std::max(worst_qd, c.check(x, exp(x), 95));
  }
  EXPECT_LE(worst, worst_qd);
  RecordProperty("worst_log2_rel_error", std::to_string(worst));
  RecordProperty("qd_worst_log2_rel_error", std::to_string(worst_qd));
}

TEST(DdExp, TinyArguments) {
  std::mt19937_64 g(5);
  std::uniform_real_distribution<double> e(-1074.0, std::log2(1e-10));
  Checker c;
  for (int i = 0; i < 5000; ++i) {
    double hi = std::exp2(e(g));
    if (i % 2 == 1) hi = -hi;
    const dd_real x = (i % 4 < 2) ? dd_real(hi) : dd_real(hi) + dd_real(random_lo(hi, g));
    c.check(x, dd_exp(x));
  }
  for (double hi : {1e-10, -1e-10, 0x1p-1074, -0x1p-1074, 0x1p-1022, 1e-300, -1e-17}) {
    c.check(dd_real(hi), dd_exp(dd_real(hi)));
  }
}

TEST(DdExp, NearMultiplesOfLn2Over256AndTableBoundaries) {
  // x = m ln2 / 256 + delta for integers m (j = m mod 256 = 0 are the multiples of ln2) and
  // half-integers m (where the nearest integer N switches, i.e. the table index changes), delta
  // a few ulps or a small relative offset; with the low word of the dd value of m ln2 / 256.
  std::mt19937_64 g(6);
  std::uniform_int_distribution<int> mi(-261000, 261000);
  std::uniform_int_distribution<int> di(-8, 8);
  Checker c;
  const dd_real ln2_256 = dd_real::_log2 / 256.0;
  for (int i = 0; i < 12000; ++i) {
    double m = mi(g);
    if (i % 4 == 1) m = 256.0 * std::round(m / 256.0);  // multiples of ln2 (j = 0)
    if (i % 4 >= 2) m += 0.5;                           // table boundaries
    dd_real x = ln2_256 * m;
    if (x.x[0] == 0.0) continue;  // m == 0: no ulp to move by (exp(0) is tested below)
    if (i % 3 == 0) {
      x.x[1] = 0.0;  // the double nearest to m ln2 / 256, moved by a few ulps
      x.x[0] += di(g) * std::ldexp(1.0, std::ilogb(x.x[0]) - 52);
    } else if (i % 3 == 1) {
      x = x + dd_real(di(g) * std::ldexp(1.0, std::ilogb(x.x[0]) - 100));
    }
    if (!(x.x[0] > -709.0 && x.x[0] < 709.0)) continue;
    c.check(x, dd_exp(x));
  }
}

TEST(DdExp, ExtremeLowWords) {
  std::mt19937_64 g(7);
  std::uniform_real_distribution<double> u(-709.0, 709.0);
  Checker c;
  for (int i = 0; i < 4000; ++i) {
    const double hi = u(g);
    const double half_ulp = std::ldexp(1.0, std::ilogb(hi) - 53);
    const dd_real x(hi, (i % 2 == 0) ? half_ulp : -half_ulp);
    c.check(x, dd_exp(x));
  }
}

TEST(DdExp, SubnormalRange) {
  // -709 < x_hi < -708.39: the high word is subnormal (as in qd) but nonzero; absolute error
  // <= 2^-1074 + 2^-103 e^x.
  std::mt19937_64 g(8);
  std::uniform_real_distribution<double> u(-709.0, -708.3);
  Checker c;
  for (int i = 0; i < 4000; ++i) {
    const double hi = u(g);
    if (hi <= -709.0) continue;
    const dd_real x = (i % 2 == 0) ? dd_real(hi) : dd_real(hi) + dd_real(random_lo(hi, g));
    const dd_real y = dd_exp(x);
    c.check(x, y);
    EXPECT_GT(y.x[0], 0.0) << Checker::describe(x, y);
  }
}

TEST(DdExp, SpecialArgumentsAsQd) {
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<dd_real> xs = {
      dd_real(0.0),               // (1, 0)
      dd_real(-0.0),              // (1, 0)
      dd_real(0.0, 1e-300),       // (1, 0): qd tests x_hi == 0 only
      dd_real(-0.0, nan),         // (1, 0)
      dd_real(1.0),               // dd_real::_e
      dd_real(-709.0),            // (0, 0)
      dd_real(-709.0, 0x1p-50),   // (0, 0): qd tests x_hi only
      dd_real(-709.0, -0x1p-50),  // (0, 0)
      dd_real(-745.0),            // (0, 0)
      dd_real(-1e300),            // (0, 0)
      dd_real(-inf),              // (0, 0)
      dd_real(-800.0, nan),       // (0, 0)
      dd_real(709.0),             // (inf, inf)
      dd_real(709.0, -0x1p-50),   // (inf, inf)
      dd_real(709.5),             // (inf, inf) although e^709.5 < DBL_MAX
      dd_real(1e308),             // (inf, inf)
      dd_real(inf),               // (inf, inf)
      dd_real(800.0, nan),        // (inf, inf)
      dd_real(nan),               // (nan, nan)
      dd_real(-nan),              // (-nan, -nan)
      dd_real(nan, nan),          // (nan, nan)
      dd_real(1.0, nan),          // (nan, nan)
      dd_real(-1.0, -nan),        // (-nan, -nan)
      dd_real(1.0, inf),          // default NaN
      dd_real(-3.0, -inf),        // default NaN
  };
  for (const dd_real& x : xs) {
    const dd_real mine = dd_exp(x);
    const dd_real ref = exp(x);
    EXPECT_TRUE(same_bits(mine, ref))
        << Checker::describe(x, mine) << " but qd: " << Checker::describe(x, ref);
  }
  EXPECT_TRUE(same_bits(dd_exp(dd_real(0.0)), dd_real(1.0, 0.0)));
  EXPECT_TRUE(same_bits(dd_exp(dd_real(1.0)), dd_real::_e));
}

TEST(DdExp, HorizonsAsQd) {
  // Underflow to 0 exactly when x_hi <= -709, as qd; nonzero just above.
  const double just_above = std::nextafter(-709.0, 0.0);
  EXPECT_GT(dd_exp(dd_real(just_above)).x[0], 0.0);
  EXPECT_GT(exp(dd_real(just_above)).x[0], 0.0);
  // Finite just below 709, inf from 709 on, as qd.
  const dd_real big = dd_exp(dd_real(std::nextafter(709.0, 0.0)));
  EXPECT_TRUE(std::isfinite(big.x[0]) && std::isfinite(big.x[1]));
  EXPECT_TRUE(std::isfinite(exp(dd_real(std::nextafter(709.0, 0.0))).x[0]));
  // The classification that precision --horizons bisects on agrees with qd's on grids around the
  // thresholds: e^x == 0 near -709, e^x < _min_normalized (2^-969) near -671.66, 1 + e^x == 1.
  const double min_normalized = dd_real::_min_normalized;
  for (int i = -2000; i <= 2000; ++i) {
    const double x0 = -709.0 + i * 1e-4;
    EXPECT_EQ(dd_exp(dd_real(x0)).x[0] == 0.0, exp(dd_real(x0)).x[0] == 0.0) << x0;
    const dd_real x1(-969.0 * std::log(2.0) + i * 1e-9);
    EXPECT_EQ(dd_exp(x1) < min_normalized, exp(x1) < min_normalized) << x1.x[0];
    const dd_real x2(-709.0 + i * 1e-7);
    EXPECT_EQ(dd_real(1.0) + dd_exp(x2) == 1.0, dd_real(1.0) + exp(x2) == 1.0) << x2.x[0];
  }
}

TEST(DdExp, Deterministic) {
  std::mt19937_64 g(9);
  std::uniform_real_distribution<double> u(-709.0, 709.0);
  std::vector<dd_real> xs(5000);
  for (dd_real& x : xs) {
    const double hi = u(g);
    x = dd_real(hi) + dd_real(random_lo(hi, g));
  }
  std::vector<dd_real> first(xs.size()), second(xs.size()), other_thread(xs.size());
  for (std::size_t i = 0; i < xs.size(); ++i) first[i] = dd_exp(xs[i]);
  std::thread t([&] {
    for (std::size_t i = 0; i < xs.size(); ++i) other_thread[i] = dd_exp(xs[i]);
  });
  t.join();
  for (std::size_t i = xs.size(); i-- > 0;) second[i] = dd_exp(xs[i]);
  for (std::size_t i = 0; i < xs.size(); ++i) {
    ASSERT_TRUE(same_bits(first[i], second[i])) << Checker::describe(xs[i], first[i]);
    ASSERT_TRUE(same_bits(first[i], other_thread[i])) << Checker::describe(xs[i], first[i]);
  }
}

}  // namespace
}  // namespace ntp

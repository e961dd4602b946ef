/** @file mpfr_exp_test.cpp
 * MpfrExp against mpfr_exp at precision p + 100: error below 1 ulp (and below the proved bound)
 * over random, tiny, near-k ln2 and near-table-boundary arguments of several precisions.
 */
#include "ntp/mpfr_exp.hpp"

#include <gmp.h>
#include <gtest/gtest.h>
#include <mpfr.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <random>
#include <stdexcept>
#include <string>

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

/** Compares MpfrExp::exp with mpfr_exp at p + 100 bits and records the largest error in ulps. */
class Checker {
 public:
  explicit Checker(mpfr_prec_t p) : p_(p), exp_(p), y_(p), ref_(p + 100), diff_(p + 300) {}

  MpfrExp& exp() { return exp_; }
  double max_error() const { return max_error_; }
  long count() const { return count_; }

  void check(mpfr_srcptr x) {
    exp_.exp(y_.get(), x);
    mpfr_exp(ref_.get(), x, MPFR_RNDN);
    ++count_;
    if (!mpfr_regular_p(ref_.get()) || !mpfr_regular_p(y_.get())) {
      // Special, overflowed or underflowed results come from mpfr_exp itself: same class.
      ASSERT_EQ(mpfr_nan_p(y_.get()), mpfr_nan_p(ref_.get())) << describe(x);
      if (!mpfr_nan_p(ref_.get())) {
        mpfr_t yr;
        mpfr_init2(yr, p_);
        mpfr_set(yr, ref_.get(), MPFR_RNDN);
        ASSERT_TRUE(mpfr_equal_p(y_.get(), yr)) << describe(x);
        mpfr_clear(yr);
      }
      return;
    }
    // ulp of the result (the smaller of the exponents of the result and of exp(x)).
    const mpfr_exp_t e = std::min(mpfr_get_exp(y_.get()), mpfr_get_exp(ref_.get()));
    mpfr_sub(diff_.get(), y_.get(), ref_.get(), MPFR_RNDN);  // exact at p + 300 bits
    mpfr_mul_2si(diff_.get(), diff_.get(), p_ - e, MPFR_RNDN);
    const double err = mpfr_get_d(diff_.get(), MPFR_RNDA);
    const double abs_err = err < 0 ? -err : err;
    max_error_ = std::max(max_error_, abs_err);
    ASSERT_LT(abs_err, 1.0) << describe(x);
    // The reference is within 2^-100 ulp of exp(x).
    ASSERT_LE(abs_err, exp_.error_bound() + 0x1p-90) << describe(x);
  }

 private:
  std::string describe(mpfr_srcptr x) {
    char* s = nullptr;
    mpfr_asprintf(&s, "p=%ld x=%.40Rg (prec %ld)", static_cast<long>(p_), x,
                  static_cast<long>(mpfr_get_prec(x)));
    std::string out(s);
    mpfr_free_str(s);
    return out;
  }

  mpfr_prec_t p_;
  MpfrExp exp_;
  Mp y_, ref_, diff_;
  double max_error_ = 0;
  long count_ = 0;
};

/** Sets x to a random value of its precision: d plus random low bits below 2^(EXP(d) - 50). */
void random_near(mpfr_ptr x, double d, gmp_randstate_t rs) {
  mpfr_set_d(x, d, MPFR_RNDN);
  if (d == 0.0) return;
  mpfr_t noise;
  mpfr_init2(noise, mpfr_get_prec(x));
  mpfr_urandomb(noise, rs);
  mpfr_mul_2si(noise, noise, mpfr_get_exp(x) - 50, MPFR_RNDN);
  mpfr_add(x, x, noise, MPFR_RNDN);
  mpfr_clear(noise);
}

void run_all_kinds(mpfr_prec_t p, int random_count) {
  Checker c(p);
  std::mt19937_64 gen(0x5eed0000u + static_cast<std::uint64_t>(p));
  gmp_randstate_t rs;
  gmp_randinit_default(rs);
  gmp_randseed_ui(rs, static_cast<unsigned long>(p));
  std::uniform_real_distribution<double> wide(-800.0, 50.0);
  std::uniform_real_distribution<double> unit(0.0, 1.0);

  // Random arguments in [-800, 50] at precision p, higher and lower.
  for (mpfr_prec_t px : {p, p + 37, std::max<mpfr_prec_t>(2, p / 2), 3 * p + 5}) {
    Mp x(px);
    const int n = px == p ? random_count : random_count / 4;
    for (int i = 0; i < n; ++i) {
      random_near(x.get(), wide(gen), rs);
      c.check(x.get());
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
  // Tiny |x| down to 2^-300, both signs, and exact zeros.
  {
    Mp x(p);
    for (int e = 1; e <= 300; ++e) {
      for (double sign : {1.0, -1.0}) {
        random_near(x.get(), sign * std::ldexp(1.0 + unit(gen), -e), rs);
        c.check(x.get());
        mpfr_set_si_2exp(x.get(), static_cast<long>(sign), -e, MPFR_RNDN);
        c.check(x.get());
      }
    }
    mpfr_set_zero(x.get(), 1);
    c.check(x.get());
    mpfr_set_zero(x.get(), -1);
    c.check(x.get());
    if (::testing::Test::HasFatalFailure()) return;
  }
  // x = k ln2 +- tiny (r near 0 after a cancellation), k over the whole range tested.
  {
    Mp ln2(p + 200), x(p + 20), t(p + 200);
    mpfr_const_log2(ln2.get(), MPFR_RNDN);
    for (long k = -1160; k <= 80; k += 7) {
      for (int j : {0, 10, 60, static_cast<int>(p) - 5, static_cast<int>(p) + 30}) {
        for (int sign : {1, -1}) {
          mpfr_mul_si(t.get(), ln2.get(), k, MPFR_RNDN);
          if (j > 0) {
            mpfr_set_si_2exp(x.get(), sign, -j, MPFR_RNDN);
            mpfr_add(t.get(), t.get(), x.get(), MPFR_RNDN);
          }
          mpfr_set(x.get(), t.get(), MPFR_RNDN);
          c.check(x.get());
        }
      }
      // Halfway between two multiples of ln2: the rounding of k is a tie.
      mpfr_mul_d(t.get(), ln2.get(), static_cast<double>(k) + 0.5, MPFR_RNDN);
      mpfr_set(x.get(), t.get(), MPFR_RNDN);
      c.check(x.get());
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
  // x near the table boundaries i/256 + j/65536 (+ 1/2 step), with tiny offsets, plus k ln2.
  {
    Mp x(p + 10), ln2(p + 200), t(p + 200), off(64);
    mpfr_const_log2(ln2.get(), MPFR_RNDN);
    for (int i = -90; i <= 90; i += 3) {
      for (double half : {0.0, 0.5}) {
        for (int j : {-128, -1, 0, 1, 127, 128}) {
          for (int dj : {0, 17, 33, 70, 200}) {
            for (long k : {0L, 1L, -3L, -700L}) {
              const double base = (i + half) / 256.0 + (j + half) / 65536.0;
              mpfr_mul_si(t.get(), ln2.get(), k, MPFR_RNDN);
              mpfr_add_d(t.get(), t.get(), base, MPFR_RNDN);
              if (dj > 0) {
                mpfr_set_si_2exp(off.get(), (i + j) % 2 == 0 ? 1 : -1, -dj, MPFR_RNDN);
                mpfr_add(t.get(), t.get(), off.get(), MPFR_RNDN);
              }
              mpfr_set(x.get(), t.get(), MPFR_RNDN);
              c.check(x.get());
            }
          }
        }
      }
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
  gmp_randclear(rs);
  EXPECT_LT(c.exp().error_bound(), 0.51);
  EXPECT_LE(c.max_error(), c.exp().error_bound());
  ::testing::Test::RecordProperty("max_error_ulp_p" + std::to_string(p),
                                  std::to_string(c.max_error()));
}

TEST(MpfrExp, AccurateAtManyPrecisions) {
  for (mpfr_prec_t p : {53, 113, 167, 333, 667, 1000, 1700}) {
    SCOPED_TRACE("p=" + std::to_string(p));
    run_all_kinds(p, p >= 1000 ? 1200 : 3000);
    if (HasFatalFailure()) return;
  }
}

TEST(MpfrExp, AccurateForEveryLevelCount) {
  for (int levels = 1; levels <= 5; ++levels) {
    for (mpfr_prec_t p : {24, 167, 667}) {
      MpfrExp e(p, levels);
      EXPECT_EQ(e.levels(), levels);
      EXPECT_LT(e.error_bound(), 0.51);
      Mp x(p + 7), y(p), ref(p + 100), diff(p + 300);
      std::mt19937_64 gen(static_cast<std::uint64_t>(levels * 1000 + p));
      std::uniform_real_distribution<double> wide(-50.0, 50.0);
      for (int i = 0; i < 300; ++i) {
        mpfr_set_d(x.get(), wide(gen), MPFR_RNDN);
        mpfr_nextabove(x.get());
        e.exp(y.get(), x.get());
        mpfr_exp(ref.get(), x.get(), MPFR_RNDN);
        mpfr_sub(diff.get(), y.get(), ref.get(), MPFR_RNDN);
        mpfr_mul_2si(diff.get(), diff.get(), p - mpfr_get_exp(ref.get()), MPFR_RNDN);
        ASSERT_LT(mpfr_get_d(diff.get(), MPFR_RNDA), 1.0) << "levels " << levels << " p " << p;
        ASSERT_GT(mpfr_get_d(diff.get(), MPFR_RNDA), -1.0) << "levels " << levels << " p " << p;
      }
    }
  }
}

TEST(MpfrExp, SpecialAndDelegatedValues) {
  const mpfr_prec_t p = 167;
  MpfrExp e(p);
  Mp x(80), y(p), ref(p);
  auto same_as_mpfr = [&](const char* what) {
    e.exp(y.get(), x.get());
    mpfr_exp(ref.get(), x.get(), MPFR_RNDN);
    if (mpfr_nan_p(ref.get())) {
      EXPECT_TRUE(mpfr_nan_p(y.get())) << what;
    } else {
      EXPECT_TRUE(mpfr_equal_p(y.get(), ref.get())) << what;
    }
  };
  mpfr_set_nan(x.get());
  same_as_mpfr("nan");
  mpfr_set_inf(x.get(), 1);
  same_as_mpfr("+inf");
  EXPECT_TRUE(mpfr_inf_p(y.get()));
  mpfr_set_inf(x.get(), -1);
  same_as_mpfr("-inf");
  EXPECT_TRUE(mpfr_zero_p(y.get()));
  mpfr_set_zero(x.get(), -1);
  same_as_mpfr("-0");
  EXPECT_EQ(mpfr_cmp_ui(y.get(), 1), 0);
  mpfr_set_d(x.get(), 1e12, MPFR_RNDN);  // >= 2^39: overflow
  same_as_mpfr("1e12");
  mpfr_set_d(x.get(), -1e12, MPFR_RNDN);
  same_as_mpfr("-1e12");
  mpfr_set_si_2exp(x.get(), 1, 45, MPFR_RNDN);  // |x| >= 2^40
  same_as_mpfr("2^45");
  // Near the ends of the exponent range: delegated or computed, always as mpfr_exp does.
  for (double scale : {-1.0, 1.0}) {
    const double edge = static_cast<double>(scale < 0 ? mpfr_get_emin() : mpfr_get_emax());
    for (double delta : {-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0}) {
      mpfr_set_d(x.get(), (edge + delta) * 0.6931471805599453, MPFR_RNDN);
      same_as_mpfr("range edge");
    }
  }
}

TEST(MpfrExp, DeterministicAndAliasing) {
  const mpfr_prec_t p = 333;
  MpfrExp e(p);
  Mp x(p), y1(p), y2(p);
  std::mt19937_64 gen(42);
  std::uniform_real_distribution<double> wide(-800.0, 50.0);
  for (int i = 0; i < 200; ++i) {
    mpfr_set_d(x.get(), wide(gen), MPFR_RNDN);
    mpfr_nextabove(x.get());
    e.exp(y1.get(), x.get());
    e.exp(y2.get(), x.get());
    ASSERT_TRUE(mpfr_equal_p(y1.get(), y2.get()));
    if (i % 20 == 0) {  // a second object built from scratch gives the same bits
      MpfrExp fresh(p);
      fresh.exp(y2.get(), x.get());
      ASSERT_TRUE(mpfr_equal_p(y1.get(), y2.get()));
    }
    mpfr_set(y2.get(), x.get(), MPFR_RNDN);
    e.exp(y2.get(), y2.get());  // rop aliases x
    ASSERT_TRUE(mpfr_equal_p(y1.get(), y2.get()));
  }
}

TEST(MpfrExp, PrecisionIsChecked) {
  MpfrExp e(167);
  EXPECT_EQ(e.precision(), 167);
  Mp x(167), wrong(168);
  mpfr_set_d(x.get(), 1.5, MPFR_RNDN);
  EXPECT_THROW(e.exp(wrong.get(), x.get()), std::invalid_argument);
  EXPECT_THROW(MpfrExp(167, 6), std::invalid_argument);
  EXPECT_THROW(MpfrExp(0), std::invalid_argument);
}

}  // namespace
}  // namespace ntp

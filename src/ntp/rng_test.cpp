#include "ntp/rng.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <set>
#include <vector>

namespace ntp {
namespace {

// Distance in units in the last place: the number of doubles between a and b (same sign assumed).
std::int64_t ulp_distance(double a, double b) {
  if (a == b) return 0;
  if ((a < 0) != (b < 0)) return std::numeric_limits<std::int64_t>::max();
  std::int64_t ia = 0, ib = 0;
  std::memcpy(&ia, &a, sizeof a);
  std::memcpy(&ib, &b, sizeof b);
  return ia > ib ? ia - ib : ib - ia;
}

TEST(RngPortableLog, WithinTwoUlpOfStdLog) {
  Rng rng(2024);
  std::int64_t worst = 0;
  for (int i = 0; i < 400000; ++i) {
    // Mantissa in [1, 2), exponent over the whole range including subnormals.
    const int e = static_cast<int>(rng.uniform_int(2100)) - 1074;
    const double x = std::ldexp(1.0 + rng.uniform(), e);
    if (x == 0 || std::isinf(x)) continue;
    const std::int64_t dist = ulp_distance(portable_log(x), std::log(x));
    worst = std::max(worst, dist);
    ASSERT_LE(dist, 2) << std::hexfloat << "x = " << x;
  }
  for (int i = 0; i < 200000; ++i) {
    // Near 1, where log x is small and cancellation would show.
    const double x =
        1.0 + (rng.uniform() - 0.5) * std::ldexp(1.0, -static_cast<int>(rng.uniform_int(50)));
    if (x == 1.0) continue;
    ASSERT_LE(ulp_distance(portable_log(x), std::log(x)), 2) << std::hexfloat << "x = " << x;
  }
  for (const double x :
       {std::numeric_limits<double>::denorm_min(), std::numeric_limits<double>::min(),
        std::numeric_limits<double>::max(), 0.5, 2.0, 10.0, 0x1.6a09e667f3bcdp-1,
        0x1.6a09e667f3bccp-1, std::nextafter(1.0, 0.0), std::nextafter(1.0, 2.0)}) {
    EXPECT_LE(ulp_distance(portable_log(x), std::log(x)), 2) << std::hexfloat << "x = " << x;
  }
  RecordProperty("worst_ulp", static_cast<int>(worst));
}

TEST(RngPortableLog, SpecialValues) {
  EXPECT_EQ(portable_log(1.0), 0.0);
  EXPECT_EQ(portable_log(0.0), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(portable_log(-0.0), -std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(portable_log(-1.0)));
  EXPECT_TRUE(std::isnan(portable_log(std::numeric_limits<double>::quiet_NaN())));
  EXPECT_EQ(portable_log(std::numeric_limits<double>::infinity()),
            std::numeric_limits<double>::infinity());
}

TEST(RngPortableExp, WithinTwoUlpOfStdExp) {
  Rng rng(7);
  for (int i = 0; i < 400000; ++i) {
    const double x = (2.0 * rng.uniform() - 1.0) * 708.0;
    ASSERT_LE(ulp_distance(portable_exp(x), std::exp(x)), 2) << std::hexfloat << "x = " << x;
  }
  for (int i = 0; i < 100000; ++i) {
    const double x =
        (2.0 * rng.uniform() - 1.0) * std::ldexp(1.0, -static_cast<int>(rng.uniform_int(60)));
    ASSERT_LE(ulp_distance(portable_exp(x), std::exp(x)), 2) << std::hexfloat << "x = " << x;
  }
  EXPECT_EQ(portable_exp(0.0), 1.0);
  EXPECT_EQ(portable_exp(710.0), std::numeric_limits<double>::infinity());
  EXPECT_EQ(portable_exp(-746.0), 0.0);
  EXPECT_TRUE(std::isnan(portable_exp(std::numeric_limits<double>::quiet_NaN())));
}

// The golden values below were produced once by this very code (gcc 12 and clang 14, -O0 to -O3,
// -march=native, all identical). They pin determinism across compilers and platforms, not
// correctness: a change to any of them changes every generated instance.
TEST(RngGolden, RawBits) {
  Rng rng(1);
  EXPECT_EQ(rng.next_u64(), 0xef75d62a19ba94edULL);
  EXPECT_EQ(rng.next_u64(), 0x8e9490536375f270ULL);
  EXPECT_EQ(rng.next_u64(), 0xc05630b1c614195dULL);
  EXPECT_EQ(rng.next_u64(), 0x66daa2d5136a8f29ULL);
}

TEST(RngGolden, Uniforms) {
  Rng rng(1);
  EXPECT_EQ(rng.uniform(), 0x1.deebac5433752p-1);
  EXPECT_EQ(rng.uniform(), 0x1.1d2920a6c6ebep-1);
  EXPECT_EQ(rng.uniform(), 0x1.80ac61638c283p-1);
  EXPECT_EQ(rng.uniform(), 0x1.9b6a8b544daa2p-2);
}

TEST(RngGolden, Normals) {
  Rng rng(1);
  EXPECT_EQ(rng.normal(), 0x1.6deb0ad9cd97bp-1);
  EXPECT_EQ(rng.normal(), 0x1.7eee70a82f234p-4);
  EXPECT_EQ(rng.normal(), 0x1.7685facad4d6fp+0);
  EXPECT_EQ(rng.normal(), -0x1.24c3b38af1c32p-1);
}

TEST(RngGolden, GammaAndIntegers) {
  Rng rng(1);
  EXPECT_EQ(rng.gamma(2.5), 0x1.b2f4cb88c93a8p+1);
  EXPECT_EQ(rng.gamma(2.5), 0x1.2752c06b5430dp+1);
  EXPECT_EQ(rng.gamma(2.5), 0x1.0b9518a01853fp+0);
  Rng small(1);
  EXPECT_EQ(small.gamma(0.3), 0x1.6b4a857d1867dp-4);
  EXPECT_EQ(small.gamma(0.3), 0x1.88036f57875d9p-4);
  EXPECT_EQ(small.gamma(0.3), 0x1.4caaf57371c1ap-11);
  Rng ints(42, 7);
  EXPECT_EQ(ints.uniform_int(1000), 101u);
  EXPECT_EQ(ints.uniform_int(1000), 254u);
  EXPECT_EQ(ints.uniform_int(1000), 91u);
}

TEST(RngStreams, SameSeedSameSequenceOtherStreamOrSeedDiffers) {
  Rng a(5, 3), b(5, 3), c(5, 4), d(6, 3);
  bool differs_c = false, differs_d = false;
  for (int i = 0; i < 16; ++i) {
    const auto x = a.next_u64();
    EXPECT_EQ(x, b.next_u64());
    differs_c |= x != c.next_u64();
    differs_d |= x != d.next_u64();
  }
  EXPECT_TRUE(differs_c);
  EXPECT_TRUE(differs_d);
}

TEST(RngUniform, RangeAndGrid) {
  Rng rng(3);
  for (int i = 0; i < 100000; ++i) {
    const double u = rng.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    ASSERT_EQ(std::ldexp(u, 53), std::floor(std::ldexp(u, 53)));  // a multiple of 2^-53
    ASSERT_GT(rng.uniform_positive(), 0.0);
  }
}

TEST(RngUniformInt, RangeAndRoughUniformity) {
  Rng rng(11);
  EXPECT_EQ(rng.uniform_int(1), 0u);
  constexpr int kBins = 7, kDraws = 70000;
  std::vector<int> hist(kBins, 0);
  for (int i = 0; i < kDraws; ++i) {
    const auto r = rng.uniform_int(kBins);
    ASSERT_LT(r, static_cast<std::uint64_t>(kBins));
    ++hist[r];
  }
  // Each bin ~ Binomial(70000, 1/7): mean 10000, sd ~ 92.6; allow 5 sd.
  for (const int h : hist) EXPECT_NEAR(h, 10000, 5 * 92.6);
  // A modulus just above 2^63 exercises the rejection (almost half of the raw draws rejected).
  const std::uint64_t big = (std::uint64_t{1} << 63) + 1;
  for (int i = 0; i < 1000; ++i) ASSERT_LT(rng.uniform_int(big), big);
}

// Mean and variance within 5 standard errors (SE of the mean sigma/sqrt(n), of the sample
// variance sqrt((mu4 - sigma^4)/n)).
void expect_moments(const std::vector<double>& x, double mean, double var, double mu4) {
  const double n = static_cast<double>(x.size());
  double s = 0;
  for (const double v : x) s += v;
  const double m = s / n;
  double ss = 0;
  for (const double v : x) ss += (v - m) * (v - m);
  const double sample_var = ss / (n - 1);
  EXPECT_NEAR(m, mean, 5 * std::sqrt(var / n));
  EXPECT_NEAR(sample_var, var, 5 * std::sqrt((mu4 - var * var) / n));
}

TEST(RngNormal, Moments) {
  Rng rng(123);
  std::vector<double> x(100000);
  for (auto& v : x) v = rng.normal();
  expect_moments(x, 0.0, 1.0, 3.0);
  // Polar method bound: |z| <= sqrt(-2 log s) <= ~12.
  for (const double v : x) ASSERT_LT(std::fabs(v), 12.5);
}

TEST(RngGamma, Moments) {
  for (const double alpha : {0.3, 1.0, 2.5, 40.0}) {
    SCOPED_TRACE(alpha);
    Rng rng(99);
    std::vector<double> x(100000);
    for (auto& v : x) {
      v = rng.gamma(alpha);
      ASSERT_GE(v, 0.0);
    }
    // Gamma(alpha, 1): mean = var = alpha, fourth central moment 3 alpha^2 + 6 alpha.
    expect_moments(x, alpha, alpha, 3 * alpha * alpha + 6 * alpha);
  }
}

TEST(RngDirichlet, SimplexAndMean) {
  Rng rng(8);
  constexpr int kK = 4, kDraws = 20000;
  std::vector<double> mean(kK, 0.0);
  for (int i = 0; i < kDraws; ++i) {
    const auto x = rng.dirichlet(kK, 0.5);
    double s = 0;
    for (int k = 0; k < kK; ++k) {
      ASSERT_GE(x[k], 0.0);
      s += x[k];
      mean[k] += x[k] / kDraws;
    }
    ASSERT_NEAR(s, 1.0, 1e-12);
  }
  // Dirichlet(0.5 1): each component Beta(0.5, 1.5), mean 1/4, sd sqrt(3/80) ~ 0.194.
  for (const double m : mean) EXPECT_NEAR(m, 0.25, 5 * 0.194 / std::sqrt(double{kDraws}));
  // Tiny alpha: every gamma underflows; the documented fallback is uniform.
  const auto tiny = rng.dirichlet(3, 1e-300);
  double s = 0;
  for (const double v : tiny) s += v;
  EXPECT_NEAR(s, 1.0, 1e-12);
}

TEST(RngSubset, SortedDistinctAndRoughlyUniform) {
  Rng rng(17);
  for (const std::int64_t n : {1, 5, 10, 200}) {
    for (std::int64_t k = 0; k <= n; k += (n > 10 ? 37 : 1)) {
      const auto s = rng.subset(n, k);
      ASSERT_EQ(static_cast<std::int64_t>(s.size()), k);
      for (std::size_t i = 0; i < s.size(); ++i) {
        ASSERT_GE(s[i], 0);
        ASSERT_LT(s[i], n);
        if (i > 0) {
          ASSERT_LT(s[i - 1], s[i]);
        }
      }
    }
  }
  // Inclusion frequency of each element is k/n = 0.3 (n = 10, k = 3; and the flag path, k = 90
  // of n = 300).
  for (const auto& [n, k] : {std::pair<int, int>{10, 3}, std::pair<int, int>{300, 90}}) {
    std::vector<int> hist(n, 0);
    constexpr int kDraws = 20000;
    for (int i = 0; i < kDraws; ++i) {
      for (const auto t : rng.subset(n, k)) ++hist[t];
    }
    const double sd = std::sqrt(kDraws * 0.3 * 0.7);
    for (const int h : hist) EXPECT_NEAR(h, kDraws * 0.3, 5 * sd);
  }
}

}  // namespace
}  // namespace ntp

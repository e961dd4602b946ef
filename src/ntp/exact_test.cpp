#include "ntp/exact.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>

#include "ntp/errors.hpp"

namespace ntp {
namespace {

// Random matrix with entries in {-3..3}; products of two of them have rank <= the inner size.
RationalMatrix random_matrix(std::int64_t rows, std::int64_t cols, std::mt19937_64& rng) {
  std::uniform_int_distribution<int> dist(-3, 3);
  RationalMatrix a(rows, cols);
  for (std::int64_t i = 0; i < rows; ++i) {
    for (std::int64_t j = 0; j < cols; ++j) a(i, j) = dist(rng);
  }
  return a;
}

TEST(Exact, IdentityAndProduct) {
  const RationalMatrix a = RationalMatrix::from_rows({{1, 2, 3}, {4, 5, 6}});
  EXPECT_EQ(multiply(RationalMatrix::identity(2), a), a);
  EXPECT_EQ(multiply(a, RationalMatrix::identity(3)), a);
  const RationalMatrix g = multiply(a, transpose(a));
  EXPECT_EQ(g, RationalMatrix::from_rows({{14, 32}, {32, 77}}));
  EXPECT_THROW(multiply(a, a), InvalidInput);
}

TEST(Exact, KnownRanks) {
  EXPECT_EQ(rank(RationalMatrix::from_rows({{1, 2, 3}, {2, 4, 6}, {1, 0, 1}})), 2);
  EXPECT_EQ(rank(RationalMatrix::from_rows({{0, 0}, {0, 0}})), 0);
  EXPECT_EQ(rank(RationalMatrix::identity(5)), 5);
  EXPECT_EQ(rank(RationalMatrix(0, 3)), 0);
  // A rank that only fails modulo the prime: entries p and 0 (rank 1 over Q, 0 mod p).
  RationalMatrix pm(1, 1);
  pm(0, 0) = Rational(BigInt(kRankPrime));
  EXPECT_EQ(rank_mod_prime(pm), 0);
  EXPECT_EQ(rank(pm), 1);
  // Rational entries: rows proportional with factor 1/3.
  RationalMatrix q(2, 2);
  q(0, 0) = Rational(1, 3);
  q(0, 1) = Rational(2, 7);
  q(1, 0) = Rational(1, 9);
  q(1, 1) = Rational(2, 21);
  EXPECT_EQ(rank(q), 1);
  EXPECT_EQ(rank_mod_prime(q), 1);
  EXPECT_FALSE(has_full_row_rank(q));
}

TEST(Exact, RrefKnownAnswer) {
  const RowEchelon e =
      reduced_row_echelon(RationalMatrix::from_rows({{2, 4, 1, 0}, {1, 2, 1, 1}, {3, 6, 2, 1}}));
  EXPECT_EQ(e.rank(), 2);
  EXPECT_EQ(e.pivot_columns, (std::vector<std::int64_t>{0, 2}));
  RationalMatrix r(3, 4);
  r(0, 0) = 1;
  r(0, 1) = 2;
  r(0, 3) = -1;
  r(1, 2) = 1;
  r(1, 3) = 2;
  EXPECT_EQ(e.rref, r);
}

TEST(Exact, KnownNullSpace) {
  // x + y + z = 0: basis (-1, 1, 0), (-1, 0, 1).
  const auto n = integer_null_space(RationalMatrix::from_rows({{1, 1, 1}}));
  ASSERT_EQ(n.size(), 2U);
  EXPECT_EQ(n[0], (std::vector<BigInt>{-1, 1, 0}));
  EXPECT_EQ(n[1], (std::vector<BigInt>{-1, 0, 1}));
  // Rational entries scale to primitive integers: 2x/3 - y/2 = 0 -> (3, 4).
  RationalMatrix q(1, 2);
  q(0, 0) = Rational(2, 3);
  q(0, 1) = Rational(-1, 2);
  const auto nq = integer_null_space(q);
  ASSERT_EQ(nq.size(), 1U);
  EXPECT_EQ(nq[0], (std::vector<BigInt>{3, 4}));
  EXPECT_TRUE(null_space_basis(RationalMatrix::identity(3)).cols() == 0);
}

TEST(Exact, RandomNullSpacesAreExact) {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 40; ++trial) {
    const std::int64_t rows = 1 + trial % 6;
    const std::int64_t cols = 1 + (trial * 7) % 9;
    const std::int64_t inner = 1 + trial % 4;  // rank <= inner
    const RationalMatrix a =
        multiply(random_matrix(rows, inner, rng), random_matrix(inner, cols, rng));
    const std::int64_t r = reduced_row_echelon(a).rank();
    EXPECT_LE(r, inner);
    EXPECT_EQ(rank(a), r);
    EXPECT_LE(rank_mod_prime(a), r);
    const RationalMatrix n = null_space_basis(a);
    EXPECT_EQ(n.cols(), cols - r);
    EXPECT_TRUE(multiply(a, n).is_zero());
    EXPECT_EQ(rank(n), n.cols());  // independent
    for (std::int64_t k = 0; k < n.cols(); ++k) {
      BigInt g = 0;
      for (std::int64_t i = 0; i < n.rows(); ++i) {
        EXPECT_EQ(denominator(n(i, k)), 1);
        g = gcd(g, BigInt(numerator(n(i, k))));
      }
      EXPECT_EQ(g, 1);
    }
  }
}

TEST(Exact, SolveConsistentAndInconsistent) {
  std::mt19937_64 rng(11);
  for (int trial = 0; trial < 20; ++trial) {
    const std::int64_t rows = 2 + trial % 5;
    const std::int64_t cols = 2 + (trial * 3) % 6;
    const RationalMatrix a = random_matrix(rows, cols, rng);
    std::vector<Rational> x0(static_cast<std::size_t>(cols));
    for (std::int64_t i = 0; i < cols; ++i) x0[static_cast<std::size_t>(i)] = Rational(i + 1, 3);
    const std::vector<Rational> b = multiply(a, x0);
    const auto x = solve(a, b);
    ASSERT_TRUE(x.has_value());
    EXPECT_EQ(multiply(a, *x), b);
  }
  // x + y = 1, 2x + 2y = 3 is inconsistent.
  const RationalMatrix a = RationalMatrix::from_rows({{1, 1}, {2, 2}});
  EXPECT_FALSE(solve(a, {Rational(1), Rational(3)}).has_value());
  const auto x = solve(a, {Rational(1), Rational(2)});
  ASSERT_TRUE(x.has_value());
  EXPECT_EQ(multiply(a, *x), (std::vector<Rational>{1, 2}));
  EXPECT_THROW(solve(a, {Rational(1)}), InvalidInput);
}

TEST(Exact, GcdFreeBasis) {
  using V = std::vector<BigInt>;
  EXPECT_EQ(gcd_free_basis({12, 18}), (V{2, 3}));
  EXPECT_EQ(gcd_free_basis({6, 10, 15}), (V{2, 3, 5}));
  EXPECT_EQ(gcd_free_basis({4, 8}), (V{2}));
  EXPECT_EQ(gcd_free_basis({36, 1, 0}), (V{36}));
  EXPECT_EQ(gcd_free_basis({}), V{});
  // Not necessarily prime: 35 and 11 are kept whole.
  const V b = gcd_free_basis({35, 11, 35 * 35 * 11});
  EXPECT_EQ(b, (V{11, 35}));
  const auto e = exponents_over_basis(BigInt(35 * 35 * 11), b);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(*e, (std::vector<std::int64_t>{1, 2}));
  EXPECT_FALSE(exponents_over_basis(BigInt(7), b).has_value());
  // Pairwise coprime, and every input factors over the basis.
  std::mt19937_64 rng(5);
  std::uniform_int_distribution<int> dist(1, 5000);
  V xs;
  for (int i = 0; i < 60; ++i) xs.push_back(BigInt(dist(rng)));
  const V basis = gcd_free_basis(xs);
  for (std::size_t i = 0; i < basis.size(); ++i) {
    for (std::size_t j = i + 1; j < basis.size(); ++j) EXPECT_EQ(gcd(basis[i], basis[j]), 1);
  }
  for (const BigInt& x : xs) EXPECT_TRUE(exponents_over_basis(x, basis).has_value()) << x;
}

TEST(Exact, FullRowRankFastPathAgreesWithElimination) {
  std::mt19937_64 rng(3);
  const RationalMatrix a = random_matrix(30, 50, rng);
  EXPECT_EQ(rank_mod_prime(a), 30);
  EXPECT_EQ(reduced_row_echelon(a).rank(), 30);
  EXPECT_TRUE(has_full_row_rank(a));
}

}  // namespace
}  // namespace ntp

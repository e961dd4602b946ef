#pragma once
/** @file exact.hpp
 * Exact rational linear algebra (GMP rationals): the independent verifier of certificates
 * (design.md "exact"). Nothing here uses floating point; every result is exact.
 *
 * RationalMatrix is a plain dense row-major matrix of Rational. The algorithms are textbook
 * Gauss-Jordan elimination over Q (first nonzero pivot; exact, so no pivoting for stability is
 * needed) plus a rank test modulo a prime that proves full rank quickly (rank mod p <= rank over Q
 * for an integer matrix, since a minor that is nonzero mod p is a nonzero integer).
 */
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ntp/rational.hpp"

namespace ntp {

/** Dense row-major matrix of exact rationals. */
class RationalMatrix {
 public:
  RationalMatrix() = default;
  /** rows x cols zero matrix; throws InvalidInput for negative sizes. */
  RationalMatrix(std::int64_t rows, std::int64_t cols);

  [[nodiscard]] std::int64_t rows() const { return rows_; }
  [[nodiscard]] std::int64_t cols() const { return cols_; }
  Rational& operator()(std::int64_t r, std::int64_t c) {
    return data_[static_cast<std::size_t>(r * cols_ + c)];
  }
  const Rational& operator()(std::int64_t r, std::int64_t c) const {
    return data_[static_cast<std::size_t>(r * cols_ + c)];
  }
  bool operator==(const RationalMatrix& other) const = default;

  /** n x n identity. */
  static RationalMatrix identity(std::int64_t n);
  /** From integer rows (tests, small known-answer matrices); all rows must have equal length. */
  static RationalMatrix from_rows(const std::vector<std::vector<std::int64_t>>& rows);
  /** True when every entry is 0. */
  [[nodiscard]] bool is_zero() const;

 private:
  std::int64_t rows_ = 0;
  std::int64_t cols_ = 0;
  std::vector<Rational> data_;
};

/** A * B (exact); throws InvalidInput when the inner dimensions differ. */
RationalMatrix multiply(const RationalMatrix& a, const RationalMatrix& b);
/** A^T. */
RationalMatrix transpose(const RationalMatrix& a);
/** A x for a column vector x (size a.cols()). */
std::vector<Rational> multiply(const RationalMatrix& a, const std::vector<Rational>& x);

/** The reduced row echelon form R of A with its pivot columns (R has the same shape as A; rows
 * rank..rows-1 are zero; R(k, pivot_columns[k]) = 1 and the rest of that column is 0). */
struct RowEchelon {
  RationalMatrix rref;
  std::vector<std::int64_t> pivot_columns;
  [[nodiscard]] std::int64_t rank() const {
    return static_cast<std::int64_t>(pivot_columns.size());
  }
};

/** Gauss-Jordan elimination over Q. Cost O(rows * rank * cols) rational operations. */
RowEchelon reduced_row_echelon(RationalMatrix a);

/** The exact rank. Tries rank_mod_prime first: when it equals min(rows, cols) that is the rank
 * (proved); otherwise falls back to reduced_row_echelon. */
std::int64_t rank(const RationalMatrix& a);

/** The Mersenne prime 2^61 - 1 used by rank_mod_prime. */
inline constexpr std::uint64_t kRankPrime = (std::uint64_t{1} << 61) - 1;

/**
 * Rank of A modulo the prime p after scaling each row by the lcm of its denominators (row scaling
 * keeps the rank). It is a lower bound of the rank over Q; equal except when p divides certain
 * minors. Throws InvalidInput when p is not in [2, 2^62).
 */
std::int64_t rank_mod_prime(const RationalMatrix& a, std::uint64_t p = kRankPrime);

/** True when rank(A) == A.rows() (exact; fast path modulo kRankPrime). */
bool has_full_row_rank(const RationalMatrix& a);

/**
 * A basis of the null space {x : A x = 0} as the columns of an a.cols() x (a.cols() - rank) matrix.
 * Column k belongs to the k-th free column f of the RREF: its entry at f is positive, its entries
 * at the other free columns are 0, and it is scaled to integers with gcd 1.
 */
RationalMatrix null_space_basis(const RationalMatrix& a);

/** The same basis as integer vectors (one per null space direction). */
std::vector<std::vector<BigInt>> integer_null_space(const RationalMatrix& a);

/** A solution of A x = b (exact, free variables 0), or std::nullopt when the system is
 * inconsistent. Throws InvalidInput when b.size() != a.rows(). */
std::optional<std::vector<Rational>> solve(const RationalMatrix& a, const std::vector<Rational>& b);

/**
 * A gcd-free (coprime) basis of the integers xs: pairwise coprime integers b_i > 1, ascending, such
 * that every x in xs with x >= 1 is a product of powers of them. Entries <= 1 are ignored. Since
 * prod b_i^{e_i} = 1 with pairwise coprime b_i > 1 forces every e_i = 0, the logarithms of the b_i
 * are linearly independent over Q: the exact test of "sum y_k log r_k = 0" (compatibility.hpp).
 * Only gcds and exact divisions; O(n^2) gcds per pass.
 */
std::vector<BigInt> gcd_free_basis(std::vector<BigInt> xs);

/** The exponents of x over a gcd-free basis (x = prod basis[i]^e[i]); std::nullopt when x does not
 * factor over it. x must be >= 1. */
std::optional<std::vector<std::int64_t>> exponents_over_basis(BigInt x,
                                                              const std::vector<BigInt>& basis);

/** Scales a rational vector to integers with gcd 1 (same direction; the zero vector stays 0). */
std::vector<BigInt> to_primitive_integer_vector(const std::vector<Rational>& v);

}  // namespace ntp

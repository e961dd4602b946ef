#pragma once
/** @file flint_linalg.hpp
 * Fast exact integer linear algebra through FLINT (libflint-dev): the *solver* side of the exact
 * certificates (it finds exact rational solutions quickly: p-adic lifting, multimodular
 * determinants). The *verifier* side stays in plain GMP code (exact.hpp and the verify_* functions
 * of each module), so a certificate never depends on FLINT being right.
 *
 * Measured on paper-main (the 250 x 250 Gram matrix of the (C) rows, 34-bit entries, det of 8022
 * bits): determinant 0.11 s, solve with a 1200-bit right-hand side 0.10 s (one core).
 */
#include <cstdint>
#include <optional>
#include <vector>

#include "ntp/rational.hpp"

namespace ntp {

/** Dense row-major integer matrix. */
struct IntegerMatrix {
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::vector<BigInt> data;

  IntegerMatrix() = default;
  IntegerMatrix(std::int64_t r, std::int64_t c)
      : rows(r), cols(c), data(static_cast<std::size_t>(r * c), BigInt(0)) {}
  BigInt& operator()(std::int64_t r, std::int64_t c) {
    return data[static_cast<std::size_t>(r * cols + c)];
  }
  const BigInt& operator()(std::int64_t r, std::int64_t c) const {
    return data[static_cast<std::size_t>(r * cols + c)];
  }
};

/** A * B (FLINT fmpz_mat_mul); throws InvalidInput when the inner dimensions differ. */
IntegerMatrix multiply(const IntegerMatrix& a, const IntegerMatrix& b);

/** The principal submatrix M[idx, idx]. */
IntegerMatrix principal_submatrix(const IntegerMatrix& m, const std::vector<std::int64_t>& idx);

/**
 * For a Gram matrix M = R R^T (symmetric), indices S of rows of R that are linearly independent
 * over Q and, unless an unlucky prime divides a minor, span the row space of R: the pivot columns
 * of the reduced row echelon form of M modulo a 62-bit prime (greedy: an earlier row is kept in
 * preference to a later one). Column i of M is R r_i, and R is injective on its row space, so
 * columns of M independent mod p => rows of R independent over Q; M[S, S] is then nonsingular.
 */
std::vector<std::int64_t> independent_rows_of_gram(const IntegerMatrix& gram);

/** The solution X = A^{-1} B of a square nonsingular system as integer numerators over one
 * positive common denominator: X = x / den. */
struct IntegerSolution {
  IntegerMatrix x;
  BigInt den;
};

/** Solves A X = B exactly (FLINT fmpz_mat_solve: Dixon p-adic lifting for large systems);
 * std::nullopt when A is singular. Throws InvalidInput on shape mismatch. */
std::optional<IntegerSolution> solve_exact(const IntegerMatrix& a, const IntegerMatrix& b);

/** det(A) exactly (FLINT multimodular); throws InvalidInput when A is not square. */
BigInt determinant(const IntegerMatrix& a);

/** Number of bits of |x| (0 for x = 0): 2^(bits-1) <= |x| < 2^bits. */
std::int64_t bit_length(const BigInt& x);

}  // namespace ntp

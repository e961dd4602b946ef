#include "ntp/flint_linalg.hpp"

#include <flint/fmpz.h>
#include <flint/fmpz_mat.h>
#include <flint/nmod_mat.h>
#include <gmp.h>

#include <string>

#include "ntp/errors.hpp"

namespace ntp {

namespace {

/** RAII fmpz_mat_t. */
class FmpzMat {
 public:
  FmpzMat(std::int64_t r, std::int64_t c) { fmpz_mat_init(m_, r, c); }
  explicit FmpzMat(const IntegerMatrix& a) : FmpzMat(a.rows, a.cols) {
    for (std::int64_t i = 0; i < a.rows; ++i) {
      for (std::int64_t j = 0; j < a.cols; ++j) {
        fmpz_set_mpz(fmpz_mat_entry(m_, i, j), a(i, j).backend().data());
      }
    }
  }
  ~FmpzMat() { fmpz_mat_clear(m_); }
  FmpzMat(const FmpzMat&) = delete;
  FmpzMat& operator=(const FmpzMat&) = delete;
  fmpz_mat_struct* get() { return m_; }

  [[nodiscard]] IntegerMatrix to_integer_matrix() const {
    IntegerMatrix out(fmpz_mat_nrows(m_), fmpz_mat_ncols(m_));
    for (std::int64_t i = 0; i < out.rows; ++i) {
      for (std::int64_t j = 0; j < out.cols; ++j) {
        fmpz_get_mpz(out(i, j).backend().data(), fmpz_mat_entry(m_, i, j));
      }
    }
    return out;
  }

 private:
  fmpz_mat_t m_;
};

/** RAII fmpz_t. */
class Fmpz {
 public:
  Fmpz() { fmpz_init(x_); }
  ~Fmpz() { fmpz_clear(x_); }
  Fmpz(const Fmpz&) = delete;
  Fmpz& operator=(const Fmpz&) = delete;
  fmpz* get() { return x_; }
  [[nodiscard]] BigInt to_big() const {
    BigInt out;
    fmpz_get_mpz(out.backend().data(), x_);
    return out;
  }

 private:
  fmpz_t x_;
};

/** 2^62 - 57, a prime (used only to choose rows; the choice is verified over Q by the caller). */
constexpr mp_limb_t kSelectionPrime = (mp_limb_t{1} << 62) - 57;

}  // namespace

std::int64_t bit_length(const BigInt& x) {
  if (x == 0) return 0;
  return static_cast<std::int64_t>(mpz_sizeinbase(x.backend().data(), 2));
}

IntegerMatrix multiply(const IntegerMatrix& a, const IntegerMatrix& b) {
  if (a.cols != b.rows) {
    throw InvalidInput("multiply: inner dimensions must agree, got " + std::to_string(a.cols) +
                       " and " + std::to_string(b.rows));
  }
  FmpzMat fa(a);
  FmpzMat fb(b);
  FmpzMat fc(a.rows, b.cols);
  fmpz_mat_mul(fc.get(), fa.get(), fb.get());
  return fc.to_integer_matrix();
}

IntegerMatrix principal_submatrix(const IntegerMatrix& m, const std::vector<std::int64_t>& idx) {
  const auto n = static_cast<std::int64_t>(idx.size());
  IntegerMatrix out(n, n);
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t j = 0; j < n; ++j) {
      out(i, j) = m(idx[static_cast<std::size_t>(i)], idx[static_cast<std::size_t>(j)]);
    }
  }
  return out;
}

std::vector<std::int64_t> independent_rows_of_gram(const IntegerMatrix& gram) {
  if (gram.rows != gram.cols) {
    throw InvalidInput("independent_rows_of_gram: the Gram matrix must be square, got " +
                       std::to_string(gram.rows) + " x " + std::to_string(gram.cols));
  }
  const std::int64_t n = gram.rows;
  std::vector<std::int64_t> pivots;
  if (n == 0) return pivots;
  nmod_mat_t a;
  nmod_mat_init(a, n, n, kSelectionPrime);
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t j = 0; j < n; ++j) {
      mpz_srcptr v = gram(i, j).backend().data();
      mp_limb_t r = mpz_fdiv_ui(v, kSelectionPrime);  // in [0, p)
      nmod_mat_entry(a, i, j) = r;
    }
  }
  const slong rank = nmod_mat_rref(a);
  // Pivot column of each nonzero row of the RREF: its first nonzero entry.
  std::int64_t col = 0;
  for (slong r = 0; r < rank; ++r) {
    while (col < n && nmod_mat_entry(a, r, col) == 0) ++col;
    if (col == n) break;
    pivots.push_back(col);
    ++col;
  }
  nmod_mat_clear(a);
  return pivots;
}

std::optional<IntegerSolution> solve_exact(const IntegerMatrix& a, const IntegerMatrix& b) {
  if (a.rows != a.cols || b.rows != a.rows) {
    throw InvalidInput("solve_exact: need a square A and B with as many rows, got A " +
                       std::to_string(a.rows) + " x " + std::to_string(a.cols) + ", B " +
                       std::to_string(b.rows) + " x " + std::to_string(b.cols));
  }
  IntegerSolution out;
  if (a.rows == 0) {
    out.x = IntegerMatrix(0, b.cols);
    out.den = 1;
    return out;
  }
  FmpzMat fa(a);
  FmpzMat fb(b);
  FmpzMat fx(b.rows, b.cols);
  Fmpz den;
  if (fmpz_mat_solve(fx.get(), den.get(), fa.get(), fb.get()) == 0) return std::nullopt;
  out.x = fx.to_integer_matrix();
  out.den = den.to_big();
  if (out.den < 0) {
    out.den = -out.den;
    for (BigInt& v : out.x.data) v = -v;
  }
  if (out.den == 0) return std::nullopt;
  return out;
}

BigInt determinant(const IntegerMatrix& a) {
  if (a.rows != a.cols) {
    throw InvalidInput("determinant: the matrix must be square, got " + std::to_string(a.rows) +
                       " x " + std::to_string(a.cols));
  }
  if (a.rows == 0) return BigInt(1);
  FmpzMat fa(a);
  Fmpz det;
  fmpz_mat_det(det.get(), fa.get());
  return det.to_big();
}

}  // namespace ntp

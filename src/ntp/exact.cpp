#include "ntp/exact.hpp"

#include <gmp.h>

#include <algorithm>
#include <utility>

#include "ntp/errors.hpp"

namespace ntp {

RationalMatrix::RationalMatrix(std::int64_t rows, std::int64_t cols) : rows_(rows), cols_(cols) {
  if (rows < 0 || cols < 0) {
    throw InvalidInput("rational matrix: size must be non-negative, got " + std::to_string(rows) +
                       " x " + std::to_string(cols));
  }
  data_.assign(static_cast<std::size_t>(rows * cols), Rational(0));
}

RationalMatrix RationalMatrix::identity(std::int64_t n) {
  RationalMatrix m(n, n);
  for (std::int64_t i = 0; i < n; ++i) m(i, i) = 1;
  return m;
}

RationalMatrix RationalMatrix::from_rows(const std::vector<std::vector<std::int64_t>>& rows) {
  const std::int64_t r = static_cast<std::int64_t>(rows.size());
  const std::int64_t c = r == 0 ? 0 : static_cast<std::int64_t>(rows.front().size());
  RationalMatrix m(r, c);
  for (std::int64_t i = 0; i < r; ++i) {
    const auto& row = rows[static_cast<std::size_t>(i)];
    if (static_cast<std::int64_t>(row.size()) != c) {
      throw InvalidInput("rational matrix: row " + std::to_string(i) + " length must be " +
                         std::to_string(c) + ", got " + std::to_string(row.size()));
    }
    for (std::int64_t k = 0; k < c; ++k) m(i, k) = Rational(row[static_cast<std::size_t>(k)]);
  }
  return m;
}

bool RationalMatrix::is_zero() const {
  return std::all_of(data_.begin(), data_.end(), [](const Rational& q) { return q == 0; });
}

RationalMatrix multiply(const RationalMatrix& a, const RationalMatrix& b) {
  if (a.cols() != b.rows()) {
    throw InvalidInput("rational multiply: inner dimensions must agree, got " +
                       std::to_string(a.cols()) + " and " + std::to_string(b.rows()));
  }
  RationalMatrix c(a.rows(), b.cols());
  Rational t;
  for (std::int64_t i = 0; i < a.rows(); ++i) {
    for (std::int64_t k = 0; k < a.cols(); ++k) {
      const Rational& aik = a(i, k);
      if (aik == 0) continue;
      for (std::int64_t j = 0; j < b.cols(); ++j) {
        if (b(k, j) == 0) continue;
        t = aik * b(k, j);
        c(i, j) += t;
      }
    }
  }
  return c;
}

RationalMatrix transpose(const RationalMatrix& a) {
  RationalMatrix t(a.cols(), a.rows());
  for (std::int64_t i = 0; i < a.rows(); ++i) {
    for (std::int64_t j = 0; j < a.cols(); ++j) t(j, i) = a(i, j);
  }
  return t;
}

std::vector<Rational> multiply(const RationalMatrix& a, const std::vector<Rational>& x) {
  if (a.cols() != static_cast<std::int64_t>(x.size())) {
    throw InvalidInput("rational multiply: vector size must be " + std::to_string(a.cols()) +
                       ", got " + std::to_string(x.size()));
  }
  std::vector<Rational> y(static_cast<std::size_t>(a.rows()), Rational(0));
  for (std::int64_t i = 0; i < a.rows(); ++i) {
    for (std::int64_t k = 0; k < a.cols(); ++k) {
      if (a(i, k) != 0 && x[static_cast<std::size_t>(k)] != 0) {
        y[static_cast<std::size_t>(i)] += a(i, k) * x[static_cast<std::size_t>(k)];
      }
    }
  }
  return y;
}

RowEchelon reduced_row_echelon(RationalMatrix a) {
  RowEchelon out;
  const std::int64_t rows = a.rows();
  const std::int64_t cols = a.cols();
  std::int64_t r = 0;
  Rational factor;
  Rational t;
  for (std::int64_t c = 0; c < cols && r < rows; ++c) {
    std::int64_t p = r;
    while (p < rows && a(p, c) == 0) ++p;
    if (p == rows) continue;
    if (p != r) {
      for (std::int64_t k = c; k < cols; ++k) std::swap(a(p, k), a(r, k));
    }
    const Rational inv = 1 / a(r, c);
    for (std::int64_t k = c; k < cols; ++k) {
      if (a(r, k) != 0) a(r, k) *= inv;
    }
    for (std::int64_t i = 0; i < rows; ++i) {
      if (i == r || a(i, c) == 0) continue;
      factor = a(i, c);
      for (std::int64_t k = c; k < cols; ++k) {
        if (a(r, k) == 0) continue;
        t = factor * a(r, k);
        a(i, k) -= t;
      }
    }
    out.pivot_columns.push_back(c);
    ++r;
  }
  out.rref = std::move(a);
  return out;
}

namespace {

std::uint64_t mul_mod(std::uint64_t a, std::uint64_t b, std::uint64_t p) {
  return static_cast<std::uint64_t>((static_cast<unsigned __int128>(a) * b) % p);
}

std::uint64_t pow_mod(std::uint64_t a, std::uint64_t e, std::uint64_t p) {
  std::uint64_t r = 1 % p;
  while (e > 0) {
    if (e & 1U) r = mul_mod(r, a, p);
    a = mul_mod(a, a, p);
    e >>= 1U;
  }
  return r;
}

std::uint64_t mod_of(const BigInt& n, std::uint64_t p) {
  static_assert(sizeof(unsigned long) == sizeof(std::uint64_t), "LP64 needed for mpz_fdiv_ui");
  return mpz_fdiv_ui(n.backend().data(), static_cast<unsigned long>(p));
}

}  // namespace

std::int64_t rank_mod_prime(const RationalMatrix& a, std::uint64_t p) {
  if (p < 2 || p >= (std::uint64_t{1} << 62)) {
    throw InvalidInput("rank_mod_prime: p must be in [2, 2^62), got " + std::to_string(p));
  }
  const std::int64_t rows = a.rows();
  const std::int64_t cols = a.cols();
  std::vector<std::uint64_t> m(static_cast<std::size_t>(rows * cols), 0);
  for (std::int64_t i = 0; i < rows; ++i) {
    BigInt l = 1;
    for (std::int64_t k = 0; k < cols; ++k) {
      if (a(i, k) != 0) l = lcm(l, BigInt(denominator(a(i, k))));
    }
    for (std::int64_t k = 0; k < cols; ++k) {
      if (a(i, k) == 0) continue;
      const BigInt v = numerator(a(i, k)) * (l / denominator(a(i, k)));
      m[static_cast<std::size_t>(i * cols + k)] = mod_of(v, p);
    }
  }
  auto at = [&](std::int64_t i, std::int64_t k) -> std::uint64_t& {
    return m[static_cast<std::size_t>(i * cols + k)];
  };
  std::int64_t r = 0;
  for (std::int64_t c = 0; c < cols && r < rows; ++c) {
    std::int64_t piv = r;
    while (piv < rows && at(piv, c) == 0) ++piv;
    if (piv == rows) continue;
    if (piv != r) {
      for (std::int64_t k = c; k < cols; ++k) std::swap(at(piv, k), at(r, k));
    }
    const std::uint64_t inv = pow_mod(at(r, c), p - 2, p);
    for (std::int64_t k = c; k < cols; ++k) at(r, k) = mul_mod(at(r, k), inv, p);
    for (std::int64_t i = r + 1; i < rows; ++i) {
      const std::uint64_t f = at(i, c);
      if (f == 0) continue;
      for (std::int64_t k = c; k < cols; ++k) {
        const std::uint64_t t = mul_mod(f, at(r, k), p);
        at(i, k) = at(i, k) >= t ? at(i, k) - t : at(i, k) + p - t;
      }
    }
    ++r;
  }
  return r;
}

std::int64_t rank(const RationalMatrix& a) {
  const std::int64_t full = std::min(a.rows(), a.cols());
  if (rank_mod_prime(a) == full) return full;
  return reduced_row_echelon(a).rank();
}

bool has_full_row_rank(const RationalMatrix& a) { return rank(a) == a.rows(); }

std::vector<BigInt> gcd_free_basis(std::vector<BigInt> xs) {
  auto tidy = [](std::vector<BigInt>& v) {
    v.erase(std::remove_if(v.begin(), v.end(), [](const BigInt& x) { return x <= 1; }), v.end());
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
  };
  tidy(xs);
  // Invariant: every input is a product of powers of the current list. Replacing a, b (with
  // g = gcd(a, b) > 1) by a/g, b/g, g keeps it and strictly lowers the product of the list.
  bool changed = true;
  while (changed) {
    changed = false;
    for (std::size_t i = 0; i < xs.size(); ++i) {
      for (std::size_t j = i + 1; j < xs.size() && xs[i] > 1; ++j) {
        if (xs[j] <= 1) continue;
        const BigInt g = gcd(xs[i], xs[j]);
        if (g == 1) continue;
        xs[i] /= g;
        xs[j] /= g;
        xs.push_back(g);
        changed = true;
      }
    }
    tidy(xs);
  }
  return xs;
}

std::optional<std::vector<std::int64_t>> exponents_over_basis(BigInt x,
                                                              const std::vector<BigInt>& basis) {
  if (x < 1) {
    throw InvalidInput("exponents_over_basis: x must be >= 1, got " + x.str());
  }
  std::vector<std::int64_t> e(basis.size(), 0);
  for (std::size_t i = 0; i < basis.size() && x > 1; ++i) {
    while (x % basis[i] == 0) {
      x /= basis[i];
      ++e[i];
    }
  }
  if (x != 1) return std::nullopt;
  return e;
}

std::vector<BigInt> to_primitive_integer_vector(const std::vector<Rational>& v) {
  BigInt l = 1;
  for (const Rational& q : v) {
    if (q != 0) l = lcm(l, BigInt(denominator(q)));
  }
  std::vector<BigInt> out(v.size());
  BigInt g = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    out[i] = numerator(v[i]) * (l / denominator(v[i]));
    g = gcd(g, out[i]);
  }
  if (g > 1) {
    for (BigInt& x : out) x /= g;
  }
  return out;
}

std::vector<std::vector<BigInt>> integer_null_space(const RationalMatrix& a) {
  const RowEchelon e = reduced_row_echelon(a);
  const std::int64_t n = a.cols();
  std::vector<bool> is_pivot(static_cast<std::size_t>(n), false);
  for (std::int64_t c : e.pivot_columns) is_pivot[static_cast<std::size_t>(c)] = true;
  std::vector<std::vector<BigInt>> basis;
  for (std::int64_t f = 0; f < n; ++f) {
    if (is_pivot[static_cast<std::size_t>(f)]) continue;
    std::vector<Rational> x(static_cast<std::size_t>(n), Rational(0));
    x[static_cast<std::size_t>(f)] = 1;
    for (std::int64_t k = 0; k < e.rank(); ++k) {
      x[static_cast<std::size_t>(e.pivot_columns[static_cast<std::size_t>(k)])] = -e.rref(k, f);
    }
    basis.push_back(to_primitive_integer_vector(x));
  }
  return basis;
}

RationalMatrix null_space_basis(const RationalMatrix& a) {
  const auto basis = integer_null_space(a);
  RationalMatrix n(a.cols(), static_cast<std::int64_t>(basis.size()));
  for (std::size_t k = 0; k < basis.size(); ++k) {
    for (std::int64_t i = 0; i < a.cols(); ++i) {
      n(i, static_cast<std::int64_t>(k)) = Rational(basis[k][static_cast<std::size_t>(i)]);
    }
  }
  return n;
}

std::optional<std::vector<Rational>> solve(const RationalMatrix& a,
                                           const std::vector<Rational>& b) {
  if (static_cast<std::int64_t>(b.size()) != a.rows()) {
    throw InvalidInput("rational solve: right-hand side size must be " + std::to_string(a.rows()) +
                       ", got " + std::to_string(b.size()));
  }
  const std::int64_t n = a.cols();
  RationalMatrix aug(a.rows(), n + 1);
  for (std::int64_t i = 0; i < a.rows(); ++i) {
    for (std::int64_t k = 0; k < n; ++k) aug(i, k) = a(i, k);
    aug(i, n) = b[static_cast<std::size_t>(i)];
  }
  const RowEchelon e = reduced_row_echelon(std::move(aug));
  if (!e.pivot_columns.empty() && e.pivot_columns.back() == n) return std::nullopt;
  std::vector<Rational> x(static_cast<std::size_t>(n), Rational(0));
  for (std::int64_t k = 0; k < e.rank(); ++k) {
    x[static_cast<std::size_t>(e.pivot_columns[static_cast<std::size_t>(k)])] = e.rref(k, n);
  }
  return x;
}

}  // namespace ntp

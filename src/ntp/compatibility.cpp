#include "ntp/compatibility.hpp"

#include <gmp.h>
#include <mpfi.h>
#include <mpfr.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>

#include "ntp/errors.hpp"
#include "ntp/exact.hpp"
#include "ntp/flint_linalg.hpp"
#include "ntp/interval.hpp"
#include "ntp/token_rows.hpp"

namespace ntp {

std::string to_string(CompatibilityCertificate c) {
  switch (c) {
    case CompatibilityCertificate::kFullRowRank:
      return "full_row_rank";
    case CompatibilityCertificate::kLeftNullSpaceExact:
      return "left_null_space_exact";
    case CompatibilityCertificate::kViolationExact:
      return "violation_exact";
    case CompatibilityCertificate::kViolationInterval:
      return "violation_interval";
    case CompatibilityCertificate::kNone:
      return "none";
  }
  return "unknown";
}

namespace {

void check_y_size(const std::vector<AnchorRow>& rows, const std::vector<BigInt>& y) {
  if (y.size() != rows.size()) {
    throw InvalidInput("compatibility certificate: y size must be " + std::to_string(rows.size()) +
                       ", got " + std::to_string(y.size()));
  }
}

/** log r correctly rounded to double (MPFR). */
double log_to_double(const Rational& r) {
  Real x(200);
  mpfr_set_q(x.get(), r.backend().data(), MPFR_RNDN);
  mpfr_log(x.get(), x.get(), MPFR_RNDN);
  return mpfr_get_d(x.get(), MPFR_RNDN);
}

}  // namespace

bool in_left_null_space(const InstanceData& data, const std::vector<BigInt>& y) {
  const std::vector<AnchorRow> rows = anchor_rows(data);
  check_y_size(rows, y);
  const std::int64_t V = data.vocab_size;
  const std::int64_t d = data.embedding_dim;
  // sum_k y_k (e_z - e_{z_j}) h_j^T, accumulated entrywise: it must be the zero matrix.
  std::vector<Rational> sum(static_cast<std::size_t>(V * d), Rational(0));
  for (std::size_t k = 0; k < rows.size(); ++k) {
    if (y[k] == 0) continue;
    const auto& h = data.contexts[static_cast<std::size_t>(rows[k].context)].embedding;
    const Rational yk(y[k]);
    for (std::int64_t i = 0; i < d; ++i) {
      const Rational t = yk * h[static_cast<std::size_t>(i)];
      sum[static_cast<std::size_t>(rows[k].token + V * i)] += t;
      sum[static_cast<std::size_t>(rows[k].anchor + V * i)] -= t;
    }
  }
  for (const Rational& q : sum) {
    if (q != 0) return false;
  }
  return true;
}

namespace {

/** y . a = 0 decided over a gcd-free basis of the numerators and denominators of the r_k. */
bool log_combination_is_zero_coprime(const std::vector<AnchorRow>& rows,
                                     const std::vector<BigInt>& y) {
  std::vector<BigInt> parts;
  for (std::size_t k = 0; k < rows.size(); ++k) {
    if (y[k] == 0) continue;
    parts.push_back(numerator(rows[k].ratio));
    parts.push_back(denominator(rows[k].ratio));
  }
  const std::vector<BigInt> basis = gcd_free_basis(parts);
  std::vector<BigInt> total(basis.size(), BigInt(0));  // sum_k y_k e_{k,i}
  for (std::size_t k = 0; k < rows.size(); ++k) {
    if (y[k] == 0) continue;
    const auto en = exponents_over_basis(numerator(rows[k].ratio), basis);
    const auto ed = exponents_over_basis(denominator(rows[k].ratio), basis);
    if (!en || !ed) {
      throw InternalError("compatibility: ratio must factor over its gcd-free basis, got row " +
                          std::to_string(k));
    }
    for (std::size_t i = 0; i < basis.size(); ++i) {
      total[i] += y[k] * BigInt((*en)[i] - (*ed)[i]);
    }
  }
  return std::all_of(total.begin(), total.end(), [](const BigInt& t) { return t == 0; });
}

}  // namespace

int exact_log_combination_is_zero(const std::vector<AnchorRow>& rows, const std::vector<BigInt>& y,
                                  const CompatibilityOptions& options) {
  const std::int64_t max_bits = options.max_exact_power_bits;
  check_y_size(rows, y);
  // Bit-size estimate of the two products before forming them.
  double bits = 0;
  for (std::size_t k = 0; k < rows.size(); ++k) {
    if (y[k] == 0) continue;
    const double e = std::abs(y[k].convert_to<double>());
    const double b =
        static_cast<double>(mpz_sizeinbase(numerator(rows[k].ratio).backend().data(), 2) +
                            mpz_sizeinbase(denominator(rows[k].ratio).backend().data(), 2));
    bits += e * b;
    if (bits > static_cast<double>(max_bits)) {
      if (!options.gcd_free_basis_test) return -1;
      return log_combination_is_zero_coprime(rows, y) ? 1 : 0;
    }
  }
  // y . a = 0  <=>  prod_{y_k > 0} r_k^{y_k} == prod_{y_k < 0} r_k^{-y_k}, compared as
  // num_plus * den_minus == num_minus * den_plus (integers).
  BigInt lhs = 1;
  BigInt rhs = 1;
  for (std::size_t k = 0; k < rows.size(); ++k) {
    if (y[k] == 0) continue;
    const BigInt num = numerator(rows[k].ratio);
    const BigInt den = denominator(rows[k].ratio);
    const auto e = static_cast<unsigned>(abs(y[k]).convert_to<unsigned long>());
    if (y[k] > 0) {
      lhs *= pow(num, e);
      rhs *= pow(den, e);
    } else {
      lhs *= pow(den, e);
      rhs *= pow(num, e);
    }
  }
  return lhs == rhs ? 1 : 0;
}

Enclosure enclose_log_combination(const std::vector<AnchorRow>& rows, const std::vector<BigInt>& y,
                                  long precision_bits) {
  check_y_size(rows, y);
  Interval sum(precision_bits);
  Interval term(precision_bits);
  mpfi_set_ui(sum.get(), 0);
  for (std::size_t k = 0; k < rows.size(); ++k) {
    if (y[k] == 0) continue;
    mpfi_set_q(term.get(), rows[k].ratio.backend().data());  // encloses r_k
    mpfi_log(term.get(), term.get());                        // encloses log r_k
    mpfi_mul_z(term.get(), term.get(), y[k].backend().data());
    mpfi_add(sum.get(), sum.get(), term.get());
  }
  Real end(precision_bits);
  Enclosure out;
  mpfi_get_left(end.get(), sum.get());
  out.lo = mpfr_get_d(end.get(), MPFR_RNDD);
  mpfi_get_right(end.get(), sum.get());
  out.hi = mpfr_get_d(end.get(), MPFR_RNDU);
  return out;
}

double residual_upper_bound(const InstanceData& data, const Eigen::MatrixXd& w,
                            long precision_bits) {
  const std::int64_t V = data.vocab_size;
  const std::int64_t d = data.embedding_dim;
  if (w.rows() != V || w.cols() != d) {
    throw InvalidInput("residual_upper_bound: W must be " + std::to_string(V) + " x " +
                       std::to_string(d) + ", got " + std::to_string(w.rows()) + " x " +
                       std::to_string(w.cols()));
  }
  const std::vector<AnchorRow> rows = anchor_rows(data);
  Interval r(precision_bits);
  Interval lhs(precision_bits);
  Real mag(precision_bits);
  double worst = 0;
  for (const AnchorRow& row : rows) {
    // (e_z - e_{z_j})^T W h_j, exactly.
    const auto& h = data.contexts[static_cast<std::size_t>(row.context)].embedding;
    Rational s = 0;
    for (std::int64_t i = 0; i < d; ++i) {
      if (h[static_cast<std::size_t>(i)] == 0) continue;
      s += h[static_cast<std::size_t>(i)] *
           (rational_from_double(w(row.token, i)) - rational_from_double(w(row.anchor, i)));
    }
    mpfi_set_q(r.get(), row.ratio.backend().data());
    mpfi_log(r.get(), r.get());
    mpfi_set_q(lhs.get(), s.backend().data());
    mpfi_sub(lhs.get(), lhs.get(), r.get());
    mpfi_mag(mag.get(), lhs.get());  // max |x| over the interval, rounded up
    worst = std::max(worst, mpfr_get_d(mag.get(), MPFR_RNDU));
  }
  return worst;
}

bool verify_incompatibility_certificate(const InstanceData& data, const std::vector<BigInt>& y,
                                        const CompatibilityOptions& options) {
  const std::vector<AnchorRow> rows = anchor_rows(data);
  if (y.size() != rows.size() || !in_left_null_space(data, y)) return false;
  const int exact = exact_log_combination_is_zero(rows, y, options);
  if (exact >= 0) return exact == 0;
  return enclose_log_combination(rows, y, options.interval_precision_bits).excludes_zero();
}

bool verify_compatibility_certificate(const InstanceData& data,
                                      const std::vector<std::vector<BigInt>>& left_null_space,
                                      std::string* why, const CompatibilityOptions& options) {
  auto fail = [&](const std::string& msg) {
    if (why) *why = msg;
    return false;
  };
  const std::vector<AnchorRow> rows = anchor_rows(data);
  const auto n = static_cast<std::int64_t>(rows.size());
  const auto q = static_cast<std::int64_t>(left_null_space.size());
  for (std::int64_t k = 0; k < q; ++k) {
    const auto& y = left_null_space[static_cast<std::size_t>(k)];
    const std::string where = "left_null_space[" + std::to_string(k) + "]";
    if (static_cast<std::int64_t>(y.size()) != n) {
      return fail(where + ": must have " + std::to_string(n) + " entries, got " +
                  std::to_string(y.size()));
    }
    if (!in_left_null_space(data, y)) return fail(where + ": A^T y is not 0");
    const int exact = exact_log_combination_is_zero(rows, y, options);
    if (exact == 0) return fail(where + ": prod r^y != 1, so (C) is violated");
    if (exact < 0) return fail(where + ": prod r^y == 1 was not decided exactly");
  }
  if (q > 0) {
    RationalMatrix ym(q, n);
    for (std::int64_t k = 0; k < q; ++k) {
      for (std::int64_t i = 0; i < n; ++i) {
        ym(k, i) =
            Rational(left_null_space[static_cast<std::size_t>(k)][static_cast<std::size_t>(i)]);
      }
    }
    if (!has_full_row_rank(ym)) return fail("left_null_space: the vectors are linearly dependent");
  }
  // rank A = rank A A^T; its rank modulo a prime (FLINT) is a lower bound of the rank over Q.
  std::vector<TokenPairRow> arows;
  arows.reserve(rows.size());
  for (const AnchorRow& r : rows) arows.push_back({r.context, r.token, r.anchor});
  if (n > 0 &&
      static_cast<std::int64_t>(
          independent_rows_of_gram(row_gram(scale_embeddings(data), arows)).size()) < n - q) {
    return fail("left_null_space: rank A modulo a prime is below #rows - |Y| = " +
                std::to_string(n - q) + ", so Y may not span the left null space");
  }
  return true;
}

CompatibilityResult check_compatibility(const InstanceData& data,
                                        const CompatibilityOptions& options) {
  CompatibilityResult res;
  const std::vector<AnchorRow> rows = anchor_rows(data);
  res.num_equations = static_cast<std::int64_t>(rows.size());
  const std::vector<std::vector<BigInt>> basis = left_null_space_basis(data);
  res.left_null_dim = static_cast<std::int64_t>(basis.size());
  res.rank = res.num_equations - res.left_null_dim;
  if (res.left_null_dim == 0) {
    res.verdict = CompatibilityVerdict::kHolds;
    res.certificate = CompatibilityCertificate::kFullRowRank;
  } else {
    bool all_exact_one = true;
    std::string undecided;
    for (const std::vector<BigInt>& y : basis) {
      // The basis came from a structured computation; check each vector independently.
      if (!in_left_null_space(data, y)) {
        throw InternalError(
            "compatibility: left null space vector must satisfy A^T y = 0, got a "
            "nonzero residual");
      }
      const int exact = exact_log_combination_is_zero(rows, y, options);
      if (exact == 1) continue;
      all_exact_one = false;
      const Enclosure enc = enclose_log_combination(rows, y, options.interval_precision_bits);
      if (exact == 0 || enc.excludes_zero()) {
        res.verdict = CompatibilityVerdict::kViolated;
        res.certificate = exact == 0 ? CompatibilityCertificate::kViolationExact
                                     : CompatibilityCertificate::kViolationInterval;
        res.y = y;
        res.y_dot_a = enc;
        break;
      }
      if (undecided.empty()) {
        undecided =
            "a left null space vector was not decided exactly (exact tests off or refused) "
            "and its enclosure of y.a contains 0";
      }
    }
    if (res.verdict != CompatibilityVerdict::kViolated) {
      if (all_exact_one) {
        res.verdict = CompatibilityVerdict::kHolds;
        res.certificate = CompatibilityCertificate::kLeftNullSpaceExact;
        res.left_null_space = basis;
      } else {
        res.verdict = CompatibilityVerdict::kInconclusive;
        res.certificate = CompatibilityCertificate::kNone;
        res.reason = undecided;
      }
    }
  }
  if (options.compute_w_star) {
    const Instance<double> inst = to_scalar<double>(data);
    const SubspaceBasis f = subspace_basis(inst);
    res.numeric_rank = f.rank;
    Eigen::VectorXd rhs(static_cast<Eigen::Index>(rows.size()));
    for (std::size_t k = 0; k < rows.size(); ++k) {
      rhs(static_cast<Eigen::Index>(k)) = log_to_double(rows[k].ratio);
    }
    if (f.rank == 0) {
      res.w_star = Eigen::MatrixXd::Zero(inst.V, inst.d);
      res.w_star_residual = rhs.size() == 0 ? 0.0 : rhs.cwiseAbs().maxCoeff();
    } else {
      // A = U_r Sigma_r B_r^T (numerical rank r): W* = B_r Sigma_r^{-1} U_r^T a, in F = row space.
      const Eigen::VectorXd c =
          (f.left.transpose() * rhs).cwiseQuotient(f.singular_values.head(f.rank));
      const Eigen::VectorXd w = f.basis * c;
      res.w_star = unvec(w, inst.V, inst.d);
      const Eigen::MatrixXd g = generator_matrix(inst);
      res.w_star_residual = (g * w - rhs).cwiseAbs().maxCoeff();
    }
    res.w_star_residual_bound =
        residual_upper_bound(data, res.w_star, options.interval_precision_bits);
  }
  return res;
}

}  // namespace ntp

#include "ntp/w_star.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <set>

#include "ntp/errors.hpp"
#include "ntp/flint_linalg.hpp"
#include "ntp/interval.hpp"
#include "ntp/subspace.hpp"
#include "ntp/token_rows.hpp"

namespace ntp {

namespace {

std::vector<TokenPairRow> rows_of(const std::vector<AnchorRow>& anchors,
                                  const std::vector<std::int64_t>& idx) {
  std::vector<TokenPairRow> out;
  out.reserve(idx.size());
  for (std::int64_t k : idx) {
    const AnchorRow& a = anchors[static_cast<std::size_t>(k)];
    out.push_back({a.context, a.token, a.anchor});
  }
  return out;
}

/** Lambda = max_i sum_k |M(i, k)| (an upper bound of lambda_max for symmetric M). */
BigInt max_abs_row_sum(const IntegerMatrix& m) {
  BigInt best = 0;
  for (std::int64_t i = 0; i < m.rows; ++i) {
    BigInt s = 0;
    for (std::int64_t k = 0; k < m.cols; ++k) s += abs(m(i, k));
    if (s > best) best = s;
  }
  return best;
}

/** log2 of an upper bound of L sqrt(Lambda^{q-1} / det) = 1 / sigma_min(A_S) (double estimate
 * used only to choose a precision). */
double log2_inverse_sigma_estimate(const BigInt& scale, const BigInt& lambda, const BigInt& det,
                                   std::int64_t q) {
  return static_cast<double>(bit_length(scale)) +
         0.5 * (static_cast<double>(q - 1) * static_cast<double>(bit_length(lambda)) -
                static_cast<double>(bit_length(det) - 1));
}

}  // namespace

std::optional<double> verify_w_star_certificate(const InstanceData& data,
                                                const WStarCertificate& cert,
                                                std::int64_t rank_upper_bound, std::string* why,
                                                std::vector<Rational>* w_mid_out) {
  auto fail = [&](const std::string& msg) -> std::optional<double> {
    if (why) *why = msg;
    return std::nullopt;
  };
  const std::vector<AnchorRow> anchors = anchor_rows(data);
  const auto q = static_cast<std::int64_t>(cert.rows.size());
  if (cert.y.size() != cert.rows.size()) {
    return fail("w_star: y must have one entry per row (" + std::to_string(q) + "), got " +
                std::to_string(cert.y.size()));
  }
  if (cert.precision_bits < 64 || cert.precision_bits > 1'000'000) {
    return fail("w_star: precision_bits must be in [64, 1000000], got " +
                std::to_string(cert.precision_bits));
  }
  // The bound ||r|| / sigma_min(A_S) is about the solution in span(S): S must span all of F.
  if (q < rank_upper_bound) {
    return fail("w_star: " + std::to_string(q) +
                " rows cannot span F, whose dimension may be up to " +
                std::to_string(rank_upper_bound));
  }
  std::set<std::int64_t> seen;
  for (std::int64_t k : cert.rows) {
    if (k < 0 || k >= static_cast<std::int64_t>(anchors.size()) || !seen.insert(k).second) {
      return fail("w_star: rows must be distinct anchor row indices in [0, " +
                  std::to_string(anchors.size()) + "), got " + std::to_string(k));
    }
  }
  const std::int64_t V = data.vocab_size;
  const std::int64_t d = data.embedding_dim;
  const ScaledEmbeddings emb = scale_embeddings(data);
  const std::vector<TokenPairRow> rows = rows_of(anchors, cert.rows);
  // W_num = Dy * scale * W_mid, Dy = lcm of the denominators of y.
  BigInt dy = 1;
  for (const Rational& x : cert.y) dy = boost::multiprecision::lcm(dy, denominator(x));
  std::vector<BigInt> c(cert.y.size());
  for (std::size_t k = 0; k < c.size(); ++k) {
    c[k] = numerator(cert.y[k]) * (dy / denominator(cert.y[k]));
  }
  const IntegerMatrix w_num = combine_rows(emb, rows, c, V);
  if (w_mid_out) {
    w_mid_out->assign(static_cast<std::size_t>(V * d), Rational(0));
    const BigInt den = dy * emb.scale;
    for (std::size_t k = 0; k < w_num.data.size(); ++k)
      (*w_mid_out)[k] = Rational(w_num.data[k], den);
  }
  if (q == 0) return 0.0;  // F = {0}: W* = 0 = W_mid
  const IntegerMatrix gram = row_gram(emb, rows);
  const BigInt det = determinant(gram);
  if (det <= 0)
    return fail("w_star: the rows are linearly dependent (det of their Gram matrix is 0)");
  const BigInt lambda = max_abs_row_sum(gram);
  // ||r||_2^2 with r_k = log ratio_k - (A_S W_mid)_k, enclosed.
  const long prec = cert.precision_bits;
  const BigInt unit = dy * emb.scale * emb.scale;  // (A W_mid)_k = value / unit
  Interval r(prec);
  Interval t(prec);
  Real sum_sq(prec);
  Real mag(prec);
  mpfr_set_ui(sum_sq.get(), 0, MPFR_RNDU);
  for (std::int64_t k = 0; k < q; ++k) {
    const TokenPairRow& row = rows[static_cast<std::size_t>(k)];
    BigInt value = 0;
    for (std::int64_t i = 0; i < d; ++i) {
      const BigInt& h = emb.h(i, row.context);
      if (h != 0) value += (w_num(row.a, i) - w_num(row.b, i)) * h;
    }
    const Rational awk(value, unit);
    mpfi_set_q(r.get(), anchors[static_cast<std::size_t>(cert.rows[static_cast<std::size_t>(k)])]
                            .ratio.backend()
                            .data());
    mpfi_log(r.get(), r.get());
    mpfi_set_q(t.get(), awk.backend().data());
    mpfi_sub(r.get(), r.get(), t.get());
    mpfi_mag(mag.get(), r.get());
    mpfr_sqr(mag.get(), mag.get(), MPFR_RNDU);
    mpfr_add(sum_sq.get(), sum_sq.get(), mag.get(), MPFR_RNDU);
  }
  // bound = sqrt(sum_sq) * scale * sqrt(Lambda^{q-1} / det), every step rounded up.
  Real b(prec);
  Real x(prec);
  mpfr_set_z(b.get(), lambda.backend().data(), MPFR_RNDU);
  mpfr_pow_ui(b.get(), b.get(), static_cast<unsigned long>(q - 1), MPFR_RNDU);
  mpfr_set_z(x.get(), det.backend().data(), MPFR_RNDD);
  mpfr_div(b.get(), b.get(), x.get(), MPFR_RNDU);
  mpfr_mul(b.get(), b.get(), sum_sq.get(), MPFR_RNDU);
  mpfr_sqrt(b.get(), b.get(), MPFR_RNDU);
  mpfr_set_z(x.get(), emb.scale.backend().data(), MPFR_RNDU);
  mpfr_mul(b.get(), b.get(), x.get(), MPFR_RNDU);
  const double radius = mpfr_get_d(b.get(), MPFR_RNDU);
  if (!(radius <= cert.radius)) {
    char buf[128];
    std::snprintf(buf, sizeof buf, "w_star: the recomputed radius %.3e exceeds the claimed %.3e",
                  radius, cert.radius);
    return fail(buf);
  }
  return radius;
}

WStarResult enclose_w_star(const InstanceData& data, CompatibilityVerdict compat, int target_bits,
                           std::int64_t dim_f) {
  const auto t0 = std::chrono::steady_clock::now();
  WStarResult res;
  if (compat != CompatibilityVerdict::kHolds) {
    res.reason = "NTP_H-compatibility (C) is not proven, so W* is not defined";
    return res;
  }
  const std::int64_t V = data.vocab_size;
  const std::int64_t d = data.embedding_dim;
  const std::vector<AnchorRow> anchors = anchor_rows(data);
  const ScaledEmbeddings emb = scale_embeddings(data);
  std::vector<TokenPairRow> all;
  all.reserve(anchors.size());
  for (const AnchorRow& a : anchors) all.push_back({a.context, a.token, a.anchor});
  const IntegerMatrix gram_all = row_gram(emb, all);
  const std::vector<std::int64_t> idx = independent_rows_of_gram(gram_all);
  const auto q = static_cast<std::int64_t>(idx.size());
  if (dim_f >= 0 && q != dim_f) {
    res.reason = "the rows chosen modulo a prime (" + std::to_string(q) +
                 ") do not reach dim F = " + std::to_string(dim_f);
    return res;
  }
  res.dim_f = q;
  WStarCertificate& cert = res.certificate;
  cert.rows = idx;
  if (q > 0) {
    const IntegerMatrix gram = principal_submatrix(gram_all, idx);
    const BigInt det = determinant(gram);
    res.det_bits = bit_length(det);
    if (det == 0) {
      res.reason = "the chosen rows are dependent (unlucky selection prime)";
      return res;
    }
    const BigInt lambda = max_abs_row_sum(gram);
    // Precision: radius ~ 2^-target needs |r| ~ 2^-(target + log2(1/sigma_min) + log2 sqrt q).
    double amax = 0;
    for (std::int64_t k : idx) {
      amax = std::max(
          amax, std::abs(std::log(rational_to_double(anchors[static_cast<std::size_t>(k)].ratio))));
    }
    const double need = target_bits + log2_inverse_sigma_estimate(emb.scale, lambda, det, q) +
                        0.5 * std::log2(static_cast<double>(q)) + std::log2(1.0 + amax) + 16;
    res.log_precision_bits = std::max(64L, static_cast<long>(std::ceil(need)));
    // a~ (P-bit dyadics) and the exact system M y = scale^2 a~ (M = integer Gram).
    std::vector<Rational> a(static_cast<std::size_t>(q));
    Real lg(res.log_precision_bits);
    for (std::int64_t k = 0; k < q; ++k) {
      mpfr_set_q(lg.get(),
                 anchors[static_cast<std::size_t>(idx[static_cast<std::size_t>(k)])]
                     .ratio.backend()
                     .data(),
                 MPFR_RNDN);
      mpfr_log(lg.get(), lg.get(), MPFR_RNDN);
      mpfr_get_q(a[static_cast<std::size_t>(k)].backend().data(), lg.get());
    }
    BigInt da = 1;
    for (const Rational& x : a) da = boost::multiprecision::lcm(da, denominator(x));
    IntegerMatrix rhs(q, 1);
    for (std::int64_t k = 0; k < q; ++k) {
      const Rational& x = a[static_cast<std::size_t>(k)];
      rhs(k, 0) = numerator(x) * (da / denominator(x)) * emb.scale * emb.scale;
    }
    const auto sol = solve_exact(gram, rhs);
    if (!sol) {
      res.reason = "the Gram system of the chosen rows is singular";
      return res;
    }
    cert.y.resize(static_cast<std::size_t>(q));
    const BigInt den = sol->den * da;
    for (std::int64_t k = 0; k < q; ++k) {
      cert.y[static_cast<std::size_t>(k)] = Rational(sol->x(k, 0), den);
    }
  }
  cert.precision_bits = std::max(64L, res.log_precision_bits + 64);
  cert.radius = std::numeric_limits<double>::infinity();
  std::string why;
  const auto radius = verify_w_star_certificate(data, cert, q, &why, &res.w_mid);
  if (!radius) {
    res.reason = "the enclosure failed its own verification: " + why;
    return res;
  }
  cert.radius = *radius;
  res.radius = *radius;
  // Nearest doubles, their rigorous error, and the norm enclosure.
  res.w_double.resize(V, d);
  Rational norm_sq = 0;
  double max_round = 0;
  for (std::int64_t v = 0; v < V; ++v) {
    for (std::int64_t i = 0; i < d; ++i) {
      const Rational& x = res.w_mid[static_cast<std::size_t>(v * d + i)];
      const double xd = rational_to_double(x);
      res.w_double(v, i) = xd;
      const Rational err = abs(x - rational_from_double(xd));
      Real e(64);
      mpfr_set_q(e.get(), err.backend().data(), MPFR_RNDU);
      max_round = std::max(max_round, mpfr_get_d(e.get(), MPFR_RNDU));
      norm_sq += x * x;
    }
  }
  Real nrm(128);
  mpfr_set_q(nrm.get(), norm_sq.backend().data(), MPFR_RNDD);
  mpfr_sqrt(nrm.get(), nrm.get(), MPFR_RNDD);
  mpfr_sub_d(nrm.get(), nrm.get(), res.radius, MPFR_RNDD);
  res.norm_lo = std::max(0.0, mpfr_get_d(nrm.get(), MPFR_RNDD));
  mpfr_set_q(nrm.get(), norm_sq.backend().data(), MPFR_RNDU);
  mpfr_sqrt(nrm.get(), nrm.get(), MPFR_RNDU);
  mpfr_add_d(nrm.get(), nrm.get(), res.radius, MPFR_RNDU);
  res.norm_hi = mpfr_get_d(nrm.get(), MPFR_RNDU);
  res.norm = std::sqrt(rational_to_double(norm_sq));
  {
    Real e(64);
    mpfr_set_d(e.get(), max_round, MPFR_RNDU);
    mpfr_add_d(e.get(), e.get(), res.radius, MPFR_RNDU);
    res.max_error_double = mpfr_get_d(e.get(), MPFR_RNDU);
  }
  res.computed = true;
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

}  // namespace ntp

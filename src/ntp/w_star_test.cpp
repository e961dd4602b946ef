#include "ntp/w_star.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "ntp/compatibility.hpp"
#include "ntp/generators.hpp"
#include "ntp/instance.hpp"
#include "ntp/interval.hpp"
#include "ntp/rational.hpp"
#include "ntp/subspace.hpp"
#include "ntp/test_support.hpp"

namespace ntp {
namespace {

using testing_support::family;
using testing_support::hand_instance;
using testing_support::rank_deficient_instance;
using testing_support::with_repeated_context;

/** Precision of the reference values (bits); they are compared with slack 2^-kSlackLog2. */
constexpr long kRefPrec = 300;
constexpr long kSlackLog2 = 250;

/** A vector of MPFR reference values at kRefPrec bits, all 0 initially. */
class RefVector {
 public:
  explicit RefVector(std::size_t n) {
    for (std::size_t k = 0; k < n; ++k) {
      v_.push_back(std::make_unique<Real>(kRefPrec));
      mpfr_set_ui(v_.back()->get(), 0, MPFR_RNDN);
    }
  }
  mpfr_ptr operator[](std::size_t k) { return v_[k]->get(); }
  mpfr_srcptr operator[](std::size_t k) const { return v_[k]->get(); }
  [[nodiscard]] std::size_t size() const { return v_.size(); }

 private:
  std::vector<std::unique_ptr<Real>> v_;
};

/** log q at kRefPrec bits into x. */
void log_of(mpfr_ptr x, const Rational& q) {
  mpfr_set_q(x, q.backend().data(), MPFR_RNDN);
  mpfr_log(x, x, MPFR_RNDN);
}

/** W* for orthonormal embeddings (theory.md §2 "Closed forms"): Lambda*(v, j) = log p_{j,v} -
 * (1/|S_j|) sum_{z in S_j} log p_{j,z} on S_j, 0 elsewhere; W* = Lambda* Hbar^T (row-major). */
RefVector orthonormal_w_star(const InstanceData& data) {
  const std::int64_t d = data.embedding_dim;
  RefVector w(static_cast<std::size_t>(data.vocab_size * d));
  Real mean(kRefPrec);
  Real lp(kRefPrec);
  Real t(kRefPrec);
  for (const ContextData& c : data.contexts) {
    mpfr_set_ui(mean.get(), 0, MPFR_RNDN);
    for (const Rational& p : c.probabilities) {
      log_of(lp.get(), p);
      mpfr_add(mean.get(), mean.get(), lp.get(), MPFR_RNDN);
    }
    mpfr_div_ui(mean.get(), mean.get(), static_cast<unsigned long>(c.tokens.size()), MPFR_RNDN);
    for (std::size_t k = 0; k < c.tokens.size(); ++k) {
      log_of(lp.get(), c.probabilities[k]);
      mpfr_sub(lp.get(), lp.get(), mean.get(), MPFR_RNDN);  // Lambda*(z, j)
      for (std::int64_t i = 0; i < d; ++i) {
        mpfr_mul_q(t.get(), lp.get(), c.embedding[static_cast<std::size_t>(i)].backend().data(),
                   MPFR_RNDN);
        const auto e = static_cast<std::size_t>(c.tokens[k] * d + i);
        mpfr_add(w[e], w[e], t.get(), MPFR_RNDN);
      }
    }
  }
  return w;
}

/** |W_mid - W*| <= radius + 2^-250 entrywise (the Frobenius radius bounds every entry), the same
 * for the doubles with max_error_double, and ||W*||_F in [norm_lo, norm_hi]. */
void expect_encloses(const WStarResult& ws, const RefVector& expected, const std::string& label) {
  ASSERT_TRUE(ws.computed) << label << ": " << ws.reason;
  ASSERT_EQ(ws.w_mid.size(), expected.size()) << label;
  Real slack(kRefPrec);
  Real tol(kRefPrec);
  Real tol_double(kRefPrec);
  Real diff(kRefPrec);
  Real norm_sq(kRefPrec);
  mpfr_set_ui_2exp(slack.get(), 1, -kSlackLog2, MPFR_RNDN);
  mpfr_set_d(tol.get(), ws.radius, MPFR_RNDN);
  mpfr_add(tol.get(), tol.get(), slack.get(), MPFR_RNDU);
  mpfr_set_d(tol_double.get(), ws.max_error_double, MPFR_RNDN);
  mpfr_add(tol_double.get(), tol_double.get(), slack.get(), MPFR_RNDU);
  mpfr_set_ui(norm_sq.get(), 0, MPFR_RNDN);
  const auto d = static_cast<std::size_t>(ws.w_double.cols());
  for (std::size_t k = 0; k < expected.size(); ++k) {
    mpfr_set_q(diff.get(), ws.w_mid[k].backend().data(), MPFR_RNDN);
    mpfr_sub(diff.get(), diff.get(), expected[k], MPFR_RNDN);
    mpfr_abs(diff.get(), diff.get(), MPFR_RNDN);
    EXPECT_LE(mpfr_cmp(diff.get(), tol.get()), 0)
        << label << ": entry " << k << " differs by " << mpfr_get_d(diff.get(), MPFR_RNDU)
        << ", radius " << ws.radius;
    mpfr_set_d(diff.get(),
               ws.w_double(static_cast<Eigen::Index>(k / d), static_cast<Eigen::Index>(k % d)),
               MPFR_RNDN);
    mpfr_sub(diff.get(), diff.get(), expected[k], MPFR_RNDN);
    mpfr_abs(diff.get(), diff.get(), MPFR_RNDN);
    EXPECT_LE(mpfr_cmp(diff.get(), tol_double.get()), 0) << label << ": double entry " << k;
    mpfr_fma(norm_sq.get(), expected[k], expected[k], norm_sq.get(), MPFR_RNDN);
  }
  mpfr_sqrt(norm_sq.get(), norm_sq.get(), MPFR_RNDN);
  const double norm = mpfr_get_d(norm_sq.get(), MPFR_RNDN);
  EXPECT_LE(ws.norm_lo, norm * (1 + 1e-15)) << label;
  EXPECT_GE(ws.norm_hi, norm * (1 - 1e-15)) << label;
}

/** Exact ||a - b||_F <= ra + rb: the two enclosures intersect. */
void expect_enclosures_intersect(const WStarResult& a, const WStarResult& b,
                                 const std::string& label) {
  ASSERT_EQ(a.w_mid.size(), b.w_mid.size()) << label;
  Rational dist_sq = 0;
  for (std::size_t k = 0; k < a.w_mid.size(); ++k) {
    const Rational e = a.w_mid[k] - b.w_mid[k];
    dist_sq += e * e;
  }
  const Rational r = rational_from_double(a.radius) + rational_from_double(b.radius);
  EXPECT_LE(dist_sq, r * r) << label;
}

/** The d = 4 > m = 3 orthonormal embeddings: a rotation by (3/5, 4/5) and e_3; coordinate 4
 * unused. Hbar^T Hbar = I. Supports {0,1,2}, {1,3}, {5} with non-uniform probabilities. */
InstanceData rotated_orthonormal_instance() {
  return hand_instance(6,
                       {{Rational(3, 5), Rational(4, 5), Rational(0), Rational(0)},
                        {Rational(-4, 5), Rational(3, 5), Rational(0), Rational(0)},
                        {Rational(0), Rational(0), Rational(1), Rational(0)}},
                       {{0, 1, 2}, {1, 3}, {5}},
                       {{Rational(1, 2), Rational(1, 3), Rational(1, 6)},
                        {Rational(1, 4), Rational(3, 4)},
                        {Rational(1)}});
}

WStarResult enclose(const InstanceData& data, int target_bits = 200) {
  const CompatibilityResult compat = check_compatibility(data);
  EXPECT_EQ(to_string(compat.verdict), "holds");
  return enclose_w_star(data, compat.verdict, target_bits, compat.rank);
}

TEST(WStar, OneHotOrthonormalIsZero) {
  // [T Remark 1]: |S_j| = 1 gives no (C) row, F = {0}, W* = 0, exactly.
  const std::vector<std::vector<std::int32_t>> s = {{0}, {3}, {1}, {0}, {4}};
  const InstanceData data = basis_embedding_instance(5, s, uniform_probabilities(s));
  const WStarResult ws = enclose(data);
  ASSERT_TRUE(ws.computed) << ws.reason;
  EXPECT_EQ(ws.dim_f, 0);
  EXPECT_TRUE(ws.certificate.rows.empty());
  ASSERT_EQ(ws.w_mid.size(), 25U);
  for (const Rational& x : ws.w_mid) {
    EXPECT_EQ(x, 0);
  }
  EXPECT_EQ(ws.radius, 0.0);
  EXPECT_EQ(ws.norm_lo, 0.0);
  EXPECT_EQ(ws.norm_hi, 0.0);
  std::string why;
  const auto r = verify_w_star_certificate(data, ws.certificate, exact_dim_f(data), &why);
  ASSERT_TRUE(r.has_value()) << why;
  EXPECT_EQ(*r, 0.0);
}

TEST(WStar, OrthonormalIsTheCentredLogProbabilities) {
  // theory.md §2 closed form: W* = Lambda* Hbar^T with Lambda* the centred in-support
  // log-probabilities.
  const InstanceData data = rotated_orthonormal_instance();
  const WStarResult ws = enclose(data);
  expect_encloses(ws, orthonormal_w_star(data), "rotated orthonormal");
  // Orthonormal embeddings: the sum_j (|S_j| - 1) = 2 + 1 + 0 rows are independent.
  EXPECT_EQ(ws.dim_f, 3);
  EXPECT_LT(ws.radius, 1e-40);
  // W* lies in F, a span of rows (e_z - e_v) h_j^T: coordinate 4 (orthogonal to every h_j) is 0.
  for (std::int64_t v = 0; v < 6; ++v) {
    EXPECT_EQ(ws.w_mid[static_cast<std::size_t>(v * 4 + 3)], 0);
  }
  // The basis embeddings of basis_embedding_instance, d = m: W* = Lambda* itself.
  const std::vector<std::vector<std::int32_t>> s = {{0, 2}, {1, 2, 3}, {4}, {0, 1, 2, 3}};
  const InstanceData basis =
      basis_embedding_instance(5, s,
                               {{Rational(1, 10), Rational(9, 10)},
                                {Rational(2, 7), Rational(2, 7), Rational(3, 7)},
                                {Rational(1)},
                                {Rational(1, 8), Rational(1, 8), Rational(1, 4), Rational(1, 2)}});
  expect_encloses(enclose(basis), orthonormal_w_star(basis), "basis embeddings");
}

TEST(WStar, TargetBitsControlsTheRadius) {
  // The precision is chosen so that the radius is about 2^-target_bits (w_star.hpp step 3; the
  // choice keeps 16 guard bits, so 2^-target is an upper bound).
  const InstanceData data = rotated_orthonormal_instance();
  const RefVector expected = orthonormal_w_star(data);
  const WStarResult coarse = enclose(data, 64);
  const WStarResult fine = enclose(data, 200);
  expect_encloses(coarse, expected, "target 64");
  expect_encloses(fine, expected, "target 200");
  EXPECT_GT(coarse.radius, 0.0);  // the logs are irrational, so the residual is not 0
  EXPECT_LE(coarse.radius, std::ldexp(1.0, -64));
  EXPECT_LE(fine.radius, std::ldexp(1.0, -200));
  EXPECT_LT(fine.radius, coarse.radius);
  EXPECT_LT(coarse.log_precision_bits, fine.log_precision_bits);
  expect_enclosures_intersect(coarse, fine, "64 vs 200");
}

TEST(WStar, IncompatibleRepeatedEmbeddingsAreNotComputed) {
  // Two contexts with the same embedding; p_1/p_0 = 2 in the first and 1 in the second:
  // (C) asks (e_1 - e_0)^T W h = log 2 and = 0.
  InstanceData data = basis_embedding_instance(
      4, {{0, 1}, {0, 1, 2}},
      {{Rational(1, 3), Rational(2, 3)}, {Rational(1, 5), Rational(1, 5), Rational(3, 5)}});
  data.contexts[1].embedding = data.contexts[0].embedding;
  const CompatibilityResult compat = check_compatibility(data);
  EXPECT_EQ(to_string(compat.verdict), "violated");
  const WStarResult ws = enclose_w_star(data, compat.verdict);
  EXPECT_FALSE(ws.computed);
  EXPECT_FALSE(ws.reason.empty());
  EXPECT_TRUE(ws.w_mid.empty());
  EXPECT_FALSE(enclose_w_star(data, CompatibilityVerdict::kInconclusive).computed);
  const InstanceData inc = family("incompatible", 1);
  EXPECT_FALSE(enclose_w_star(inc, check_compatibility(inc).verdict).computed);
}

TEST(WStar, RepeatedContextGivesTheSameWStar) {
  // A repeated context (same embedding and probabilities) repeats equations of (C): the solution
  // set and F are unchanged, so both enclosures contain the same W*.
  const InstanceData base = family("overparameterized", 1);
  const InstanceData rep = with_repeated_context(base, 3);
  const CompatibilityResult compat = check_compatibility(rep);
  EXPECT_EQ(to_string(compat.verdict), "holds");
  EXPECT_EQ(compat.left_null_dim, 2);  // the |S_3| - 1 = 2 repeated rows
  const WStarResult a = enclose(base);
  const WStarResult b = enclose(rep);
  ASSERT_TRUE(a.computed) << a.reason;
  ASSERT_TRUE(b.computed) << b.reason;
  EXPECT_EQ(a.dim_f, b.dim_f);
  std::string why;
  EXPECT_TRUE(verify_w_star_certificate(rep, b.certificate, exact_dim_f(rep), &why).has_value())
      << why;
  expect_enclosures_intersect(a, b, "repeat");
  // Also with a known answer: the orthonormal instance with context 0 repeated.
  const InstanceData orth = with_repeated_context(rotated_orthonormal_instance(), 0);
  expect_encloses(enclose(orth), orthonormal_w_star(rotated_orthonormal_instance()),
                  "orthonormal + repeat");
}

TEST(WStar, RankDeficientEmbeddingsKnownAnswer) {
  const InstanceData data = rank_deficient_instance(Rational(1, 7));  // r_3 = 6
  const CompatibilityResult compat = check_compatibility(data);
  ASSERT_EQ(to_string(compat.verdict), "holds");
  EXPECT_EQ(compat.rank, 3);
  EXPECT_EQ(compat.left_null_dim, 1);
  const WStarResult ws = enclose_w_star(data, compat.verdict, 200, compat.rank);
  ASSERT_TRUE(ws.computed) << ws.reason;
  EXPECT_EQ(ws.dim_f, 3);
  EXPECT_EQ(ws.certificate.rows.size(), 3U);  // one of the four anchor rows is implied
  // W* in F = span{(e_1 - e_0) h_j^T (j = 1,2,3), (e_3 - e_2) h_4^T}:
  // W* = (e_1 - e_0) u^T + t (e_3 - e_2) h_4^T with u = a h_1 + b h_2, since h_3 = h_1 + h_2.
  // (C): 2 u.h_1 = log 2, 2 u.h_2 = log 3 (then 2 u.h_3 = log 6), 2 t ||h_4||^2 = log(3/2).
  // Gram of (h_1, h_2) = [[5/4, -1/8], [-1/8, 17/16]], det 21/16, so with x = log(2)/2,
  // y = log(3)/2: a = (17 x + 2 y)/21, b = (2 x + 20 y)/21, t = log(3/2)/2.
  Real x(kRefPrec);
  Real y(kRefPrec);
  Real a(kRefPrec);
  Real b(kRefPrec);
  Real t(kRefPrec);
  Real tmp(kRefPrec);
  log_of(x.get(), Rational(2));
  mpfr_div_ui(x.get(), x.get(), 2, MPFR_RNDN);
  log_of(y.get(), Rational(3));
  mpfr_div_ui(y.get(), y.get(), 2, MPFR_RNDN);
  mpfr_mul_ui(a.get(), x.get(), 17, MPFR_RNDN);
  mpfr_mul_ui(tmp.get(), y.get(), 2, MPFR_RNDN);
  mpfr_add(a.get(), a.get(), tmp.get(), MPFR_RNDN);
  mpfr_div_ui(a.get(), a.get(), 21, MPFR_RNDN);
  mpfr_mul_ui(b.get(), x.get(), 2, MPFR_RNDN);
  mpfr_mul_ui(tmp.get(), y.get(), 20, MPFR_RNDN);
  mpfr_add(b.get(), b.get(), tmp.get(), MPFR_RNDN);
  mpfr_div_ui(b.get(), b.get(), 21, MPFR_RNDN);
  log_of(t.get(), Rational(3, 2));
  mpfr_div_ui(t.get(), t.get(), 2, MPFR_RNDN);
  RefVector expected(16);
  const auto& h1 = data.contexts[0].embedding;
  const auto& h2 = data.contexts[1].embedding;
  const auto& h4 = data.contexts[3].embedding;
  for (std::size_t i = 0; i < 4; ++i) {
    // u_i = a h1_i + b h2_i into row 1, -u_i into row 0; t h4_i into row 3, -t h4_i into row 2.
    mpfr_mul_q(expected[4 + i], a.get(), h1[i].backend().data(), MPFR_RNDN);
    mpfr_mul_q(tmp.get(), b.get(), h2[i].backend().data(), MPFR_RNDN);
    mpfr_add(expected[4 + i], expected[4 + i], tmp.get(), MPFR_RNDN);
    mpfr_neg(expected[i], expected[4 + i], MPFR_RNDN);
    mpfr_mul_q(expected[12 + i], t.get(), h4[i].backend().data(), MPFR_RNDN);
    mpfr_neg(expected[8 + i], expected[12 + i], MPFR_RNDN);
  }
  expect_encloses(ws, expected, "rank deficient");
  for (std::int64_t v = 0; v < 4; ++v) {
    EXPECT_EQ(ws.w_mid[static_cast<std::size_t>(v * 4 + 3)], 0);
  }
  // Conflicting odds (r_3 = 5 != 6): (C) fails and W* is not computed.
  const InstanceData bad = rank_deficient_instance(Rational(1, 6));
  const CompatibilityResult bad_compat = check_compatibility(bad);
  EXPECT_EQ(to_string(bad_compat.verdict), "violated");
  EXPECT_FALSE(enclose_w_star(bad, bad_compat.verdict).computed);
}

TEST(WStar, CorruptedCertificatesAreRejected) {
  const InstanceData data = family("overparameterized", 1);  // Dirichlet probabilities: W* != 0
  const WStarResult ws = enclose(data);
  ASSERT_TRUE(ws.computed) << ws.reason;
  ASSERT_GE(ws.certificate.rows.size(), 2U);
  std::string why;
  const auto ok = verify_w_star_certificate(data, ws.certificate, exact_dim_f(data), &why);
  ASSERT_TRUE(ok.has_value()) << why;
  EXPECT_EQ(*ok, ws.radius);  // the same deterministic recomputation
  auto expect_rejected = [&](const WStarCertificate& cert, const std::string& what) {
    std::string reason;
    EXPECT_FALSE(verify_w_star_certificate(data, cert, exact_dim_f(data), &reason).has_value())
        << what;
    EXPECT_FALSE(reason.empty()) << what;
  };
  {
    // W_mid moves by (1/3) row_0: the residual of row 0 becomes about ||row_0||^2 / 3, far above
    // the claimed radius of about 2^-200.
    WStarCertificate c = ws.certificate;
    c.y[0] += Rational(1, 3);
    expect_rejected(c, "y_0 + 1/3");
  }
  {
    WStarCertificate c = ws.certificate;
    c.radius = 0;  // the logs are irrational, so the residual enclosure is not {0}
    expect_rejected(c, "claimed radius 0");
  }
  {
    WStarCertificate c = ws.certificate;
    c.radius = ws.radius / 2;
    expect_rejected(c, "claimed radius halved");
  }
  {
    WStarCertificate c = ws.certificate;
    c.rows[1] = c.rows[0];
    expect_rejected(c, "repeated row");
  }
  {
    WStarCertificate c = ws.certificate;
    c.rows[0] = static_cast<std::int64_t>(anchor_rows(data).size());
    expect_rejected(c, "row index out of range");
  }
  {
    WStarCertificate c = ws.certificate;
    c.y.pop_back();
    expect_rejected(c, "y shorter than rows");
  }
  {
    WStarCertificate c = ws.certificate;
    c.precision_bits = 10;
    expect_rejected(c, "precision below 64 bits");
  }
}

TEST(WStar, VerifierChecksThatTheRowsSpanF) {
  // The radius bound ||W* - W_mid|| <= ||r|| / sigma_min(A_S) needs |S| = dim F (w_star.hpp
  // "Uniqueness"). With orthonormal embeddings the Gram matrix of the rows is block diagonal over
  // contexts, so dropping the one row of context 1 leaves the other residuals unchanged: without
  // the check a radius of about 2^-200 would be accepted around a W_mid that misses
  // (1/2) log 3 (e_3 - e_1) h_1^T, at distance (1/2) log 3 * sqrt 2 = 0.78 from W*; and the empty
  // certificate would "prove" W* = 0. (Found by this test; the verifier now takes a proven upper
  // bound of rank A and refuses fewer rows.)
  const InstanceData data = rotated_orthonormal_instance();
  const WStarResult ws = enclose(data);
  ASSERT_TRUE(ws.computed) << ws.reason;
  ASSERT_EQ(ws.certificate.rows.size(), 3U);
  WStarCertificate dropped = ws.certificate;
  dropped.rows.pop_back();  // anchor row 2: context 1, tokens (3, 1)
  dropped.y.pop_back();
  std::string why;
  EXPECT_FALSE(verify_w_star_certificate(data, dropped, exact_dim_f(data), &why).has_value());
  WStarCertificate empty;
  empty.precision_bits = 64;
  empty.radius = 0;
  EXPECT_FALSE(verify_w_star_certificate(data, empty, exact_dim_f(data), &why).has_value());
}

}  // namespace
}  // namespace ntp

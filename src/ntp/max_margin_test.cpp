#include "ntp/max_margin.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <system_error>
#include <vector>

#include "ntp/compatibility.hpp"
#include "ntp/errors.hpp"
#include "ntp/generators.hpp"
#include "ntp/instance.hpp"
#include "ntp/rational.hpp"
#include "ntp/separability.hpp"
#include "ntp/subspace.hpp"
#include "ntp/test_support.hpp"
#include "ntp/w_star.hpp"

namespace ntp {
namespace {

using testing_support::family;
using testing_support::hand_instance;
using testing_support::rank_deficient_instance;
using testing_support::with_repeated_context;

bool in_support(const InstanceData& data, std::int64_t j, std::int32_t t) {
  const auto& s = data.contexts[static_cast<std::size_t>(j)].tokens;
  return std::find(s.begin(), s.end(), t) != s.end();
}

/** A rational vector over one positive common denominator, x_k = num[k] / den. Exact checks
 * run on it in integers: paper-main's W^mm and W* have denominators of hundreds of digits, and a
 * gcd after every rational operation would cost seconds. */
struct ScaledVector {
  std::vector<BigInt> num;
  BigInt den = 1;
};

ScaledVector common_denominator(const std::vector<Rational>& x) {
  ScaledVector s;
  for (const Rational& q : x) s.den = boost::multiprecision::lcm(s.den, denominator(q));
  s.num.reserve(x.size());
  for (const Rational& q : x) s.num.push_back(numerator(q) * (s.den / denominator(q)));
  return s;
}

/** Exact logits W h_j of a row-major V x d rational W: entry (v, j) at v*m + j. */
ScaledVector exact_logits(const InstanceData& data, const std::vector<Rational>& w) {
  const std::int64_t V = data.vocab_size;
  const std::int64_t d = data.embedding_dim;
  const std::int64_t m = data.num_contexts();
  std::vector<Rational> h;
  for (const auto& c : data.contexts) h.insert(h.end(), c.embedding.begin(), c.embedding.end());
  const ScaledVector hs = common_denominator(h);  // (j, i) at j*d + i
  const ScaledVector ws = common_denominator(w);
  ScaledVector l;
  l.den = ws.den * hs.den;
  l.num.assign(static_cast<std::size_t>(V * m), BigInt(0));
  for (std::int64_t j = 0; j < m; ++j) {
    for (std::int64_t v = 0; v < V; ++v) {
      BigInt& s = l.num[static_cast<std::size_t>(v * m + j)];
      for (std::int64_t i = 0; i < d; ++i) {
        const BigInt& hv = hs.num[static_cast<std::size_t>(j * d + i)];
        if (hv != 0) s += ws.num[static_cast<std::size_t>(v * d + i)] * hv;
      }
    }
  }
  return l;
}

/** (I - 11^T/V) S Hbar^T, row-major V x d: the closed form of W^mm for orthonormal embeddings
 * (theory.md §2, "Closed forms"). Entry (v, i) = sum_j ([v in S_j] - |S_j|/V) h_{j,i}. */
std::vector<Rational> centred_support_closed_form(const InstanceData& data) {
  const std::int64_t V = data.vocab_size;
  const std::int64_t d = data.embedding_dim;
  std::vector<Rational> w(static_cast<std::size_t>(V * d), Rational(0));
  for (std::int64_t j = 0; j < data.num_contexts(); ++j) {
    const auto& c = data.contexts[static_cast<std::size_t>(j)];
    const Rational k_over_v(static_cast<long>(c.tokens.size()), static_cast<long>(V));
    for (std::int64_t v = 0; v < V; ++v) {
      const Rational coef = (in_support(data, j, static_cast<std::int32_t>(v)) ? 1 : 0) - k_over_v;
      for (std::int64_t i = 0; i < d; ++i) {
        w[static_cast<std::size_t>(v * d + i)] += coef * c.embedding[static_cast<std::size_t>(i)];
      }
    }
  }
  return w;
}

/** The exact Frobenius inner product <a, b>. */
Rational frobenius(const std::vector<Rational>& a, const std::vector<Rational>& b) {
  const ScaledVector x = common_denominator(a);
  const ScaledVector y = common_denominator(b);
  BigInt s = 0;
  for (std::size_t k = 0; k < x.num.size(); ++k) s += x.num[k] * y.num[k];
  return Rational(s, x.den * y.den);
}

/** True when 1^T W = 0 exactly for a row-major V x d W. */
bool zero_column_sums(const std::vector<Rational>& w, std::int64_t V, std::int64_t d) {
  const ScaledVector x = common_denominator(w);
  for (std::int64_t i = 0; i < d; ++i) {
    BigInt s = 0;
    for (std::int64_t v = 0; v < V; ++v) s += x.num[static_cast<std::size_t>(v * d + i)];
    if (s != 0) return false;
  }
  return true;
}

/** Row v of a row-major V x d W. */
std::vector<Rational> row_of(const std::vector<Rational>& w, std::int64_t v, std::int64_t d) {
  return {w.begin() + v * d, w.begin() + (v + 1) * d};
}

/** The support pattern of token t: the contexts whose support contains t. */
std::vector<std::int64_t> support_pattern(const InstanceData& data, std::int32_t t) {
  std::vector<std::int64_t> p;
  for (std::int64_t j = 0; j < data.num_contexts(); ++j) {
    if (in_support(data, j, t)) p.push_back(j);
  }
  return p;
}

/** Structural facts of a proven W^mm, asserted exactly (theory.md §3 [D]). */
void expect_w_mm_structure(const InstanceData& data, const MaxMarginResult& res,
                           const std::string& label) {
  const std::int64_t V = data.vocab_size;
  const std::int64_t d = data.embedding_dim;
  const std::int64_t m = data.num_contexts();
  ASSERT_EQ(to_string(res.status), "proven") << label << ": " << res.reason;
  ASSERT_EQ(res.w.size(), static_cast<std::size_t>(V * d)) << label;
  std::int64_t num_in = 0;
  std::int64_t num_eq = 0;
  for (const auto& c : data.contexts) {
    num_in += V - static_cast<std::int64_t>(c.tokens.size());
    num_eq += static_cast<std::int64_t>(c.tokens.size()) - 1;
  }
  EXPECT_EQ(res.num_inequalities, num_in) << label;
  EXPECT_EQ(res.num_equalities, num_eq) << label;
  // The independent GMP verifier accepts the certificate and rebuilds the same W.
  std::string why;
  std::vector<Rational> w;
  EXPECT_TRUE(verify_max_margin_certificate(data, res.certificate, &why, &w))
      << label << ": " << why;
  EXPECT_TRUE(w == res.w) << label;
  // [D] 1^T W^mm = 0: every row (e_z - e_v) h_j^T has zero column sums.
  EXPECT_TRUE(zero_column_sums(res.w, V, d)) << label;
  // (6a) exactly, (6b) >= 1 exactly, and the smallest gap is exactly 1: at the minimum-norm point
  // some (6b) row is active (else W / min gap would be feasible and shorter).
  // In integers: logit = l.num / l.den, so a gap of 1 is l.den.
  const ScaledVector l = exact_logits(data, res.w);
  auto logit = [&](std::int64_t v, std::int64_t j) -> const BigInt& {
    return l.num[static_cast<std::size_t>(v * m + j)];
  };
  bool have_gap = false;
  BigInt min_gap;
  for (std::int64_t j = 0; j < m; ++j) {
    const auto& s = data.contexts[static_cast<std::size_t>(j)].tokens;
    const BigInt& c = logit(s.front(), j);
    for (std::int32_t z : s) {
      EXPECT_EQ(logit(z, j), c) << label;
    }
    for (std::int32_t v = 0; v < V; ++v) {
      if (in_support(data, j, v)) continue;
      const BigInt gap = c - logit(v, j);
      if (!have_gap || gap < min_gap) min_gap = gap;
      have_gap = true;
    }
  }
  if (have_gap) {
    EXPECT_EQ(min_gap, l.den) << label;
  } else {
    for (const Rational& x : res.w) EXPECT_EQ(x, 0) << label;  // no (6b) row: W^mm = 0
  }
  // The listed multipliers are the nonzero ones: lambda > 0, on rows with gap exactly 1
  // (complementary slackness, re-checked here from the logits).
  EXPECT_EQ(res.active_set_size,
            static_cast<std::int64_t>(res.certificate.inequality_multipliers.size()))
      << label;
  for (const auto& mu : res.certificate.inequality_multipliers) {
    EXPECT_GT(mu.value, 0) << label;
    const auto& s = data.contexts[static_cast<std::size_t>(mu.context)].tokens;
    EXPECT_EQ(logit(s.front(), mu.context) - logit(mu.v, mu.context), l.den) << label;
  }
  for (const auto& mu : res.certificate.equality_multipliers) {
    EXPECT_NE(mu.value, 0) << label;
  }
  // Reported norm, margin and doubles follow from the exact W.
  EXPECT_EQ(res.norm_squared, frobenius(res.w, res.w)) << label;
  ASSERT_EQ(res.w_double.rows(), V);
  ASSERT_EQ(res.w_double.cols(), d);
  for (std::int64_t v = 0; v < V; ++v) {
    for (std::int64_t i = 0; i < d; ++i) {
      EXPECT_EQ(res.w_double(v, i), rational_to_double(res.w[static_cast<std::size_t>(v * d + i)]))
          << label;
    }
  }
  if (res.norm > 0) {
    EXPECT_DOUBLE_EQ(res.margin, 1.0 / res.norm) << label;
  }
}

MaxMarginResult proven_w_mm(const InstanceData& data, const std::string& label) {
  const SeparabilityResult sep = decide_separability(data);
  EXPECT_EQ(to_string(sep.verdict), "holds") << label << ": " << sep.reason;
  MaxMarginResult res = compute_w_mm(data, sep.verdict);
  expect_w_mm_structure(data, res, label);
  return res;
}

/** h_j = columns of an orthonormal d x m matrix with rational entries, d = 4 > m = 3: a rotation
 * by (3/5, 4/5) in the first plane and e_3; coordinate 4 is unused. Hbar^T Hbar = I since
 * (3/5)(-4/5) + (4/5)(3/5) = 0 and 9/25 + 16/25 = 1. */
std::vector<std::vector<Rational>> rotated_orthonormal_embeddings() {
  return {{Rational(3, 5), Rational(4, 5), Rational(0), Rational(0)},
          {Rational(-4, 5), Rational(3, 5), Rational(0), Rational(0)},
          {Rational(0), Rational(0), Rational(1), Rational(0)}};
}

TEST(MaxMargin, OneHotOrthonormalIsTheCentredSupportMatrix) {
  // [T Remark 1] with h_j = e_j: column j of W^mm = e_{y_j} - (1/V) 1 (theory.md §2 closed form).
  const std::int64_t V = 5;
  const std::vector<std::vector<std::int32_t>> s = {{0}, {3}, {1}, {0}, {4}};
  const InstanceData data = basis_embedding_instance(V, s, uniform_probabilities(s));
  const MaxMarginResult res = proven_w_mm(data, "one-hot orthonormal");
  ASSERT_EQ(res.w.size(), static_cast<std::size_t>(V * 5));
  for (std::int64_t v = 0; v < V; ++v) {
    for (std::int64_t j = 0; j < 5; ++j) {
      const Rational expected = Rational(v == s[static_cast<std::size_t>(j)][0] ? 1 : 0) -
                                Rational(1, static_cast<long>(V));
      EXPECT_EQ(res.w[static_cast<std::size_t>(v * 5 + j)], expected) << "v " << v << ", j " << j;
    }
  }
  EXPECT_TRUE(res.w == centred_support_closed_form(data));
  // ||W^mm||^2 = sum_j [(1 - 1/V)^2 + (V - 1)/V^2] = m (V - 1)/V = 5 * 4/5 = 4.
  EXPECT_EQ(res.norm_squared, 4);
  EXPECT_DOUBLE_EQ(res.margin, 0.5);
  EXPECT_EQ(res.num_equalities, 0);
  EXPECT_EQ(res.num_inequalities, 5 * 4);
}

TEST(MaxMargin, OrthonormalGeneralSupportsIsTheCentredSupportMatrix) {
  // Orthonormal embeddings, d = 4 > m = 3: W^mm = (I - 11^T/V) S Hbar^T exactly (theory.md §2),
  // independent of the probabilities (theory.md §3).
  const std::int64_t V = 6;
  const std::vector<std::vector<std::int32_t>> s = {{0, 1, 2}, {1, 3}, {5}};
  const auto h = rotated_orthonormal_embeddings();
  const InstanceData a = hand_instance(V, h, s,
                                       {{Rational(1, 2), Rational(1, 3), Rational(1, 6)},
                                        {Rational(1, 4), Rational(3, 4)},
                                        {Rational(1)}});
  const MaxMarginResult ra = proven_w_mm(a, "orthonormal, probabilities a");
  EXPECT_TRUE(ra.w == centred_support_closed_form(a));
  // ||W^mm||^2 = ||(I - 11^T/V) S||^2 (Hbar^T orthonormal columns) = sum_j |S_j| (V - |S_j|)/V
  // = (3*3 + 2*4 + 1*5)/6 = 22/6 = 11/3.
  EXPECT_EQ(ra.norm_squared, Rational(11, 3));
  ASSERT_EQ(ra.w.size(), static_cast<std::size_t>(V * 4));
  // The unused coordinate 4 is orthogonal to every h_j: W^mm e_4 = 0.
  for (std::int64_t v = 0; v < V; ++v) {
    EXPECT_EQ(ra.w[static_cast<std::size_t>(v * 4 + 3)], 0);
  }
  // Tokens 0 and 2 share the pattern {context 0}: equal rows.
  EXPECT_TRUE(row_of(ra.w, 0, 4) == row_of(ra.w, 2, 4));
  const InstanceData b = hand_instance(V, h, s);  // uniform probabilities
  const MaxMarginResult rb = proven_w_mm(b, "orthonormal, uniform");
  EXPECT_TRUE(ra.w == rb.w);
}

TEST(MaxMargin, NegatedEmbeddingsAreNotSeparable) {
  // theory.md §2: V = 4, h_2 = -h_1, S_1 = {0,1}, S_2 = {0,2} (0-based). Token 3 is outside both
  // supports: (e_0 - e_3)^T W h_1 >= 1 and its negative >= 1. No W^mm exists.
  const std::vector<Rational> h1 = {Rational(1), Rational(-1, 2), Rational(3, 4)};
  std::vector<Rational> h2;
  for (const auto& x : h1) h2.push_back(-x);
  const InstanceData data = hand_instance(4, {h1, h2}, {{0, 1}, {0, 2}});
  const SeparabilityResult sep = decide_separability(data);
  EXPECT_EQ(to_string(sep.verdict), "violated");
  const MaxMarginResult res = compute_w_mm(data, sep.verdict);
  EXPECT_EQ(to_string(res.status), "not_separable");
  EXPECT_FALSE(res.reason.empty());
  EXPECT_TRUE(res.w.empty());
  EXPECT_EQ(res.num_equalities, 2);    // sum_j (|S_j| - 1)
  EXPECT_EQ(res.num_inequalities, 4);  // sum_j (V - |S_j|)
  EXPECT_EQ(to_string(compute_w_mm(data, SeparabilityVerdict::kInconclusive).status),
            "not_separable");
  // A caller that wrongly claims separability still gets no proof: (6) has no solution, so no
  // certificate can pass the exact KKT check.
  const MaxMarginResult lied = compute_w_mm(data, SeparabilityVerdict::kHolds);
  EXPECT_NE(to_string(lied.status), "proven");
  EXPECT_FALSE(lied.reason.empty());
}

TEST(MaxMargin, PaperToySameSupportPatternGivesEqualRows) {
  // [T App. A]: words with the same support pattern get equal rows of W^mm. Swapping two such
  // tokens maps (6) and ||W||_F to themselves, and W^mm is unique (strictly convex), so it is
  // invariant under the swap: its two rows are equal.
  int separable = 0;
  for (std::uint64_t seed = 1; seed <= 12; ++seed) {
    const InstanceData data = family("paper-toy", seed);
    const SeparabilityResult sep = decide_separability(data);
    if (sep.verdict != SeparabilityVerdict::kHolds) continue;
    ++separable;
    const std::string label = "paper-toy seed " + std::to_string(seed);
    const MaxMarginResult res = compute_w_mm(data, sep.verdict);
    expect_w_mm_structure(data, res, label);
    if (res.status != MaxMarginStatus::kProven) continue;
    std::map<std::vector<std::int64_t>, std::vector<std::int32_t>> by_pattern;
    for (std::int32_t t = 0; t < data.vocab_size; ++t) {
      by_pattern[support_pattern(data, t)].push_back(t);
    }
    int pairs = 0;
    for (const auto& [pattern, tokens] : by_pattern) {
      for (std::size_t k = 1; k < tokens.size(); ++k) {
        ++pairs;
        EXPECT_TRUE(row_of(res.w, tokens[0], data.embedding_dim) ==
                    row_of(res.w, tokens[k], data.embedding_dim))
            << label << ": tokens " << tokens[0] << " and " << tokens[k];
      }
    }
    // Supports {0,1,4}, {0,3,4}, {1,2,3}: tokens 0 and 4 both lie in exactly the first two.
    EXPECT_EQ(support_pattern(data, 0), support_pattern(data, 4)) << label;
    EXPECT_GE(pairs, 1) << label;
  }
  std::printf("paper-toy: %d of 12 seeds separable\n", separable);
  EXPECT_GE(separable, 1);
}

TEST(MaxMargin, AllSupportsFullGivesZero) {
  // Every S_j = [V]: (6b) has no row, so W = 0 is feasible and W^mm = 0. validate_and_normalise
  // refuses such instances (standing assumption of theory.md §1), so build it by hand.
  InstanceData data;
  data.vocab_size = 3;
  data.embedding_dim = 2;
  const std::vector<std::vector<Rational>> h = {{Rational(1), Rational(2)},
                                                {Rational(-1, 2), Rational(1, 4)}};
  for (const auto& e : h) {
    ContextData c;
    c.embedding = e;
    c.weight = Rational(1, 2);
    c.tokens = {0, 1, 2};
    c.probabilities = {Rational(1, 2), Rational(1, 4), Rational(1, 4)};
    data.contexts.push_back(c);
  }
  InstanceData copy = data;
  EXPECT_THROW(validate_and_normalise(copy), InvalidInput);
  const MaxMarginResult res = compute_w_mm(data, SeparabilityVerdict::kHolds);
  ASSERT_EQ(to_string(res.status), "proven") << res.reason;
  EXPECT_EQ(res.num_inequalities, 0);
  EXPECT_EQ(res.num_equalities, 4);
  EXPECT_TRUE(res.certificate.inequality_multipliers.empty());
  ASSERT_EQ(res.w.size(), 6U);
  for (const Rational& x : res.w) {
    EXPECT_EQ(x, 0);
  }
  EXPECT_EQ(res.norm_squared, 0);
  EXPECT_EQ(res.margin, 0.0);
  std::string why;
  EXPECT_TRUE(verify_max_margin_certificate(data, MaxMarginCertificate{}, &why)) << why;
}

TEST(MaxMargin, RepeatedContextGivesTheSameWmm) {
  // A repeated context adds the same rows to (6a) and (6b) again: the QP, hence W^mm, is unchanged.
  const InstanceData base = family("overparameterized", 1);
  const InstanceData rep = with_repeated_context(base, 3);
  const MaxMarginResult a = proven_w_mm(base, "overparameterized 1");
  const MaxMarginResult b = proven_w_mm(rep, "overparameterized 1 + repeat");
  EXPECT_TRUE(a.w == b.w);
  EXPECT_EQ(a.norm_squared, b.norm_squared);
}

TEST(MaxMargin, RankDeficientEmbeddings) {
  // h_3 = h_1 + h_2: the (6a) rows of context 3 are implied by those of 1 and 2. (6) holds: the
  // logits of h_1, h_2, h_4 are free, and l_3 = l_1 + l_2 inherits equal in-support logits and
  // gaps >= 2. W^mm does not depend on the probabilities (theory.md §3).
  const InstanceData a = rank_deficient_instance(Rational(1, 7));  // compatible: r_3 = 6 = 2 * 3
  const InstanceData b = rank_deficient_instance(Rational(1, 6));  // incompatible: r_3 = 5
  const MaxMarginResult ra = proven_w_mm(a, "rank deficient");
  const MaxMarginResult rb = proven_w_mm(b, "rank deficient, conflicting odds");
  EXPECT_TRUE(ra.w == rb.w);
  ASSERT_EQ(ra.w.size(), 16U);
  // W^mm is a combination of rows (e_z - e_v) h_j^T, and every h_j has coordinate 4 equal to 0.
  for (std::int64_t v = 0; v < 4; ++v) {
    EXPECT_EQ(ra.w[static_cast<std::size_t>(v * 4 + 3)], 0);
  }
}

TEST(MaxMargin, CorruptedCertificatesAreRejected) {
  const InstanceData data = family("overparameterized", 1);
  const MaxMarginResult res = proven_w_mm(data, "overparameterized 1");
  ASSERT_FALSE(res.certificate.inequality_multipliers.empty());
  ASSERT_FALSE(res.certificate.equality_multipliers.empty());
  // Any change of W breaks KKT: a W passing the check is the unique optimum, which is res.w, and
  // every row changed below is nonzero (h_j != 0).
  auto expect_rejected = [&](const MaxMarginCertificate& cert, const std::string& what) {
    std::string why;
    EXPECT_FALSE(verify_max_margin_certificate(data, cert, &why)) << what;
    EXPECT_FALSE(why.empty()) << what;
  };
  {
    MaxMarginCertificate c = res.certificate;
    c.inequality_multipliers[0].value += Rational(1, 7);
    expect_rejected(c, "lambda + 1/7");
  }
  {
    MaxMarginCertificate c = res.certificate;
    c.inequality_multipliers[0].value = -c.inequality_multipliers[0].value;
    expect_rejected(c, "lambda negated");
  }
  {
    MaxMarginCertificate c = res.certificate;
    auto& mu = c.inequality_multipliers[0];
    const auto& s = data.contexts[static_cast<std::size_t>(mu.context)].tokens;
    ASSERT_GE(s.size(), 2U);
    mu.v = s[0] == mu.z ? s[1] : s[0];  // an in-support token other than z
    expect_rejected(c, "v in S_j");
  }
  {
    MaxMarginCertificate c = res.certificate;
    auto& mu = c.inequality_multipliers[0];
    mu.z = mu.v;  // z not in S_j
    expect_rejected(c, "z outside S_j");
  }
  {
    MaxMarginCertificate c = res.certificate;
    c.inequality_multipliers.pop_back();
    expect_rejected(c, "one lambda dropped");
  }
  {
    MaxMarginCertificate c = res.certificate;
    c.equality_multipliers[0].value += Rational(1, 7);
    expect_rejected(c, "mu + 1/7");
  }
  {
    MaxMarginCertificate c = res.certificate;
    c.inequality_multipliers[0].context = data.num_contexts();
    expect_rejected(c, "context out of range");
  }
  {
    MaxMarginCertificate c = res.certificate;
    c.equality_multipliers[0].v = c.equality_multipliers[0].z;
    expect_rejected(c, "equality row with z == v");
  }
  expect_rejected(MaxMarginCertificate{}, "empty certificate (W = 0 violates (6b))");
  // The untouched certificate still passes.
  std::string why;
  EXPECT_TRUE(verify_max_margin_certificate(data, res.certificate, &why)) << why;
}

TEST(MaxMargin, DenseLimitGivesTooLarge) {
  const InstanceData data = family("overparameterized", 2);
  MaxMarginOptions o;
  o.max_dense_entries = 1;
  const MaxMarginResult res = compute_w_mm(data, SeparabilityVerdict::kHolds, o);
  EXPECT_EQ(to_string(res.status), "too_large");
  EXPECT_FALSE(res.reason.empty());
  EXPECT_TRUE(res.w.empty());
}

// ---- Structure [D] over the generator families: W^mm, W* and their orthogonality. ----

/** A small word-level text for the corpus family, in a temporary file named after the process
 * (concurrent test runs do not share it); removed by the destructor. */
class SmallCorpus {
 public:
  SmallCorpus()
      : path_(std::filesystem::path(::testing::TempDir()) /
              ("ntp_max_margin_corpus_" + std::to_string(::getpid()) + ".txt")) {
    std::ofstream out(path_);
    out << "the cat sat on the mat and the dog sat on the log and the cat saw the dog on the mat";
  }
  ~SmallCorpus() {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
  }
  SmallCorpus(const SmallCorpus&) = delete;
  SmallCorpus& operator=(const SmallCorpus&) = delete;
  [[nodiscard]] std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

struct Analysis {
  SeparabilityResult sep;
  CompatibilityResult compat;
  MaxMarginResult mm;
  WStarResult ws;
  double seconds = 0;
};

Analysis analyze(const InstanceData& data) {
  const auto t0 = std::chrono::steady_clock::now();
  Analysis a;
  a.sep = decide_separability(data);
  a.compat = check_compatibility(data);
  a.mm = compute_w_mm(data, a.sep.verdict);
  a.ws = enclose_w_star(data, a.compat.verdict, 200, a.compat.rank);
  a.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return a;
}

/** W* facts: a tiny rigorous radius that an independent re-verification reproduces, W_mid in F
 * (zero column sums), agreement with the SVD solution of check_compatibility. */
void expect_w_star_structure(const InstanceData& data, const Analysis& a,
                             const std::string& label) {
  const WStarResult& ws = a.ws;
  ASSERT_TRUE(ws.computed) << label << ": " << ws.reason;
  EXPECT_EQ(ws.dim_f, a.compat.rank) << label;
  EXPECT_TRUE(std::isfinite(ws.radius)) << label;
  EXPECT_GE(ws.radius, 0.0) << label;
  EXPECT_LT(ws.radius, 1e-40) << label;
  std::string why;
  std::vector<Rational> w_mid;
  const auto r = verify_w_star_certificate(data, ws.certificate, exact_dim_f(data), &why, &w_mid);
  ASSERT_TRUE(r.has_value()) << label << ": " << why;
  EXPECT_LE(*r, ws.certificate.radius) << label;
  EXPECT_LE(*r, ws.radius) << label;
  EXPECT_TRUE(w_mid == ws.w_mid) << label;
  EXPECT_TRUE(zero_column_sums(ws.w_mid, data.vocab_size, data.embedding_dim)) << label;
  EXPECT_LE(ws.norm_lo, ws.norm) << label;
  EXPECT_LE(ws.norm, ws.norm_hi) << label;
  ASSERT_EQ(a.compat.w_star.rows(), ws.w_double.rows()) << label;
  ASSERT_EQ(a.compat.w_star.cols(), ws.w_double.cols()) << label;
  // The SVD solution is accurate to rounding (about 1e-15 relative); W_mid to 2^-200.
  const double diff = (ws.w_double - a.compat.w_star).norm();
  EXPECT_LE(diff, 1e-9 * ws.norm + 1e-12) << label << ": ||W*|| = " << ws.norm;
}

TEST(MaxMarginStructure, GeneratorFamilies) {
  struct Case {
    std::string family;
    std::uint64_t seeds;
    bool both_hold;  // (C) and (6) hold by construction (overparameterized: [T Lemma 1])
  };
  const std::vector<Case> cases = {
      {"overparameterized", 3, true},
      {"one-hot", 3, false},
      {"paper-toy", 3, false},
      {"incompatible", 3, false},
      {"inseparable", 3, false},
      {"underparameterized", 3, false},
      {"corpus", 3, true},
      {"paper-main", 1, true},
  };
  const SmallCorpus corpus;
  int proven_mm = 0;
  int computed_ws = 0;
  int both = 0;
  for (const auto& c : cases) {
    for (std::uint64_t seed = 1; seed <= c.seeds; ++seed) {
      GeneratorOptions o;
      o.family = c.family;
      o.seed = seed;
      if (c.family == "corpus") o.corpus_path = corpus.path();
      const InstanceData data = generate(o);
      const std::string label = c.family + " seed " + std::to_string(seed);
      const Analysis a = analyze(data);
      EXPECT_NE(to_string(a.sep.verdict), "inconclusive") << label << ": " << a.sep.reason;
      EXPECT_NE(to_string(a.compat.verdict), "inconclusive") << label << ": " << a.compat.reason;
      if (c.both_hold) {
        EXPECT_EQ(to_string(a.sep.verdict), "holds") << label;
        EXPECT_EQ(to_string(a.compat.verdict), "holds") << label;
      }
      if (c.family == "incompatible") {
        EXPECT_EQ(to_string(a.compat.verdict), "violated") << label;
      }
      if (c.family == "inseparable") {
        EXPECT_EQ(to_string(a.sep.verdict), "violated") << label;
      }
      // W^mm is proven exactly when (6) holds; W* is enclosed exactly when (C) holds.
      if (a.sep.verdict == SeparabilityVerdict::kHolds) {
        expect_w_mm_structure(data, a.mm, label);
      } else {
        EXPECT_EQ(to_string(a.mm.status), "not_separable") << label;
      }
      if (a.compat.verdict == CompatibilityVerdict::kHolds) {
        expect_w_star_structure(data, a, label);
      } else {
        EXPECT_FALSE(a.ws.computed) << label;
      }
      const bool mm_ok = a.mm.status == MaxMarginStatus::kProven;
      proven_mm += mm_ok ? 1 : 0;
      computed_ws += a.ws.computed ? 1 : 0;
      if (mm_ok && a.ws.computed) {
        ++both;
        // [D] W* in F (W_mid is a combination of rows of F), W^mm in F^perp: exactly orthogonal.
        EXPECT_EQ(frobenius(a.ws.w_mid, a.mm.w), 0) << label;
      }
      std::printf(
          "%s: (6) %s, (C) %s, W^mm %s (QP %.3fs, exact %.3fs), W* %s (dim F %lld, radius "
          "%.1e, %.3fs); total %.3fs\n",
          label.c_str(), to_string(a.sep.verdict).c_str(), to_string(a.compat.verdict).c_str(),
          to_string(a.mm.status).c_str(), a.mm.seconds_qp, a.mm.seconds_exact,
          a.ws.computed ? "enclosed" : "-", static_cast<long long>(a.ws.dim_f), a.ws.radius,
          a.ws.seconds, a.seconds);
    }
  }
  std::printf("W^mm proven %d, W* enclosed %d, both %d\n", proven_mm, computed_ws, both);
  EXPECT_GE(both, 7);  // overparameterized x3, corpus x3, paper-main
}

}  // namespace
}  // namespace ntp

#include "ntp/separability.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "ntp/errors.hpp"
#include "ntp/generators.hpp"
#include "ntp/instance.hpp"
#include "ntp/rational.hpp"
#include "ntp/test_support.hpp"

namespace ntp {
namespace {

using testing_support::family;
using testing_support::hand_instance;

/** Decides, checks the verdict and re-verifies the certificate independently. */
SeparabilityResult expect_verdict(const InstanceData& data, SeparabilityVerdict expected,
                                  const std::string& label) {
  SeparabilityResult res = decide_separability(data);
  EXPECT_EQ(to_string(res.verdict), to_string(expected)) << label << ": " << res.reason;
  const auto kind = expected == SeparabilityVerdict::kHolds ? SeparabilityCertificateKind::kWitness
                                                            : SeparabilityCertificateKind::kFarkas;
  EXPECT_EQ(to_string(res.certificate.kind), to_string(kind)) << label;
  std::string why;
  EXPECT_TRUE(verify_separability_certificate(data, res.certificate, &why)) << label << ": " << why;
  if (res.certificate.kind == SeparabilityCertificateKind::kWitness) {
    EXPECT_GE(res.min_margin, 1) << label;
  }
  return res;
}

TEST(Separability, NegatedEmbeddingsAreViolatedWithFarkasCertificate) {
  // theory.md §2: V = 4, h_2 = -h_1, S_1 = {1,2}, S_2 = {1,3} (here 0-based: {0,1}, {0,2}).
  // Token 3 is outside both supports: (e_0 - e_3)^T W h_1 >= 1 and its negative >= 1.
  const std::vector<Rational> h1 = {Rational(1), Rational(-1, 2), Rational(3, 4)};
  std::vector<Rational> h2;
  for (const auto& x : h1) h2.push_back(-x);
  const InstanceData data = hand_instance(4, {h1, h2}, {{0, 1}, {0, 2}});
  const auto res = expect_verdict(data, SeparabilityVerdict::kViolated, "h2=-h1");
  EXPECT_EQ(res.rank, 1);
  EXPECT_EQ(res.lp_equalities, 2);
  EXPECT_EQ(res.lp_inequalities, 4);
  EXPECT_FALSE(res.certificate.inequality_multipliers.empty());
}

TEST(Separability, ZeroEmbeddingWithPartialSupportIsViolated) {
  // h_1 = 0 gives l_1 = 0: (6b) asks 0 >= 1, a one-row Farkas certificate.
  const std::vector<Rational> h0 = {Rational(1), Rational(2)};
  const std::vector<Rational> h1 = {Rational(0), Rational(0)};
  const auto data = hand_instance(3, {h0, h1}, {{0}, {1, 2}});
  const auto res = expect_verdict(data, SeparabilityVerdict::kViolated, "zero embedding");
  EXPECT_EQ(res.rank, 1);
  EXPECT_GT(res.farkas_lp_rows, 0);
  // Full support at the zero embedding is harmless: (6b) has no row there.
  const auto ok = hand_instance(3, {h0, h1}, {{0}, {0, 1, 2}});
  expect_verdict(ok, SeparabilityVerdict::kHolds, "zero embedding, full support");
}

TEST(Separability, InvalidInstanceIsRefused) {
  InstanceData data;  // not validated: an empty support and a token out of range
  data.vocab_size = 3;
  data.embedding_dim = 1;
  data.contexts.resize(1);
  data.contexts[0].embedding = {Rational(1)};
  EXPECT_THROW(decide_separability(data), InvalidInput);
  data.contexts[0].tokens = {5};
  EXPECT_THROW(decide_separability(data), InvalidInput);
  SeparabilityCertificate cert;
  cert.kind = SeparabilityCertificateKind::kWitness;
  cert.w.assign(3, Rational(0));
  std::string why;
  EXPECT_FALSE(verify_separability_certificate(data, cert, &why));
  EXPECT_FALSE(why.empty());
}

TEST(Separability, InseparableFamilyIsViolated) {
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    expect_verdict(family("inseparable", seed), SeparabilityVerdict::kViolated,
                   "inseparable seed " + std::to_string(seed));
  }
}

TEST(Separability, SeparableFamiliesHoldWithWitness) {
  for (const std::string f : {"overparameterized", "incompatible"}) {
    for (std::uint64_t seed = 1; seed <= 5; ++seed) {
      expect_verdict(family(f, seed), SeparabilityVerdict::kHolds,
                     f + " seed " + std::to_string(seed));
    }
  }
}

TEST(Separability, PaperToyFollowsTheConeCriterion) {
  // d = 2, supports A = {0,1,4}, B = {0,3,4}, C = {1,2,3}; write h_C = alpha h_A + beta h_B.
  // [D] (6) holds iff alpha < 0 and beta < 0: (6b) for C at tokens 1 and 0 gives
  // l_C[1] - l_C[0] = beta (l_B[1] - c_B) >= 1 with l_B[1] - c_B <= -1, so beta < 0; likewise
  // alpha < 0 from token 3; conversely with alpha, beta < 0 large out-of-support gaps work.
  // So paper-toy is separable only for some draws.
  int holds = 0;
  for (std::uint64_t seed = 1; seed <= 12; ++seed) {
    const auto data = family("paper-toy", seed);
    std::vector<const std::vector<Rational>*> h(3);
    for (const auto& c : data.contexts) {
      auto s = c.tokens;
      std::sort(s.begin(), s.end());
      const int which = s == std::vector<std::int32_t>{0, 1, 4}   ? 0
                        : s == std::vector<std::int32_t>{0, 3, 4} ? 1
                                                                  : 2;
      h[which] = &c.embedding;
    }
    const auto &a = *h[0], &b = *h[1], &c = *h[2];
    const Rational det = a[0] * b[1] - a[1] * b[0];
    ASSERT_NE(det, 0);
    const Rational alpha = (c[0] * b[1] - c[1] * b[0]) / det;
    const Rational beta = (a[0] * c[1] - a[1] * c[0]) / det;
    const bool expected = alpha < 0 && beta < 0;
    holds += expected ? 1 : 0;
    expect_verdict(data, expected ? SeparabilityVerdict::kHolds : SeparabilityVerdict::kViolated,
                   "paper-toy seed " + std::to_string(seed));
  }
  std::printf("paper-toy: separable for %d of 12 seeds\n", holds);
}

TEST(Separability, GaussianOneHotDecidesAndVerifies) {
  // One-hot with d = 4 < m = 6 Gaussian embeddings: multiclass separability through the origin,
  // true for some draws only; every verdict must come with a verified certificate.
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    const auto data = family("one-hot", seed);
    const auto res = decide_separability(data);
    EXPECT_NE(res.verdict, SeparabilityVerdict::kInconclusive) << seed << ": " << res.reason;
    std::string why;
    EXPECT_TRUE(verify_separability_certificate(data, res.certificate, &why)) << why;
    std::printf("one-hot seed %llu: %s\n", static_cast<unsigned long long>(seed),
                to_string(res.verdict).c_str());
  }
}

TEST(Separability, OneHotOrthonormalHolds) {
  const std::vector<std::vector<std::int32_t>> s = {{0}, {3}, {1}, {0}, {4}};
  const auto data = basis_embedding_instance(5, s, uniform_probabilities(s));
  const auto res = expect_verdict(data, SeparabilityVerdict::kHolds, "one-hot orthonormal");
  EXPECT_EQ(res.lp_equalities, 0);
  EXPECT_EQ(res.rank, 5);
}

TEST(Separability, OrthonormalOverlappingSupportsHold) {
  const std::vector<std::vector<std::int32_t>> s = {{0, 1, 2}, {1, 3}, {2, 3, 4, 5}, {5}};
  const auto data = basis_embedding_instance(6, s, uniform_probabilities(s));
  expect_verdict(data, SeparabilityVerdict::kHolds, "orthonormal overlapping");
}

TEST(Separability, FullSupportsExceptOne) {
  // Independent embeddings: the full-support contexts only need equal logits; holds.
  const std::vector<std::int32_t> full = {0, 1, 2, 3, 4};
  const std::vector<Rational> a = {Rational(1), Rational(2), Rational(0)};
  const std::vector<Rational> b = {Rational(0), Rational(1, 3), Rational(-1)};
  const std::vector<Rational> c = {Rational(1, 2), Rational(0), Rational(5, 4)};
  const auto ok = expect_verdict(hand_instance(5, {a, b, c}, {full, {1, 3}, full}),
                                 SeparabilityVerdict::kHolds, "full except one, independent");
  EXPECT_EQ(ok.lp_inequalities, 3);
  // A full-support context forces equal logits at its embedding; a partial context with a
  // parallel embedding then cannot have a gap: violated.
  std::vector<Rational> a2;
  for (const auto& x : a) a2.push_back(2 * x);
  const auto bad = expect_verdict(hand_instance(5, {a, b, a2}, {full, full, {2}}),
                                  SeparabilityVerdict::kViolated, "full except one, parallel");
  EXPECT_EQ(bad.lp_inequalities, 4);
}

TEST(Separability, UnderparameterizedDecidesAndVerifies) {
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    const auto data = family("underparameterized", seed);
    const auto res = decide_separability(data);
    EXPECT_NE(res.verdict, SeparabilityVerdict::kInconclusive) << seed << ": " << res.reason;
    std::string why;
    EXPECT_TRUE(verify_separability_certificate(data, res.certificate, &why)) << why;
    std::printf("underparameterized seed %llu: %s (%s)\n", static_cast<unsigned long long>(seed),
                to_string(res.verdict).c_str(), to_string(res.certificate.kind).c_str());
  }
}

TEST(Separability, SizeSweepNeverInconclusive) {
  struct Case {
    std::string family;
    std::int64_t V, d, m, k;
    const char* expect;  // "holds", "violated" or "" (either, but decided)
  };
  const std::vector<Case> cases = {
      {"overparameterized", 30, 25, 20, 5, "holds"}, {"overparameterized", 4, 6, 6, 3, "holds"},
      {"incompatible", 12, 15, 16, 4, "holds"},      {"inseparable", 9, 10, 11, 4, "violated"},
      {"underparameterized", 12, 5, 30, 3, ""},      {"underparameterized", 20, 10, 40, 2, ""},
      {"underparameterized", 6, 5, 6, 2, ""},
  };
  for (const auto& c : cases) {
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
      GeneratorOptions o;
      o.family = c.family;
      o.seed = seed;
      o.vocab_size = c.V;
      o.embedding_dim = c.d;
      o.num_contexts = c.m;
      o.support_size = c.k;
      const auto data = generate(o);
      const std::string label = c.family + " V=" + std::to_string(c.V) +
                                " d=" + std::to_string(c.d) + " m=" + std::to_string(c.m) +
                                " seed " + std::to_string(seed);
      const auto res = decide_separability(data);
      EXPECT_NE(res.verdict, SeparabilityVerdict::kInconclusive) << label << ": " << res.reason;
      if (std::string(c.expect).size() > 0) {
        EXPECT_EQ(to_string(res.verdict), c.expect) << label;
      }
      std::string why;
      EXPECT_TRUE(verify_separability_certificate(data, res.certificate, &why))
          << label << ": " << why;
      std::printf("%s: %s in %.3fs (LP %.3fs, exact %.3fs)\n", label.c_str(),
                  to_string(res.verdict).c_str(), res.seconds_total, res.seconds_lp,
                  res.seconds_exact);
    }
  }
}

TEST(Separability, CorruptedWitnessIsRejected) {
  const auto data = family("overparameterized", 3);
  auto res = decide_separability(data);
  ASSERT_EQ(res.verdict, SeparabilityVerdict::kHolds) << res.reason;
  std::string why;
  ASSERT_TRUE(verify_separability_certificate(data, res.certificate, &why)) << why;
  // Move the logit of the anchor token of context 0 (|S_0| >= 2) alone: (6a) breaks.
  auto s0 = data.contexts[0].tokens;
  std::sort(s0.begin(), s0.end());
  ASSERT_GE(s0.size(), 2u);
  const auto& h0 = data.contexts[0].embedding;
  const auto k = static_cast<std::int64_t>(
      std::find_if(h0.begin(), h0.end(), [](const Rational& x) { return x != 0; }) - h0.begin());
  auto bad = res.certificate;
  bad.w[s0[0] * data.embedding_dim + k] += 1;
  EXPECT_FALSE(verify_separability_certificate(data, bad, &why));
  EXPECT_NE(why.find("(6a)"), std::string::npos) << why;
  // Scaling W down breaks (6b) only.
  bad = res.certificate;
  for (auto& e : bad.w) e /= 2 * res.min_margin;
  EXPECT_FALSE(verify_separability_certificate(data, bad, &why));
  EXPECT_NE(why.find("(6b)"), std::string::npos) << why;
  bad.w.pop_back();
  EXPECT_FALSE(verify_separability_certificate(data, bad, &why));
  bad.kind = SeparabilityCertificateKind::kNone;
  EXPECT_FALSE(verify_separability_certificate(data, bad, &why));
}

TEST(Separability, CorruptedFarkasIsRejected) {
  const auto data = family("inseparable", 2);
  const auto res = decide_separability(data);
  ASSERT_EQ(res.verdict, SeparabilityVerdict::kViolated) << res.reason;
  const auto& good = res.certificate;
  ASSERT_FALSE(good.inequality_multipliers.empty());
  std::string why;
  ASSERT_TRUE(verify_separability_certificate(data, good, &why)) << why;
  auto bad = good;  // one multiplier changed: the combination is no longer zero
  bad.inequality_multipliers[0].value *= 2;
  EXPECT_FALSE(verify_separability_certificate(data, bad, &why));
  EXPECT_NE(why.find("not zero"), std::string::npos) << why;
  bad = good;  // negative y
  bad.inequality_multipliers[0].value = -bad.inequality_multipliers[0].value;
  EXPECT_FALSE(verify_separability_certificate(data, bad, &why));
  bad = good;  // a (6b) multiplier on a pair that is not a (6b) row
  bad.inequality_multipliers[0].v = bad.inequality_multipliers[0].z;
  EXPECT_FALSE(verify_separability_certificate(data, bad, &why));
  bad = good;  // context out of range
  bad.inequality_multipliers[0].context = data.num_contexts();
  EXPECT_FALSE(verify_separability_certificate(data, bad, &why));
  bad = good;  // all y zero
  for (auto& y : bad.inequality_multipliers) y.value = 0;
  bad.equality_multipliers.clear();
  EXPECT_FALSE(verify_separability_certificate(data, bad, &why));
  if (!good.equality_multipliers.empty()) {
    bad = good;
    bad.equality_multipliers[0].value += 1;
    EXPECT_FALSE(verify_separability_certificate(data, bad, &why));
  }
}

TEST(Separability, PaperMainDecidesFast) {
  const auto data = family("paper-main", 1);
  const auto t0 = std::chrono::steady_clock::now();
  const auto res = expect_verdict(data, SeparabilityVerdict::kHolds, "paper-main");
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(res.unknowns_w, 600);
  EXPECT_EQ(res.lp_equalities, 250);
  EXPECT_EQ(res.lp_inequalities, 200);
  EXPECT_EQ(res.rank, 50);
  std::printf(
      "paper-main: %s, rank %lld, LP %lld cols x (%lld eq + %lld ineq); min margin %s; "
      "reduction %.3fs, LP %.3fs, exact %.3fs, total %.3fs (with test re-verify %.3fs)\n",
      to_string(res.verdict).c_str(), static_cast<long long>(res.rank),
      static_cast<long long>(res.lp_columns), static_cast<long long>(res.lp_equalities),
      static_cast<long long>(res.lp_inequalities), rational_to_decimal(res.min_margin, 6).c_str(),
      res.seconds_reduction, res.seconds_lp, res.seconds_exact, res.seconds_total, secs);
  EXPECT_LT(secs, 5.0);
}

}  // namespace
}  // namespace ntp

namespace ntp {
namespace {

// Found by the phase-diagram sweep (issue 11): a degenerate Farkas vertex where every
// threshold-based exact repair left some y < 0 (inconclusive). The exact-basis fallback (GLPK's
// exact simplex from the final basis, then the unique solution on the basic columns) decides it,
// and the certificate passes the independent verifier.
TEST(Separability, DegenerateFarkasVertexIsDecidedThroughTheExactBasis) {
  GeneratorOptions o;
  o.family = "underparameterized";
  o.seed = 67;
  o.vocab_size = 5;
  o.embedding_dim = 9;
  o.num_contexts = 20;
  o.support_size = 2;
  const InstanceData data = generate(o);
  const SeparabilityResult res = decide_separability(data);
  ASSERT_EQ(res.verdict, SeparabilityVerdict::kViolated) << res.reason;
  ASSERT_EQ(res.certificate.kind, SeparabilityCertificateKind::kFarkas);
  std::string why;
  EXPECT_TRUE(verify_separability_certificate(data, res.certificate, &why)) << why;
}

}  // namespace
}  // namespace ntp

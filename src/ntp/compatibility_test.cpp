#include "ntp/compatibility.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <iostream>
#include <limits>
#include <string>

#include "ntp/generators.hpp"
#include "ntp/subspace.hpp"

namespace ntp {
namespace {

constexpr double kEps = std::numeric_limits<double>::epsilon();

InstanceData family(const std::string& name, std::uint64_t seed = 1) {
  GeneratorOptions o;
  o.family = name;
  o.seed = seed;
  return generate(o);
}

// W* is in F (P_perp W* = 0), has zero column sums, and solves (C) to rounding.
void expect_w_star_properties(const InstanceData& data, const CompatibilityResult& res,
                              const std::string& what) {
  const auto inst = to_scalar<double>(data);
  const SubspaceBasis f = subspace_basis(inst);
  ASSERT_EQ(res.w_star.rows(), inst.V) << what;
  ASSERT_EQ(res.w_star.cols(), inst.d) << what;
  const double scale = std::max(1.0, res.w_star.norm());
  const double tol = 1e3 * static_cast<double>(inst.V * inst.d) * kEps * scale;
  EXPECT_LT(project_perp(f, res.w_star).norm(), tol) << what;
  EXPECT_LT(res.w_star.colwise().sum().cwiseAbs().maxCoeff(), tol) << what;
  EXPECT_LT(res.w_star_residual, tol) << what;
  EXPECT_LT(res.w_star_residual_bound, tol) << what;  // rigorous (exact A w, MPFI logs)
  EXPECT_GE(res.w_star_residual_bound, 0.0) << what;
}

TEST(Compat, IncompatibleFamilyIsViolatedWithVerifiedCertificate) {
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    const InstanceData data = family("incompatible", seed);
    const CompatibilityResult res = check_compatibility(data);
    EXPECT_EQ(res.verdict, CompatibilityVerdict::kViolated) << seed;
    EXPECT_EQ(res.certificate, CompatibilityCertificate::kViolationExact) << seed;
    EXPECT_GT(res.left_null_dim, 0);
    EXPECT_EQ(res.rank + res.left_null_dim, res.num_equations);
    ASSERT_EQ(res.y.size(), static_cast<std::size_t>(res.num_equations));
    EXPECT_TRUE(in_left_null_space(data, res.y));
    EXPECT_TRUE(verify_incompatibility_certificate(data, res.y));
    EXPECT_TRUE(res.y_dot_a.excludes_zero());
    EXPECT_LE(res.y_dot_a.lo, res.y_dot_a.hi);
    // The least-squares W* cannot solve (C): its residual is far from rounding level.
    EXPECT_GT(res.w_star_residual, 1e-6);
    EXPECT_GT(res.w_star_residual_bound, 1e-6);
  }
}

TEST(Compat, HoldingFamilies) {
  for (const std::string name : {"overparameterized", "paper-toy", "inseparable"}) {
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
      const InstanceData data = family(name, seed);
      const CompatibilityResult res = check_compatibility(data);
      EXPECT_EQ(res.verdict, CompatibilityVerdict::kHolds) << name << " " << seed;
      EXPECT_NE(res.certificate, CompatibilityCertificate::kNone) << name;
      EXPECT_EQ(res.numeric_rank, res.rank) << name;
      expect_w_star_properties(data, res, name);
    }
  }
}

TEST(Compat, PaperMainHoldsByFullRowRank) {
  const InstanceData data = family("paper-main");
  const auto t0 = std::chrono::steady_clock::now();
  CompatibilityOptions exact_only;
  exact_only.compute_w_star = false;
  const CompatibilityResult exact = check_compatibility(data, exact_only);
  const auto t1 = std::chrono::steady_clock::now();
  const CompatibilityResult res = check_compatibility(data);
  const auto t2 = std::chrono::steady_clock::now();
  EXPECT_EQ(exact.verdict, CompatibilityVerdict::kHolds);
  EXPECT_EQ(res.verdict, CompatibilityVerdict::kHolds);
  EXPECT_EQ(res.certificate, CompatibilityCertificate::kFullRowRank);
  EXPECT_EQ(res.rank, 250);
  EXPECT_EQ(res.num_equations, 250);
  expect_w_star_properties(data, res, "paper-main");
  std::cout << "paper-main: exact certificate " << std::chrono::duration<double>(t1 - t0).count()
            << " s, with W* " << std::chrono::duration<double>(t2 - t1).count()
            << " s, W* residual " << res.w_star_residual << " (rigorous bound "
            << res.w_star_residual_bound << ")\n";
}

// Two contexts with identical embeddings; supports {0,1} and {0,1,2}.
InstanceData twin_instance(const std::vector<Rational>& p0, const std::vector<Rational>& p1) {
  InstanceData data = basis_embedding_instance(4, {{0, 1}, {0, 1, 2}}, {p0, p1});
  data.contexts[1].embedding = data.contexts[0].embedding;
  return data;
}

TEST(Compat, IdenticalEmbeddingsWithConsistentOddsHold) {
  // p_1/p_0 = 2 in both contexts: y = (1, -1, 0) has prod r^y = 2 / 2 = 1.
  const InstanceData data = twin_instance({Rational(1, 3), Rational(2, 3)},
                                          {Rational(1, 6), Rational(2, 6), Rational(3, 6)});
  const CompatibilityResult res = check_compatibility(data);
  EXPECT_EQ(res.verdict, CompatibilityVerdict::kHolds);
  EXPECT_EQ(res.certificate, CompatibilityCertificate::kLeftNullSpaceExact);
  EXPECT_EQ(res.num_equations, 3);
  EXPECT_EQ(res.rank, 2);
  EXPECT_EQ(res.left_null_dim, 1);
  expect_w_star_properties(data, res, "twin");
  // Exponent 2: h_1 = 2 h_0 and r_1 = r_0^2 (2 log r_0 - log r_1 = 0).
  InstanceData scaled = basis_embedding_instance(
      3, {{0, 1}, {0, 1}}, {{Rational(1, 3), Rational(2, 3)}, {Rational(1, 5), Rational(4, 5)}});
  scaled.contexts[1].embedding = {Rational(2), Rational(0)};
  scaled.contexts[0].embedding = {Rational(1), Rational(0)};
  const CompatibilityResult rs = check_compatibility(scaled);
  EXPECT_EQ(rs.verdict, CompatibilityVerdict::kHolds);
  EXPECT_EQ(rs.certificate, CompatibilityCertificate::kLeftNullSpaceExact);
  expect_w_star_properties(scaled, rs, "scaled");
}

TEST(Compat, IdenticalEmbeddingsWithConflictingOddsAreViolated) {
  const InstanceData data = twin_instance({Rational(1, 3), Rational(2, 3)},
                                          {Rational(1, 5), Rational(1, 5), Rational(3, 5)});
  const CompatibilityResult res = check_compatibility(data);
  EXPECT_EQ(res.verdict, CompatibilityVerdict::kViolated);
  EXPECT_EQ(res.certificate, CompatibilityCertificate::kViolationExact);
  ASSERT_EQ(res.y.size(), 3U);
  EXPECT_EQ(abs(res.y[0]), 1);
  EXPECT_EQ(res.y[0], -res.y[1]);
  EXPECT_EQ(res.y[2], 0);
  // |y . a| = log 2 - log 1 = log 2.
  const double l2 = std::log(2.0);
  EXPECT_TRUE((res.y_dot_a.lo <= l2 && l2 <= res.y_dot_a.hi) ||
              (res.y_dot_a.lo <= -l2 && -l2 <= res.y_dot_a.hi));
  EXPECT_LT(res.y_dot_a.hi - res.y_dot_a.lo, 1e-15);
  EXPECT_TRUE(verify_incompatibility_certificate(data, res.y));
  // A vector outside the left null space, or with y.a = 0, is rejected.
  EXPECT_FALSE(verify_incompatibility_certificate(data, {BigInt(1), BigInt(0), BigInt(0)}));
  EXPECT_FALSE(verify_incompatibility_certificate(data, {BigInt(0), BigInt(0), BigInt(0)}));
  EXPECT_THROW(in_left_null_space(data, {BigInt(1)}), InvalidInput);
}

TEST(Compat, IntervalPathWhenExactPowersAreRefused) {
  CompatibilityOptions no_exact;
  no_exact.max_exact_power_bits = 0;
  no_exact.gcd_free_basis_test = false;
  const CompatibilityResult violated =
      check_compatibility(twin_instance({Rational(1, 3), Rational(2, 3)},
                                        {Rational(1, 5), Rational(1, 5), Rational(3, 5)}),
                          no_exact);
  EXPECT_EQ(violated.verdict, CompatibilityVerdict::kViolated);
  EXPECT_EQ(violated.certificate, CompatibilityCertificate::kViolationInterval);
  // y . a = log 2 - log 2 is exactly 0: an enclosure cannot prove it, so the answer is honest.
  const CompatibilityResult undecided =
      check_compatibility(twin_instance({Rational(1, 3), Rational(2, 3)},
                                        {Rational(1, 6), Rational(2, 6), Rational(3, 6)}),
                          no_exact);
  EXPECT_EQ(undecided.verdict, CompatibilityVerdict::kInconclusive);
  EXPECT_EQ(undecided.certificate, CompatibilityCertificate::kNone);
  EXPECT_FALSE(undecided.reason.empty());
}

TEST(Compat, GcdFreeBasisDecidesWithoutFormingPowers) {
  // Products refused (bit budget 0): the gcd-free basis test still decides exactly.
  CompatibilityOptions coprime_only;
  coprime_only.max_exact_power_bits = 0;
  // d = 1, h_0 = 3, h_1 = 2, r_0 = 8, r_1 = 4: y = (2, -3), 2 log 8 - 3 log 4 = 0.
  InstanceData data = basis_embedding_instance(
      3, {{0, 1}, {0, 1}}, {{Rational(1, 9), Rational(8, 9)}, {Rational(1, 5), Rational(4, 5)}});
  data.embedding_dim = 1;
  data.contexts[0].embedding = {Rational(3)};
  data.contexts[1].embedding = {Rational(2)};
  const CompatibilityResult res = check_compatibility(data, coprime_only);
  EXPECT_EQ(res.verdict, CompatibilityVerdict::kHolds);
  EXPECT_EQ(res.certificate, CompatibilityCertificate::kLeftNullSpaceExact);
  expect_w_star_properties(data, res, "coprime holds");
  // r_1 = 5 instead: 2 log 8 - 3 log 5 != 0.
  data.contexts[1].probabilities = {Rational(1, 6), Rational(5, 6)};
  const CompatibilityResult bad = check_compatibility(data, coprime_only);
  EXPECT_EQ(bad.verdict, CompatibilityVerdict::kViolated);
  EXPECT_EQ(bad.certificate, CompatibilityCertificate::kViolationExact);
  EXPECT_TRUE(verify_incompatibility_certificate(data, bad.y, coprime_only));
  EXPECT_TRUE(bad.y_dot_a.excludes_zero());
}

TEST(Compat, BasisEmbeddingsWStarClosedForm) {
  // Hbar = I: W* = Lambda*, column j = centred in-support log-probabilities, 0 off support.
  const std::vector<std::vector<std::int32_t>> supports{{0, 1, 2}, {1, 3}, {4}, {0, 2, 3, 4}};
  const std::vector<std::vector<Rational>> probs{
      {Rational(1, 2), Rational(1, 3), Rational(1, 6)},
      {Rational(1, 10), Rational(9, 10)},
      {Rational(1)},
      {Rational(1, 8), Rational(1, 8), Rational(1, 4), Rational(1, 2)}};
  const InstanceData data = basis_embedding_instance(5, supports, probs);
  const CompatibilityResult res = check_compatibility(data);
  EXPECT_EQ(res.verdict, CompatibilityVerdict::kHolds);
  EXPECT_EQ(res.certificate, CompatibilityCertificate::kFullRowRank);
  Eigen::MatrixXd expected = Eigen::MatrixXd::Zero(5, 4);
  for (std::size_t j = 0; j < supports.size(); ++j) {
    double mean = 0;
    for (const Rational& p : probs[j]) mean += std::log(rational_to_double(p));
    mean /= static_cast<double>(probs[j].size());
    for (std::size_t k = 0; k < supports[j].size(); ++k) {
      expected(supports[j][k], static_cast<Eigen::Index>(j)) =
          std::log(rational_to_double(probs[j][k])) - mean;
    }
  }
  EXPECT_LT((res.w_star - expected).cwiseAbs().maxCoeff(), 1e3 * kEps);
  expect_w_star_properties(data, res, "basis");
}

TEST(Compat, OneHotHoldsTriviallyWithZeroWStar) {
  const InstanceData data = family("one-hot");
  const CompatibilityResult res = check_compatibility(data);
  EXPECT_EQ(res.verdict, CompatibilityVerdict::kHolds);
  EXPECT_EQ(res.certificate, CompatibilityCertificate::kFullRowRank);
  EXPECT_EQ(res.num_equations, 0);
  EXPECT_EQ(res.w_star.norm(), 0.0);
}

TEST(Compat, NamesAreStable) {
  EXPECT_EQ(to_string(CompatibilityVerdict::kViolated), "violated");
  EXPECT_EQ(to_string(CompatibilityCertificate::kFullRowRank), "full_row_rank");
  EXPECT_EQ(to_string(CompatibilityCertificate::kLeftNullSpaceExact), "left_null_space_exact");
}

TEST(Compat, UnderparameterizedVerdictsAreCertified) {
  // d < m: either outcome is possible; whichever is found must carry a valid certificate.
  int violated = 0;
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    GeneratorOptions o;
    o.family = "underparameterized";
    o.seed = seed;
    if (seed > 5) {  // d << m and larger supports: left null spaces with random odds
      o.vocab_size = 5;
      o.embedding_dim = 2;
      o.num_contexts = 8;
      o.support_size = 3;
    }
    const InstanceData data = generate(o);
    const CompatibilityResult res = check_compatibility(data);
    ASSERT_NE(res.verdict, CompatibilityVerdict::kInconclusive) << seed;
    if (res.verdict == CompatibilityVerdict::kViolated) {
      ++violated;
      EXPECT_TRUE(verify_incompatibility_certificate(data, res.y)) << seed;
      EXPECT_GT(res.w_star_residual, 1e-9) << seed;
    } else {
      expect_w_star_properties(data, res, "underparameterized");
    }
    std::cout << "underparameterized seed " << seed << ": " << to_string(res.verdict) << " ("
              << to_string(res.certificate) << "), rank " << res.rank << "/" << res.num_equations
              << "\n";
  }
  EXPECT_GT(violated, 0);
}

TEST(Compat, IncompatibleAtPaperMainSize) {
  GeneratorOptions o;
  o.family = "incompatible";
  o.vocab_size = 10;
  o.embedding_dim = 60;
  o.num_contexts = 50;
  o.support_size = 6;
  const InstanceData data = generate(o);
  const auto t0 = std::chrono::steady_clock::now();
  const CompatibilityResult res = check_compatibility(data);
  const auto t1 = std::chrono::steady_clock::now();
  EXPECT_EQ(res.verdict, CompatibilityVerdict::kViolated);
  EXPECT_TRUE(verify_incompatibility_certificate(data, res.y));
  std::cout << "incompatible V=10 d=60 m=50 |S|=6: "
            << std::chrono::duration<double>(t1 - t0).count() << " s, rank " << res.rank << "/"
            << res.num_equations << "\n";
}

}  // namespace
}  // namespace ntp

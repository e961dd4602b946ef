// Tests of geometry.hpp (theory.md §7b; issue 9). Expected values come from construction
// (balanced disjoint supports: ||P||_* = (K - 1) sqrt(r k) by hand), from single-column cases
// solved by hand, from the exact invariants of GD, and from higher precision.
#include "ntp/geometry.hpp"

#include <gtest/gtest.h>

#include <Eigen/SVD>
#include <cmath>
#include <tuple>

#include "ntp/rational.hpp"

namespace ntp {
namespace {

/** K disjoint supports of size k covering V = K k, each repeated r times (uniform p). */
InstanceData balanced(int K, int k, int r) {
  std::vector<std::vector<std::int32_t>> supports;
  for (int rep = 0; rep < r; ++rep) {
    for (int p = 0; p < K; ++p) {
      std::vector<std::int32_t> s;
      for (int i = 0; i < k; ++i) s.push_back(p * k + i);
      supports.push_back(s);
    }
  }
  return basis_embedding_instance(static_cast<std::int64_t>(K) * k, supports,
                                  uniform_probabilities(supports));
}

TEST(GeometrySupport, PatternsAndGroups) {
  const SupportPatterns sp = support_patterns(geometry_instance("geometry-repeated", 1));
  EXPECT_EQ(sp.m, 16);
  EXPECT_EQ(sp.sets.size(), 4u);
  for (auto c : sp.pattern_count) EXPECT_EQ(c, 4);
  // Tokens in a group have equal rows of S.
  for (std::int64_t a = 0; a < sp.V; ++a) {
    for (std::int64_t b = 0; b < sp.V; ++b) {
      const bool same = sp.token_group[static_cast<std::size_t>(a)] ==
                        sp.token_group[static_cast<std::size_t>(b)];
      EXPECT_EQ(same, sp.S.row(a) == sp.S.row(b));
    }
  }
}

TEST(GeometryReference, LInIsCentredLogProbabilities) {
  // One context, p = (1/2, 1/4, 1/4) on {0, 1, 2} of V = 4: log p - mean log p, 0 off support.
  const InstanceData d =
      basis_embedding_instance(4, {{0, 1, 2}}, {{Rational(1, 2), Rational(1, 4), Rational(1, 4)}});
  const Eigen::MatrixXd L = l_in_double(d);
  const double l2 = std::log(2.0);
  const double mean = (-l2 - 2 * l2 - 2 * l2) / 3;
  EXPECT_NEAR(L(0, 0), -l2 - mean, 1e-15);
  EXPECT_NEAR(L(1, 0), -2 * l2 - mean, 1e-15);
  EXPECT_NEAR(L(2, 0), -2 * l2 - mean, 1e-15);
  EXPECT_EQ(L(3, 0), 0.0);
}

TEST(GeometryNorms, RigorousBoundsAreTightAndAbove) {
  Eigen::MatrixXd A = Eigen::MatrixXd::Zero(4, 3);
  A(0, 0) = 3;
  A(1, 1) = 2;
  A(2, 2) = 1;
  EXPECT_GE(spectral_norm_upper(A), 3.0);
  EXPECT_LE(spectral_norm_upper(A), 3.0 * (1 + 1e-12));
  EXPECT_GE(nuclear_norm_upper(A), 6.0);
  EXPECT_LE(nuclear_norm_upper(A), 6.0 * (1 + 1e-12));
  // Rank one u v^T: ||.||_2 = ||.||_* = ||u|| ||v|| = 5 * 13.
  Eigen::Vector2d u(3, 4);
  Eigen::Vector3d v(3, 4, 12);
  const Eigen::MatrixXd B = u * v.transpose();
  EXPECT_GE(nuclear_norm_upper(B), 65.0);
  EXPECT_LE(nuclear_norm_upper(B), 65.0 * (1 + 1e-12));
  EXPECT_GE(spectral_norm_upper(B), 65.0);
}

TEST(GeometryProjection, IsTheEuclideanProjectionOntoC) {
  // Obtuse-angle characterisation: p = Proj_C(x) iff <x - p, y - p> <= 0 for all y in C. Checked
  // against many feasible y (random a, random gaps >= 1).
  const std::vector<std::uint8_t> in = {1, 0, 1, 0, 0, 1, 0};
  const Eigen::VectorXd c = Eigen::VectorXd::Ones(7);
  Eigen::VectorXd x(7);
  x << 0.3, 2.0, -1.0, 0.1, -5.0, 0.7, 0.25;
  const Eigen::VectorXd p = project_column(x, in, c, 1.0);
  // p in C.
  for (int i = 0; i < 7; ++i) {
    if (in[static_cast<std::size_t>(i)] != 0) {
      EXPECT_DOUBLE_EQ(p(i), p(0));
    } else {
      EXPECT_LE(p(i), p(0) - 1 + 1e-15);
    }
  }
  std::uint64_t s = 12345;
  for (int trial = 0; trial < 2000; ++trial) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    const double a = static_cast<double>(s >> 11) * 0x1.0p-53 * 8 - 4;
    Eigen::VectorXd y(7);
    for (int i = 0; i < 7; ++i) {
      s = s * 6364136223846793005ULL + 1442695040888963407ULL;
      const double u = static_cast<double>(s >> 11) * 0x1.0p-53;
      y(i) = in[static_cast<std::size_t>(i)] != 0 ? a : a - 1 - 3 * u * u;
    }
    EXPECT_LE((x - p).dot(y - p), 1e-12) << "trial " << trial;
  }
}

TEST(GeometryProxy, BalancedDisjointSupportsCertifyTheProxy) {
  // theory.md §7b [D]: for balanced disjoint supports the proxy is L_mm. By hand:
  // ||P||_* = (K - 1) sqrt(r k) (P^T P = r-fold copies of k (I - 11^T/K)).
  for (const auto& [K, k, r] :
       std::vector<std::tuple<int, int, int>>{{2, 1, 1}, {3, 3, 4}, {4, 2, 3}, {5, 1, 2}}) {
    const SupportPatterns sp = support_patterns(balanced(K, k, r));
    const ProxyResult pr = analyze_proxy(sp);
    EXPECT_TRUE(pr.polar_condition) << K << k << r;
    EXPECT_TRUE(pr.check.primal_feasible);
    EXPECT_TRUE(pr.check.dual_feasible) << pr.check.problem;
    const double expected = (K - 1) * std::sqrt(static_cast<double>(r * k));
    EXPECT_LE(pr.check.lower, expected * (1 + 1e-14));
    EXPECT_GE(pr.check.primal_upper, expected * (1 - 1e-14));
    EXPECT_LE(pr.check.relative_gap, 1e-10) << K << k << r;
  }
}

TEST(GeometryProxy, SingleColumnSolvedByHand) {
  // m = 1: ||l||_* = ||l||_2; min a^2 k + (V - k)(a - 1)^2 gives a = 1 - k/V: the proxy column.
  const InstanceData d = basis_embedding_instance(5, {{1, 3}}, uniform_probabilities({{1, 3}}));
  const SupportPatterns sp = support_patterns(d);
  const NuclearSolverResult r = solve_l_mm(sp);
  ASSERT_TRUE(r.check.primal_feasible && r.check.dual_feasible);
  const double expected = std::sqrt(2 * 0.6 * 0.6 + 3 * 0.4 * 0.4);
  EXPECT_LE(r.check.lower, expected * (1 + 1e-14));
  EXPECT_GE(r.check.primal_upper, expected * (1 - 1e-14));
  EXPECT_LE(r.check.relative_gap, 1e-9);
}

TEST(GeometryLmm, OverlappingSupportsBeatTheProxyWithASmallCertifiedGap) {
  for (const char* fam : {"geometry-repeated", "geometry-overlap"}) {
    const SupportPatterns sp = support_patterns(geometry_instance(fam, 1));
    const ProxyResult pr = analyze_proxy(sp);
    EXPECT_FALSE(pr.polar_condition) << fam;
    NuclearSolverOptions o;
    o.target_relative_gap = 1e-10;
    const NuclearSolverResult r = solve_l_mm(sp, o);
    EXPECT_TRUE(r.check.primal_feasible) << fam << r.check.problem;
    EXPECT_TRUE(r.check.dual_feasible) << fam << r.check.problem;
    EXPECT_LE(r.check.relative_gap, 1e-10) << fam;
    // ||P||_* from an independent SVD (Jacobi): strictly above the certified ||L_mm||_*.
    Eigen::JacobiSVD<Eigen::MatrixXd> svd(pr.P);
    const double p_nuc = svd.singularValues().sum();
    EXPECT_LT(r.check.primal_upper, p_nuc * (1 - 1e-6)) << fam;
  }
}

TEST(GeometryLmm, VerifierRejectsBrokenCertificates) {
  const SupportPatterns sp = support_patterns(geometry_instance("geometry-overlap", 1));
  const NuclearSolverResult r = solve_l_mm(sp);
  ASSERT_TRUE(r.check.primal_feasible && r.check.dual_feasible);
  std::int64_t off = -1;
  for (std::int64_t v = 0; v < sp.V && off < 0; ++v) {
    if (sp.S(v, 0) == 0) off = v;
  }
  std::int64_t in = -1;
  for (std::int64_t v = 0; v < sp.V && in < 0; ++v) {
    if (sp.S(v, 0) > 0) in = v;
  }
  NuclearCertificate bad2 = r.certificate;
  bad2.L(in, 0) += 0x1.0p-30;  // unequal in-support logits
  EXPECT_FALSE(verify_nuclear_certificate(sp, bad2).primal_feasible);
  NuclearCertificate bad3 = r.certificate;
  bad3.Y(off, 0) = 0x1.0p-20;  // positive off-support dual entry
  EXPECT_FALSE(verify_nuclear_certificate(sp, bad3).dual_feasible);
  NuclearCertificate bad4 = r.certificate;
  bad4.Y(in, 0) += 0x1.0p-30;  // column sum not 0
  EXPECT_FALSE(verify_nuclear_certificate(sp, bad4).dual_feasible);
  // The repaired dual of anything is feasible, and its bound is below the optimum.
  const Eigen::MatrixXd Y = repair_dual(sp, Eigen::MatrixXd::Random(sp.V, sp.m));
  NuclearCertificate c{r.certificate.L, Y};
  const NuclearCertificateCheck k = verify_nuclear_certificate(sp, c);
  EXPECT_TRUE(k.dual_feasible);
  EXPECT_LE(k.lower, r.check.primal_upper);
}

TEST(GeometryTrain, GradientDescentKeepsColumnSumsOfW) {
  // 1^T grad_W CE = 1^T G_L H^T = 0 (columns of softmax - p sum to 0): 1^T W_k = 1^T W_0 exactly
  // up to rounding, for GD without ridge (theory.md §4 invariant, here for L = W H).
  const InstanceData d = geometry_instance("geometry-repeated", 2);
  GeometryTrainOptions o;
  o.kind = OptimizerKind::kGD;
  o.steps = 300;
  o.eta = Rational(1);
  const GeometryTrainResult r = train_geometry(d, o, parse_precision("double"));
  const Eigen::RowVectorXd s0 = r.W.front().colwise().sum();
  const Eigen::RowVectorXd s1 = r.W.back().colwise().sum();
  EXPECT_LE((s1 - s0).cwiseAbs().maxCoeff(), 1e-12);
  EXPECT_GT((r.W.back() - r.W.front()).norm(), 1.0);  // it moved
  // GD with eta 1 decreases the loss on this instance (recorded grid).
  for (std::size_t i = 1; i < r.points.size(); ++i) {
    EXPECT_LE(r.points[i].ce, r.points[i - 1].ce + 1e-14) << r.points[i].step;
  }
}

TEST(GeometryTrain, OneStepDecreaseMatchesTheGradientNorm) {
  // First-order check of both gradients (grad_W = G_L H^T, grad_H = W^T G_L) against the loss
  // alone: one GD step of size eta changes CE by -eta (||grad_W||^2 + ||grad_H||^2) + O(eta^2).
  // In mpfr:50 with eta = 10^-20 the relative defect is ~1e-20; a wrong or missing grad_H is off
  // by O(1).
  const InstanceData d = geometry_instance("geometry-overlap", 4);
  GeometryTrainOptions o;
  o.kind = OptimizerKind::kGD;
  o.steps = 1;
  o.eta = Rational(1, 100000) * Rational(1, 100000) * Rational(1, 100000) * Rational(1, 100000);
  const GeometryTrainResult r = train_geometry(d, o, parse_precision("mpfr:50"));
  ASSERT_EQ(r.points.size(), 2u);
  const double g2 = r.points[0].grad_norm * r.points[0].grad_norm;
  const Rational e0 = *parse_rational(r.points[0].excess_text);
  const Rational e1 = *parse_rational(r.points[1].excess_text);
  EXPECT_NEAR(rational_to_double((e0 - e1) / o.eta) / g2, 1.0, 1e-10);
  // With ridge lambda = 1/10, in double with eta = 1e-6 (second-order defect ~1e-6 relative):
  // the objective CE + (lambda/2)(||W||^2 + ||H||^2) and its gradient.
  o.lambda = Rational(1, 10);
  o.eta = Rational(1, 1000000);
  const GeometryTrainResult q = train_geometry(d, o, parse_precision("double"));
  const double q2 = q.points[0].grad_norm * q.points[0].grad_norm;
  EXPECT_NEAR((q.points[0].objective - q.points[1].objective) / 1e-6 / q2, 1.0, 1e-4);
}

TEST(GeometryTrain, PrecisionsAgreeWithMpfr) {
  // 200 GD steps in double, long double, dd and mpfr:40 against mpfr:60: agreement in units of
  // each type's epsilon (the map is smooth; errors grow at most mildly over 200 steps).
  const InstanceData d = geometry_instance("geometry-overlap", 3);
  GeometryTrainOptions o;
  o.kind = OptimizerKind::kGD;
  o.steps = 200;
  o.eta = Rational(1, 2);
  const GeometryTrainResult ref = train_geometry(d, o, parse_precision("mpfr:60"));
  const double scale = ref.L.back().cwiseAbs().maxCoeff();
  for (const auto& [name, eps] :
       std::vector<std::pair<std::string, double>>{{"double", 0x1.0p-52},
                                                   {"long-double", 0x1.0p-63},
                                                   {"dd", 0x1.0p-104},
                                                   {"mpfr:40", 1e-40}}) {
    const GeometryTrainResult r = train_geometry(d, o, parse_precision(name));
    ASSERT_EQ(r.L.size(), ref.L.size());
    const double err = (r.L.back() - ref.L.back()).cwiseAbs().maxCoeff() / scale;
    // Both sides are rounded to double for the comparison: floor at 2^-53.
    EXPECT_LE(err, std::max(1e4 * eps, 0x1.0p-52)) << name;
    EXPECT_EQ(r.precision.name(), name);
  }
  // And they are not all trivially equal: float differs from the reference by far more.
  const GeometryTrainResult f = train_geometry(d, o, parse_precision("float"));
  EXPECT_GT((f.L.back() - ref.L.back()).cwiseAbs().maxCoeff() / scale, 1e-9);
}

TEST(GeometryClaims, RepeatedPatternsCollapseAndBalancedCertifiesProxy) {
  GeometryOptions o;  // defaults: GD, eta 1, 20000 steps
  const GeometryReport rep = run_geometry(geometry_instance("geometry-repeated", 1), o);
  auto verdict = [&](const GeometryReport& r, const std::string& name) {
    for (const auto& c : r.claims) {
      if (c.name == name) return c.verdict;
    }
    ADD_FAILURE() << "no claim " << name;
    return Verdict::kInconclusive;
  };
  EXPECT_EQ(verdict(rep, "subspace_collapse"), Verdict::kHolds);
  EXPECT_EQ(verdict(rep, "l_mm_certified"), Verdict::kHolds);
  EXPECT_EQ(verdict(rep, "proxy_optimality"), Verdict::kNotApplicable);
  EXPECT_EQ(verdict(rep, "ce_to_entropy"), Verdict::kHolds);
  EXPECT_EQ(verdict(rep, "in_support_to_l_in"), Verdict::kHolds);
  EXPECT_EQ(verdict(rep, "regularization_path"), Verdict::kHolds);
  EXPECT_GT(rep.l_mm_minus_proxy, 1e-3);
  GeometryOptions ob;
  ob.train.steps = 3000;
  ob.ridge_path = false;
  const GeometryReport bal = run_geometry(geometry_instance("geometry-balanced", 1), ob);
  EXPECT_EQ(verdict(bal, "proxy_optimality"), Verdict::kHolds);
  EXPECT_FALSE(bal.solver_run);
  // Too short a run decides nothing.
  GeometryOptions os;
  os.train.steps = 5;
  os.ridge_path = false;
  const GeometryReport sh = run_geometry(geometry_instance("geometry-repeated", 1), os);
  EXPECT_EQ(verdict(sh, "subspace_collapse"), Verdict::kInconclusive);
  EXPECT_EQ(verdict(sh, "direction_to_l_mm"), Verdict::kInconclusive);
  // Ridge training: the lambda -> infinity claims do not apply.
  GeometryOptions orr;
  orr.train.steps = 20000;
  orr.train.lambda = Rational(1, 100);
  orr.ridge_path = false;
  const GeometryReport rr = run_geometry(geometry_instance("geometry-repeated", 1), orr);
  EXPECT_EQ(verdict(rr, "norms_grow"), Verdict::kNotApplicable);
  // ... and the factored iterates reach the convex minimizer of CE(L) + lambda ||L||_*, computed
  // independently by proximal gradient (no factorization).
  EXPECT_EQ(verdict(rr, "ridge_minimizer"), Verdict::kHolds);
}

}  // namespace
}  // namespace ntp

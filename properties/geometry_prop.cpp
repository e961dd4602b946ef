// Properties of the reference objects of theory.md §7b (geometry.hpp; issue 9). Shapes first
// (patterns, sizes, repeats), then data, so that shrinking reduces dimensions.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <Eigen/SVD>
#include <algorithm>
#include <cmath>

#include "ntp/geometry.hpp"
#include "ntp/rational.hpp"

namespace ntp {
namespace {

/** K disjoint supports of size k covering V = K k, each repeated r times; probabilities from
 * small positive integer counts (the proxy's optimality does not depend on them). */
InstanceData balanced_instance(int K, int k, int r, const std::vector<int>& counts) {
  std::vector<std::vector<std::int32_t>> supports;
  std::vector<std::vector<Rational>> probs;
  std::size_t c = 0;
  for (int rep = 0; rep < r; ++rep) {
    for (int p = 0; p < K; ++p) {
      std::vector<std::int32_t> s;
      std::vector<Rational> q;
      long total = 0;
      for (int i = 0; i < k; ++i)
        total += counts[(c + static_cast<std::size_t>(i)) % counts.size()];
      for (int i = 0; i < k; ++i) {
        s.push_back(p * k + i);
        q.emplace_back(counts[(c + static_cast<std::size_t>(i)) % counts.size()], total);
      }
      c += static_cast<std::size_t>(k);
      supports.push_back(s);
      probs.push_back(q);
    }
  }
  return basis_embedding_instance(static_cast<std::int64_t>(K) * k, supports, probs);
}

// theory.md §7b [D]: balanced disjoint supports => the proxy is certified optimal, with
// ||P||_* = (K - 1) sqrt(r k) by construction.
RC_GTEST_PROP(GeometryProp, BalancedDisjointSupportsCertifyTheProxy, ()) {
  const int K = *rc::gen::inRange(2, 6);
  const int k = *rc::gen::inRange(1, 4);
  const int r = *rc::gen::inRange(1, 4);
  const auto counts = *rc::gen::container<std::vector<int>>(3, rc::gen::inRange(1, 20));
  const SupportPatterns sp = support_patterns(balanced_instance(K, k, r, counts));
  const ProxyResult pr = analyze_proxy(sp);
  RC_ASSERT(pr.polar_condition);
  RC_ASSERT(pr.check.primal_feasible);
  RC_ASSERT(pr.check.dual_feasible);
  RC_ASSERT(pr.check.relative_gap <= 1e-9);
  const double expected = (K - 1) * std::sqrt(static_cast<double>(r * k));
  RC_ASSERT(pr.check.lower <= expected * (1 + 1e-14));
  RC_ASSERT(pr.check.primal_upper >= expected * (1 - 1e-14));
}

// Random overlapping supports: the solver's certificate is exactly feasible, its gap small, and
// ||L_mm||_* never exceeds ||P||_* (an independent Jacobi SVD) beyond the gap.
RC_GTEST_PROP(GeometryProp, RandomSupportsGiveAValidCertificate, ()) {
  const std::int64_t V = *rc::gen::inRange<std::int64_t>(3, 9);
  const std::int64_t m = *rc::gen::inRange<std::int64_t>(1, 9);
  std::vector<std::vector<std::int32_t>> supports;
  for (std::int64_t j = 0; j < m; ++j) {
    const auto k = *rc::gen::inRange<std::int64_t>(1, V);
    auto s = *rc::gen::unique<std::vector<std::int32_t>>(
        static_cast<std::size_t>(k),
        rc::gen::inRange<std::int32_t>(0, static_cast<std::int32_t>(V)));
    std::sort(s.begin(), s.end());
    supports.push_back(s);
  }
  const SupportPatterns sp =
      support_patterns(basis_embedding_instance(V, supports, uniform_probabilities(supports)));
  NuclearSolverOptions o;
  o.max_seconds = 10;
  const NuclearSolverResult r = solve_l_mm(sp, o);
  RC_ASSERT(r.check.primal_feasible);
  RC_ASSERT(r.check.dual_feasible);
  RC_ASSERT(r.check.lower <= r.check.primal_upper);
  RC_ASSERT(r.check.relative_gap <= 1e-6);
  Eigen::JacobiSVD<Eigen::MatrixXd> svd(proxy_logits(sp));
  RC_ASSERT(r.check.lower <= svd.singularValues().sum() * (1 + 1e-12));
  // When the polar condition holds the proxy is optimal: the two values agree within the gaps.
  const ProxyResult pr = analyze_proxy(sp);
  if (pr.polar_condition) {
    RC_ASSERT(std::abs(pr.check.primal_upper - r.check.primal_upper) <=
              2e-6 * r.check.primal_upper);
  }
}

// Repeated support patterns: L_mm has equal columns within a pattern (the solver works on the
// compressed problem; the expansion and the certificate are checked on the full matrix), and
// appending copies of a context never changes which pattern it belongs to.
RC_GTEST_PROP(GeometryProp, RepeatedPatternsHaveEqualLmmColumns, ()) {
  const std::int64_t V = *rc::gen::inRange<std::int64_t>(3, 8);
  const int P = *rc::gen::inRange(1, 4);
  std::vector<std::vector<std::int32_t>> pats;
  for (int p = 0; p < P; ++p) {
    const auto k = *rc::gen::inRange<std::int64_t>(1, V);
    auto s = *rc::gen::unique<std::vector<std::int32_t>>(
        static_cast<std::size_t>(k),
        rc::gen::inRange<std::int32_t>(0, static_cast<std::int32_t>(V)));
    std::sort(s.begin(), s.end());
    pats.push_back(s);
  }
  const int reps = *rc::gen::inRange(2, 4);
  std::vector<std::vector<std::int32_t>> supports;
  for (int r = 0; r < reps; ++r) {
    for (const auto& s : pats) supports.push_back(s);
  }
  const SupportPatterns sp =
      support_patterns(basis_embedding_instance(V, supports, uniform_probabilities(supports)));
  const NuclearSolverResult r = solve_l_mm(sp);
  RC_ASSERT(r.check.primal_feasible && r.check.dual_feasible);
  const Eigen::MatrixXd& L = r.certificate.L;
  for (std::int64_t a = 0; a < sp.m; ++a) {
    for (std::int64_t b = a + 1; b < sp.m; ++b) {
      if (sp.context_pattern[static_cast<std::size_t>(a)] ==
          sp.context_pattern[static_cast<std::size_t>(b)]) {
        RC_ASSERT((L.col(a) - L.col(b)).cwiseAbs().maxCoeff() <= 1e-9);
      }
    }
  }
}

}  // namespace
}  // namespace ntp

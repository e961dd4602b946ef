#include "ntp/attainment.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "ntp/compatibility.hpp"
#include "ntp/errors.hpp"
#include "ntp/flint_linalg.hpp"
#include "ntp/generators.hpp"
#include "ntp/instance.hpp"
#include "ntp/interval.hpp"
#include "ntp/max_margin.hpp"
#include "ntp/rational.hpp"
#include "ntp/separability.hpp"
#include "ntp/test_support.hpp"
#include "ntp/w_star.hpp"

namespace ntp {
namespace {

using testing_support::family;
using testing_support::hand_instance;

constexpr long kRefPrec = 300;
/** The whole chain: (6), (C), W^mm, W*, then attainment. */
struct Pipeline {
  InstanceData data;
  SeparabilityResult sep;
  CompatibilityResult compat;
  MaxMarginResult mm;
  WStarResult ws;
  AttainmentResult att;
  double seconds = 0;
};

Pipeline run(InstanceData data, const AttainmentOptions& options = {}) {
  const auto t0 = std::chrono::steady_clock::now();
  Pipeline p;
  p.data = std::move(data);
  p.sep = decide_separability(p.data);
  CompatibilityOptions co;
  co.compute_w_star = false;  // the double SVD solution is not needed here
  p.compat = check_compatibility(p.data, co);
  p.mm = compute_w_mm(p.data, p.sep.verdict);
  p.ws = enclose_w_star(p.data, p.compat.verdict, 200, p.compat.rank);
  p.att = check_attainment(p.data, p.ws, p.mm, options);
  p.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return p;
}

/** A small exact rational as long double (numerator and denominator below 2^63). */
long double to_long_double(const Rational& q) {
  EXPECT_LT(bit_length(numerator(q)), 63);
  EXPECT_LT(bit_length(denominator(q)), 63);
  return static_cast<long double>(numerator(q).convert_to<long long>()) /
         static_cast<long double>(denominator(q).convert_to<long long>());
}

/** H = -sum_j pi_j sum_z p log p in long double, independently of the MPFI code. */
long double entropy_long_double(const InstanceData& data) {
  long double h = 0;
  for (const ContextData& c : data.contexts) {
    long double inner = 0;
    for (const Rational& q : c.probabilities) {
      const long double p = to_long_double(q);
      inner -= p * std::log(p);
    }
    h += to_long_double(c.weight) * inner;
  }
  return h;
}

/** sqrt(2) max_j ||h_j|| in long double. */
long double m_long_double(const InstanceData& data) {
  long double best = 0;
  for (const ContextData& c : data.contexts) {
    long double s = 0;
    for (const Rational& x : c.embedding) {
      const long double v = to_long_double(x);
      s += v * v;
    }
    best = std::max(best, std::sqrt(s));
  }
  return std::sqrt(2.0L) * best;
}

void expect_entropy_enclosure(const InstanceData& data, const std::string& label) {
  const Enclosure h = enclose_entropy(data);
  const long double ref = entropy_long_double(data);
  // The long double sum is accurate to about 1e-18 here; the enclosure is rigorous.
  EXPECT_LE(static_cast<long double>(h.lo) - 1e-17L, ref) << label;
  EXPECT_GE(static_cast<long double>(h.hi) + 1e-17L, ref) << label;
  EXPECT_LE(h.lo, h.hi) << label;
  EXPECT_LT(h.hi - h.lo, 1e-15) << label;
}

/** The facts of [T Prop. 1] and bound (9) for a computed attainment result. */
void expect_attainment_facts(const Pipeline& p, const AttainmentOptions& options,
                             const std::string& label) {
  const AttainmentResult& att = p.att;
  ASSERT_TRUE(att.computed) << label << ": " << att.reason;
  ASSERT_EQ(att.points.size(), options.grid.size()) << label;
  EXPECT_TRUE(att.all_positive) << label;
  EXPECT_TRUE(att.all_bounds_hold) << label;
  const auto V = static_cast<long double>(p.data.vocab_size);
  const long double M = m_long_double(p.data);
  EXPECT_NEAR(att.M, static_cast<double>(M), 1e-15 * static_cast<double>(M)) << label;
  for (std::size_t k = 0; k < att.points.size(); ++k) {
    const AttainmentPoint& pt = att.points[k];
    const std::string at = label + ", R = " + std::to_string(pt.R);
    EXPECT_EQ(pt.R, options.grid[k]) << at;
    // CE > H for every finite W [T Prop. 1].
    EXPECT_GT(pt.excess.lo, 0.0) << at;
    EXPECT_TRUE(pt.positive) << at;
    EXPECT_LE(pt.excess.lo, pt.excess.hi) << at;
    // (9): excess <= V e^{||W*|| M} e^{-R}; the reported bound is a lower bound of that side.
    EXPECT_TRUE(pt.bound_holds) << at;
    EXPECT_LE(pt.excess.hi, pt.bound) << at;
    const long double rhs_hi =
        V * std::exp(static_cast<long double>(p.ws.norm_hi) * M * (1 + 1e-15L) -
                     static_cast<long double>(pt.R));
    EXPECT_LE(static_cast<long double>(pt.bound), rhs_hi) << at;
    // [D] excess(R) strictly decreasing, and the enclosures are tight enough to show it.
    if (k > 0) {
      EXPECT_LT(pt.excess.hi, att.points[k - 1].excess.lo) << at;
    }
  }
  // r_bound = ||W*||_hi M + log(V / epsilon), from (9); bisection can only do better.
  const long double rb = static_cast<long double>(p.ws.norm_hi) * M +
                         std::log(V / static_cast<long double>(options.epsilon));
  EXPECT_NEAR(att.r_bound, static_cast<double>(rb), 1e-12 * static_cast<double>(rb)) << label;
  EXPECT_GT(att.r_certified, 0.0) << label;
  EXPECT_LE(att.r_certified, att.r_bound) << label;
  // r_certified is certified (excess.hi <= epsilon there) and nearly the smallest such R: at
  // R (1 - 1e-4) the excess is larger by a factor >= e^{1e-4 R} (margins >= 1) than at the
  // bisection's lower end, where it exceeded epsilon.
  AttainmentOptions again = options;
  again.grid = {att.r_certified * (1 - 1e-4), att.r_certified};
  const AttainmentResult r = check_attainment(p.data, p.ws, p.mm, again);
  ASSERT_TRUE(r.computed) << label;
  EXPECT_GT(r.points[0].excess.lo, options.epsilon) << label;
  EXPECT_LE(r.points[1].excess.hi, options.epsilon) << label;
  expect_entropy_enclosure(p.data, label);
}

TEST(Attainment, PaperMainSeed1) {
  const AttainmentOptions options;
  const Pipeline p = run(family("paper-main", 1), options);
  ASSERT_EQ(to_string(p.mm.status), "proven") << p.mm.reason;
  ASSERT_TRUE(p.ws.computed) << p.ws.reason;
  expect_attainment_facts(p, options, "paper-main 1");
  std::printf("paper-main 1: pipeline %.3fs (attainment %.3fs), r_certified %.6g, r_bound %.6g\n",
              p.seconds, p.att.seconds, p.att.r_certified, p.att.r_bound);
}

TEST(Attainment, Overparameterized) {
  for (std::uint64_t seed = 1; seed <= 2; ++seed) {
    AttainmentOptions options;
    options.grid = {0.5, 1, 3, 10, 30, 100};
    options.epsilon = 1e-9;
    const Pipeline p = run(family("overparameterized", seed), options);
    expect_attainment_facts(p, options, "overparameterized " + std::to_string(seed));
  }
}

/** Rigorous lo <= x <= hi for a reference x accurate to far below 2^-200 relative. */
void expect_contains(const Enclosure& e, mpfr_srcptr x, const std::string& label) {
  Real slack(kRefPrec);
  Real up(kRefPrec);
  Real down(kRefPrec);
  mpfr_abs(slack.get(), x, MPFR_RNDN);
  mpfr_mul_2si(slack.get(), slack.get(), -200, MPFR_RNDN);
  mpfr_add(up.get(), x, slack.get(), MPFR_RNDN);
  mpfr_sub(down.get(), x, slack.get(), MPFR_RNDN);
  EXPECT_GE(mpfr_cmp_d(up.get(), e.lo), 0)
      << label << ": " << mpfr_get_d(x, MPFR_RNDN) << " < lo " << e.lo;
  EXPECT_LE(mpfr_cmp_d(down.get(), e.hi), 0)
      << label << ": " << mpfr_get_d(x, MPFR_RNDN) << " > hi " << e.hi;
}

/** [D] Orthonormal embeddings: the logits of W* + R W^mm for context j are
 * log p_z - mean_j + R (1 - k_j/V) on S_j and -R k_j/V elsewhere (theory.md §2 closed forms,
 * mean_j = (1/k_j) sum_{z in S_j} log p_{j,z}, k_j = |S_j|), so
 *     excess(R) = sum_j pi_j log(1 + (V - k_j) e^{mean_j - R}).   Computed at 300 bits. */
void closed_form_excess(const InstanceData& data, double R, mpfr_ptr out) {
  Real mean(kRefPrec);
  Real lp(kRefPrec);
  Real t(kRefPrec);
  mpfr_set_ui(out, 0, MPFR_RNDN);
  for (const ContextData& c : data.contexts) {
    mpfr_set_ui(mean.get(), 0, MPFR_RNDN);
    for (const Rational& p : c.probabilities) {
      mpfr_set_q(lp.get(), p.backend().data(), MPFR_RNDN);
      mpfr_log(lp.get(), lp.get(), MPFR_RNDN);
      mpfr_add(mean.get(), mean.get(), lp.get(), MPFR_RNDN);
    }
    mpfr_div_ui(mean.get(), mean.get(), static_cast<unsigned long>(c.tokens.size()), MPFR_RNDN);
    mpfr_sub_d(t.get(), mean.get(), R, MPFR_RNDN);
    mpfr_exp(t.get(), t.get(), MPFR_RNDN);
    mpfr_mul_ui(
        t.get(), t.get(),
        static_cast<unsigned long>(data.vocab_size - static_cast<std::int64_t>(c.tokens.size())),
        MPFR_RNDN);
    mpfr_log1p(t.get(), t.get(), MPFR_RNDN);
    mpfr_mul_q(t.get(), t.get(), c.weight.backend().data(), MPFR_RNDN);
    mpfr_add(out, out, t.get(), MPFR_RNDN);
  }
}

/** H at 300 bits. */
void reference_entropy(const InstanceData& data, mpfr_ptr out) {
  Real lp(kRefPrec);
  mpfr_set_ui(out, 0, MPFR_RNDN);
  for (const ContextData& c : data.contexts) {
    for (const Rational& p : c.probabilities) {
      mpfr_set_q(lp.get(), p.backend().data(), MPFR_RNDN);
      mpfr_log(lp.get(), lp.get(), MPFR_RNDN);
      mpfr_mul_q(lp.get(), lp.get(), p.backend().data(), MPFR_RNDN);
      mpfr_mul_q(lp.get(), lp.get(), c.weight.backend().data(), MPFR_RNDN);
      mpfr_sub(out, out, lp.get(), MPFR_RNDN);
    }
  }
}

TEST(Attainment, OrthonormalClosedForm) {
  AttainmentOptions options;
  options.grid = {0, 0.5, 1, 2, 4, 8, 16, 32, 64};
  const std::vector<std::vector<std::int32_t>> one_hot = {{0}, {3}, {1}, {0}, {4}};
  const std::vector<std::pair<std::string, InstanceData>> cases = {
      {"rotated orthonormal",
       hand_instance(6,
                     {{Rational(3, 5), Rational(4, 5), Rational(0), Rational(0)},
                      {Rational(-4, 5), Rational(3, 5), Rational(0), Rational(0)},
                      {Rational(0), Rational(0), Rational(1), Rational(0)}},
                     {{0, 1, 2}, {1, 3}, {5}},
                     {{Rational(1, 2), Rational(1, 3), Rational(1, 6)},
                      {Rational(1, 4), Rational(3, 4)},
                      {Rational(1)}})},
      {"one-hot orthonormal", basis_embedding_instance(5, one_hot, uniform_probabilities(one_hot))},
  };
  Real x(kRefPrec);
  std::vector<Pipeline> runs;
  for (const auto& [label, data] : cases) {
    runs.push_back(run(data, options));
    const Pipeline& p = runs.back();
    ASSERT_TRUE(p.att.computed) << label << ": " << p.att.reason;
    expect_attainment_facts(p, options, label);
    for (const AttainmentPoint& pt : p.att.points) {
      const std::string at = label + ", R = " + std::to_string(pt.R);
      closed_form_excess(data, pt.R, x.get());
      expect_contains(pt.excess, x.get(), at);
      EXPECT_LE(pt.excess.hi - pt.excess.lo, 1e-14 * pt.excess.hi) << at;
    }
    reference_entropy(data, x.get());
    expect_contains(enclose_entropy(data), x.get(), label + ", H");
  }
  // One-hot: H = 0, W* = 0 and excess(R) = log(1 + (V - 1) e^{-R}) <= epsilon exactly when
  // R >= R* = log((V - 1) / expm1(epsilon)); bisection stops within 1e-6 relative above R*.
  const Pipeline& p = runs[1];
  const long double r_star = std::log(4.0L / std::expm1(static_cast<long double>(options.epsilon)));
  EXPECT_GE(static_cast<long double>(p.att.r_certified), r_star * (1 - 1e-15L));
  EXPECT_LE(static_cast<long double>(p.att.r_certified), r_star * (1 + 2e-6L));
  // (9) with ||W*|| = 0: r_bound = log(V / epsilon).
  EXPECT_NEAR(p.att.r_bound, std::log(5 / options.epsilon), 1e-13);
  const Enclosure h = enclose_entropy(cases[1].second);
  EXPECT_LE(h.lo, 0.0);
  EXPECT_GE(h.hi, 0.0);
  EXPECT_LT(h.hi - h.lo, 1e-300);
}

TEST(Attainment, NotComputedWithoutBothDirections) {
  // (C) fails (contexts 0 and 1 share embedding and support, probabilities differ): no W*.
  const Pipeline inc = run(family("incompatible", 1));
  EXPECT_EQ(to_string(inc.mm.status), "proven");
  EXPECT_FALSE(inc.ws.computed);
  EXPECT_FALSE(inc.att.computed);
  EXPECT_FALSE(inc.att.reason.empty());
  // (6) fails (h_2 = -h_1, V = 4, S = {0,1}, {0,2}; theory.md §2): no W^mm. (C) holds: the two
  // rows (e_1 - e_0) h_1^T and (e_2 - e_0) h_2^T are independent.
  const std::vector<Rational> h1 = {Rational(1), Rational(-1, 2), Rational(3, 4)};
  std::vector<Rational> h2;
  for (const auto& v : h1) h2.push_back(-v);
  const Pipeline neg =
      run(hand_instance(4, {h1, h2}, {{0, 1}, {0, 2}},
                        {{Rational(1, 2), Rational(1, 2)}, {Rational(1, 3), Rational(2, 3)}}));
  EXPECT_TRUE(neg.ws.computed) << neg.ws.reason;
  EXPECT_EQ(to_string(neg.mm.status), "not_separable");
  EXPECT_FALSE(neg.att.computed);
  EXPECT_FALSE(neg.att.reason.empty());
}

TEST(Attainment, InvalidOptionsAreRefused) {
  const std::vector<std::vector<std::int32_t>> s = {{0}, {2}, {1}};
  const Pipeline p = run(basis_embedding_instance(4, s, uniform_probabilities(s)));
  ASSERT_TRUE(p.att.computed) << p.att.reason;
  auto refused = [&](const AttainmentOptions& o, const std::string& what) {
    EXPECT_THROW(check_attainment(p.data, p.ws, p.mm, o), InvalidInput) << what;
  };
  AttainmentOptions o;
  o.grid = {1, -1};
  refused(o, "negative R");
  o.grid = {std::numeric_limits<double>::quiet_NaN()};
  refused(o, "NaN R");
  o.grid = {std::numeric_limits<double>::infinity()};
  refused(o, "infinite R");
  o = AttainmentOptions{};
  o.epsilon = 0;
  refused(o, "epsilon 0");
  o.epsilon = std::numeric_limits<double>::infinity();
  refused(o, "infinite epsilon");
}

}  // namespace
}  // namespace ntp

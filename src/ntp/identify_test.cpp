#include "ntp/identify.hpp"

#include <gtest/gtest.h>

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "ntp/instance_io.hpp"
#include "ntp/loss.hpp"

namespace ntp {
namespace {

using nlohmann::json;

Rational q(std::int64_t num, std::int64_t den = 1) {
  return Rational(BigInt(num)) / Rational(BigInt(den));
}

/** The value of a JSON number or rational string (as written by rational_to_json). */
Rational from_json(const json& v) {
  if (v.is_string()) return *parse_rational(v.get<std::string>());
  if (v.is_number_integer()) return Rational(BigInt(v.get<std::int64_t>()));
  return rational_from_double(v.get<double>());
}

RationalMatrix matrix_from_json(const json& m) {
  RationalMatrix out(static_cast<std::int64_t>(m.size()), static_cast<std::int64_t>(m[0].size()));
  for (std::int64_t i = 0; i < out.rows(); ++i) {
    for (std::int64_t j = 0; j < out.cols(); ++j) out(i, j) = from_json(m[i][j]);
  }
  return out;
}

Property make(PropertyKind kind, EmbeddingSpace space,
              std::vector<std::pair<std::int64_t, std::int64_t>> pairs,
              std::vector<std::int64_t> items = {}, std::vector<Rational> values = {},
              Expectation expect = Expectation::kTransfers) {
  Property p;
  p.kind = kind;
  p.space = space;
  p.pairs = std::move(pairs);
  p.items = std::move(items);
  p.values = std::move(values);
  p.expect = expect;
  p.name = to_string(kind) + "/" + to_string(space);
  p.path = "properties[" + p.name + "]";
  return p;
}

void set_col(RationalMatrix& m, std::int64_t j, const std::vector<Rational>& v) {
  for (std::int64_t i = 0; i < m.rows(); ++i) m(i, j) = v[static_cast<std::size_t>(i)];
}

// theory.md 7c: (A f, A^{-T} g + c) has the same distributions; under diversity A is recovered
// exactly, and c too.
TEST(Identify, SymmetryPairIsEquivalentAndMapRecoveredExactly) {
  const Predictor a = random_predictor(3, 6, 7, 1);
  const RationalMatrix A = random_unimodular(3, 2);
  const std::vector<Rational> c = {q(1, 4), q(-1, 2), q(3, 8)};
  const Predictor b = apply_symmetry(a, A, c);
  const auto res = identify(a, b, {}, {});
  const json& r = res.report;
  EXPECT_EQ(res.exit_code, ExitCode::kAllHold) << r.dump(1);
  EXPECT_EQ(r["format"], "ntp-identify");
  EXPECT_EQ(r["arithmetic"], "exact");
  EXPECT_EQ(r["equivalence"]["verdict"], "holds");
  EXPECT_EQ(from_json(r["equivalence"]["max_discrepancy"]), 0);
  EXPECT_TRUE(r["a"]["diverse"]);
  EXPECT_TRUE(r["b"]["diverse"]);
  EXPECT_EQ(r["recovery"]["verdict"], "holds");
  ASSERT_TRUE(r["recovery"]["symmetry"].is_object());
  EXPECT_EQ(r["recovery"]["symmetry"]["verdict"], "holds");
  EXPECT_EQ(matrix_from_json(r["recovery"]["map"]), A);
  EXPECT_EQ(matrix_from_json(r["recovery"]["symmetry"]["A_inverse_transpose"]),
            transpose(inverse(A)));
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(from_json(r["recovery"]["symmetry"]["c"][i]), c[i]);
  EXPECT_NE(format_identify(r).find("equivalence: holds"), std::string::npos);
}

// The same pair in every supported precision: equivalent to rounding.
TEST(Identify, SymmetryPairHoldsInEveryPrecision) {
  const Predictor a = random_predictor(3, 5, 6, 4);
  const Predictor b = apply_symmetry(a, random_unimodular(3, 5), {q(1), q(0), q(-3, 4)});
  for (const char* name :
       {"float", "double", "long-double", "dd", "qd", "float128", "mp50", "mpfr:40"}) {
    IdentifyOptions o;
    o.arithmetic = Arithmetic::kFloat;
    o.precision = parse_precision(name);
    const auto res = identify(a, b, {}, o);
    EXPECT_EQ(res.report["equivalence"]["verdict"], "holds") << name;
    EXPECT_EQ(res.report["precision"], o.precision.name());
    EXPECT_EQ(res.exit_code, ExitCode::kAllHold) << name << res.report.dump(1);
  }
}

// A change of one context embedding by delta v changes row x* of Lambda by delta v^T Gd(y): the
// worst discrepancy is at (x*, argmax_y |v^T Gd_b(y)|), with exactly that value.
TEST(Identify, NonEquivalentPairReportsTheWorstEntry) {
  const Predictor a = random_predictor(3, 6, 7, 7);
  Predictor b = apply_symmetry(a, random_unimodular(3, 8), {q(0), q(1, 2), q(0)});
  const std::int64_t xs = 2;
  b.f(1, xs) += q(1, 1024);
  const RationalMatrix la = log_odds(a, 0);
  const RationalMatrix lb = log_odds(b, 0);
  Rational worst = 0;
  std::int64_t wy = -1;
  for (std::int64_t x = 0; x < la.rows(); ++x) {
    for (std::int64_t y = 0; y < la.cols(); ++y) {
      const Rational d = abs(la(x, y) - lb(x, y));
      if (x != xs) {
        EXPECT_EQ(d, 0);
      }
      if (d > worst) {
        worst = d;
        wy = y;
      }
    }
  }
  ASSERT_GT(worst, 0);
  const auto res = identify(a, b, {}, {});
  const json& eq = res.report["equivalence"];
  EXPECT_EQ(res.exit_code, ExitCode::kViolated);
  EXPECT_EQ(eq["verdict"], "violated");
  EXPECT_EQ(from_json(eq["max_discrepancy"]), worst);
  EXPECT_EQ(eq["worst"]["context"], xs);
  EXPECT_EQ(eq["worst"]["token"], wy);
  EXPECT_TRUE(res.report["recovery"].is_null());
  // Float mode: the discrepancy (about 1e-3) is far above double's rounding tolerance.
  IdentifyOptions o;
  o.arithmetic = Arithmetic::kFloat;
  const auto rf = identify(a, b, {}, o);
  EXPECT_EQ(rf.exit_code, ExitCode::kViolated);
  EXPECT_EQ(rf.report["equivalence"]["worst"]["context"], xs);
  EXPECT_DOUBLE_EQ(rf.report["equivalence"]["max_discrepancy"].get<double>(),
                   rational_to_double(worst));
  // A stated tolerance above the discrepancy makes it hold (exactly decided).
  IdentifyOptions t;
  t.tolerance = worst;
  EXPECT_EQ(identify(a, b, {}, t).report["equivalence"]["verdict"], "holds");
  t.tolerance = worst - q(1, 1 << 30);
  EXPECT_EQ(identify(a, b, {}, t).report["equivalence"]["verdict"], "violated");
}

/**
 * A diverse predictor (M = 3, 14 contexts, 10 tokens) built so that one property of each kind holds
 * non-trivially (more points than an affine map or probe could always fit):
 * parallel f(1) - f(0) = 2 (f(3) - f(2)); relational f(9..13) = A_R f(4..8) + a_R; probe
 * w^T f(x) + b = t_x on x = 0..5; steering g(5..8) = g(0..3) + alpha v with alpha = (1, 2, -1,
 * 1/2); parallel tokens g(9) - g(4) = 3 (g(5) - g(0)).
 */
struct Designed {
  Predictor a;
  std::vector<Property> props;
};

Designed designed(const Predictor& base, bool keep_span = false) {
  Designed d;
  d.a = base;
  RationalMatrix& f = d.a.f;
  RationalMatrix& g = d.a.g;
  const std::int64_t M = f.rows();
  {
    std::vector<Rational> v(static_cast<std::size_t>(M));
    for (std::int64_t i = 0; i < M; ++i) v[i] = f(i, 0) + 2 * (f(i, 3) - f(i, 2));
    set_col(f, 1, v);
  }
  // keep_span: A_R = I/2 and a_R = f(0) keep every f(x) inside span F (a stays non-diverse).
  RationalMatrix AR = random_dyadic_matrix(M, M, 99);
  RationalMatrix aR = random_dyadic_matrix(M, 1, 98);
  if (keep_span) {
    AR = RationalMatrix(M, M);
    for (std::int64_t i = 0; i < M; ++i) {
      AR(i, i) = q(1, 2);
      aR(i, 0) = f(i, 0);
    }
  }
  for (std::int64_t k = 0; k < 5; ++k) {
    for (std::int64_t i = 0; i < M; ++i) {
      Rational s = aR(i, 0);
      for (std::int64_t l = 0; l < M; ++l) s += AR(i, l) * f(l, 4 + k);
      f(i, 9 + k) = s;
    }
  }
  const RationalMatrix w = random_dyadic_matrix(M, 1, 97);
  std::vector<Rational> targets;
  for (std::int64_t x = 0; x < 6; ++x) {
    Rational t = q(1, 8);
    for (std::int64_t i = 0; i < M; ++i) t += w(i, 0) * f(i, x);
    targets.push_back(t);
  }
  const RationalMatrix v = random_dyadic_matrix(M, 1, 96);
  const std::vector<Rational> alpha = {q(1), q(2), q(-1), q(1, 2)};
  for (std::int64_t k = 0; k < 4; ++k) {
    for (std::int64_t i = 0; i < M; ++i) g(i, 5 + k) = g(i, k) + alpha[k] * v(i, 0);
  }
  for (std::int64_t i = 0; i < M; ++i) g(i, 9) = g(i, 4) + 3 * v(i, 0);
  d.props = {
      make(PropertyKind::kParallel, EmbeddingSpace::kContext, {{0, 1}, {2, 3}}),
      make(PropertyKind::kRelational, EmbeddingSpace::kContext,
           {{4, 9}, {5, 10}, {6, 11}, {7, 12}, {8, 13}}),
      make(PropertyKind::kProbe, EmbeddingSpace::kContext, {}, {0, 1, 2, 3, 4, 5}, targets),
      make(PropertyKind::kSteering, EmbeddingSpace::kToken, {{0, 5}, {1, 6}, {2, 7}, {3, 8}}, {},
           alpha),
      make(PropertyKind::kParallel, EmbeddingSpace::kToken, {{4, 9}, {0, 5}}),
  };
  return d;
}

// [I] all-or-none: under diversity every property kind holds in b = (A f, A^{-T} g + c) as in a,
// and one that fails in a fails in b; "can_fail" is refuted (no equivalent counterexample exists).
TEST(Identify, UnderDiversityEveryPropertyKindTransfers) {
  const Designed d = designed(random_predictor(3, 14, 10, 11));
  const Predictor b = apply_symmetry(d.a, random_unimodular(3, 12), {q(1, 2), q(-1), q(1, 4)});
  std::vector<Property> props = d.props;
  props.push_back(make(PropertyKind::kParallel, EmbeddingSpace::kContext, {{0, 2}, {4, 7}}));
  props.push_back(make(PropertyKind::kRelational, EmbeddingSpace::kContext,
                       {{0, 1}, {2, 3}, {4, 5}, {6, 7}, {8, 10}}));
  for (const char* arith : {"exact", "double"}) {
    IdentifyOptions o;
    if (std::string(arith) == "double") o.arithmetic = Arithmetic::kFloat;
    const auto res = identify(d.a, b, props, o);
    const json& r = res.report;
    EXPECT_EQ(res.exit_code, ExitCode::kAllHold) << arith << r.dump(1);
    ASSERT_TRUE(r["a"]["diverse"]);
    ASSERT_EQ(r["properties"].size(), props.size());
    for (std::size_t k = 0; k < props.size(); ++k) {
      const json& p = r["properties"][k];
      const bool designed_to_hold = k < d.props.size();
      EXPECT_EQ(p["holds_in_a"], designed_to_hold) << arith << " " << p.dump();
      EXPECT_EQ(p["holds_in_b"], designed_to_hold) << arith << " " << p.dump();
      EXPECT_EQ(p["verdict"], "holds") << arith << " " << p.dump();
      EXPECT_TRUE(p["diverse"]);
      EXPECT_TRUE(p["counterexample"].is_null());
      EXPECT_NE(p["explanation"].get<std::string>().find("all-or-none"), std::string::npos);
    }
  }
  std::vector<Property> cf = d.props;
  for (auto& p : cf) p.expect = Expectation::kCanFail;
  const auto res = identify(d.a, b, cf, {});
  EXPECT_EQ(res.exit_code, ExitCode::kViolated);
  for (const auto& p : res.report["properties"]) EXPECT_EQ(p["verdict"], "violated") << p.dump();
}

// Without diversity: f and g in a 2-dimensional subspace of R^4. Adding to f(1) a vector n
// orthogonal to that subspace keeps every log-odds (n^T Gd = 0) but breaks the parallelism
// f(1) - f(0) = 2 (f(3) - f(2)): the property does not transfer, and the harness says why.
TEST(Identify, WithoutDiversityParallelismCanBreak) {
  const RationalMatrix Q = random_dyadic_matrix(4, 2, 41);
  Predictor a;
  a.name = "a";
  a.exact = true;
  a.f = multiply(Q, random_dyadic_matrix(2, 6, 42));
  a.g = multiply(Q, random_dyadic_matrix(2, 7, 43));
  for (std::int64_t i = 0; i < 4; ++i) a.f(i, 1) = a.f(i, 0) + 2 * (a.f(i, 3) - a.f(i, 2));
  const Property par = make(PropertyKind::kParallel, EmbeddingSpace::kContext, {{0, 1}, {2, 3}});
  ASSERT_TRUE(property_holds(par, a.f));
  const RationalMatrix N = null_space_basis(transpose(Q));  // invisible directions
  ASSERT_EQ(N.cols(), 2);
  Predictor b = a;
  b.name = "b";
  for (std::int64_t i = 0; i < 4; ++i) b.f(i, 1) += N(i, 0);
  ASSERT_EQ(log_odds(a, 0), log_odds(b, 0));
  ASSERT_FALSE(property_holds(par, b.f));

  const auto res = identify(a, b, {par}, {});
  const json& r = res.report;
  EXPECT_EQ(r["equivalence"]["verdict"], "holds");
  EXPECT_FALSE(r["a"]["diverse"]);
  EXPECT_EQ(r["a"]["invisible_context_dim"], 2);
  EXPECT_EQ(r["recovery"]["verdict"], "holds");
  const json& p = r["properties"][0];
  EXPECT_TRUE(p["holds_in_a"]);
  EXPECT_FALSE(p["holds_in_b"]);
  EXPECT_TRUE(p["holds_on_identified_a"]);
  EXPECT_TRUE(p["holds_on_identified_b"]);
  EXPECT_EQ(p["verdict"], "violated");
  EXPECT_NE(p["explanation"].get<std::string>().find("invisible"), std::string::npos);
  EXPECT_EQ(res.exit_code, ExitCode::kViolated);
  // The harness's own counterexample from a: exactly equivalent and breaking the property.
  ASSERT_TRUE(p["counterexample"].is_object());
  EXPECT_TRUE(p["counterexample"]["found"]);
  EXPECT_EQ(p["counterexample"]["log_odds_change"], 0.0);
  EXPECT_FALSE(p["counterexample"]["holds_after"]);
  // Claimed as "can_fail" the same pair passes.
  Property cf = par;
  cf.expect = Expectation::kCanFail;
  const auto ok = identify(a, b, {cf}, {});
  EXPECT_EQ(ok.exit_code, ExitCode::kAllHold) << ok.report.dump(1);
  // A probe that reads the invisible direction holds in b, fails in a, and on the identified
  // parts of both: it relies on invisible components; the counterexample removes them.
  std::vector<Rational> t;
  for (std::int64_t x = 0; x < 6; ++x) {
    Rational s = 0;
    for (std::int64_t i = 0; i < 4; ++i) s += N(i, 0) * b.f(i, x);
    t.push_back(s);
  }
  const Property probe =
      make(PropertyKind::kProbe, EmbeddingSpace::kContext, {}, {0, 1, 2, 3, 4, 5}, t);
  const auto rpr = identify(b, a, {probe}, {});
  const json& pp = rpr.report["properties"][0];
  EXPECT_TRUE(pp["holds_in_a"]);
  EXPECT_FALSE(pp["holds_in_b"]);
  EXPECT_FALSE(pp["holds_on_identified_a"]);
  EXPECT_EQ(pp["verdict"], "violated");
  EXPECT_NE(pp["explanation"].get<std::string>().find("relies on invisible"), std::string::npos);
  EXPECT_TRUE(pp["counterexample"]["found"]);
  // Float mode finds the same.
  IdentifyOptions o;
  o.arithmetic = Arithmetic::kFloat;
  const auto rf = identify(a, b, {par}, o);
  EXPECT_EQ(rf.report["properties"][0]["verdict"], "violated");
  EXPECT_TRUE(rf.report["properties"][0]["counterexample"]["found"]);
  EXPECT_FALSE(rf.report["properties"][0]["counterexample"]["holds_after"]);
}

// The constructed non-diverse family (f in a subspace, g generic): the counterexample first
// projects g onto span F, then moves f along the freed invisible directions; it is exact.
TEST(Identify, NonDiverseFamilyCounterexampleForEveryKind) {
  Designed d = designed(nondiverse_predictor(4, 3, 14, 10, 5), true);
  const Predictor b = apply_symmetry(d.a, random_unimodular(4, 6), {q(0), q(1), q(0), q(-1, 2)});
  for (auto& p : d.props) {
    // A probe on the identified components holds in every equivalent predictor: it transfers.
    if (p.kind != PropertyKind::kProbe) p.expect = Expectation::kCanFail;
  }
  const auto res = identify(d.a, b, d.props, {});
  const json& r = res.report;
  EXPECT_FALSE(r["a"]["diverse"]);
  EXPECT_EQ(r["a"]["rank_contexts"], 3);
  EXPECT_EQ(r["equivalence"]["verdict"], "holds");
  for (const auto& p : r["properties"]) {
    EXPECT_TRUE(p["holds_in_a"]) << p.dump();
    EXPECT_TRUE(p["holds_on_identified_a"]) << p.dump();
    EXPECT_EQ(p["verdict"], "holds") << p.dump();
    if (p["kind"] == "probe") {
      EXPECT_TRUE(p["counterexample"]["impossible"]) << p.dump();
      continue;
    }
    EXPECT_TRUE(p["counterexample"]["found"]) << p.dump();
    EXPECT_FALSE(p["counterexample"]["holds_after"]) << p.dump();
    EXPECT_EQ(p["counterexample"]["log_odds_change"], 0.0) << p.dump();
  }
  EXPECT_EQ(res.exit_code, ExitCode::kAllHold) << r.dump(1);
  // Claiming that the probe can fail is refuted.
  Property probe = d.props[2];
  probe.expect = Expectation::kCanFail;
  const auto rp = identify(d.a, b, {probe}, {});
  EXPECT_EQ(rp.report["properties"][0]["verdict"], "violated");
  EXPECT_EQ(rp.exit_code, ExitCode::kViolated);
}

// Two predictors fitted to one distribution table from different seeds and dimensions (4 and 6):
// equivalent to double rounding, not exactly; the recovered map reproduces f_b from f_a.
TEST(Identify, TrainedPairsAreEquivalentAndTheMapReproducesOneFromTheOther) {
  const TrainedPair tp = trained_pair(4, 7, 4, 6, 1, 2, 3);
  for (const auto& row : tp.table) {
    double s = 0;
    for (double p : row) s += p;
    EXPECT_NEAR(s, 1.0, 8 * std::numeric_limits<double>::epsilon());
  }
  IdentifyOptions o;
  const auto res = identify(tp.a, tp.b, {}, o);  // auto: the files are not exact -> float
  const json& r = res.report;
  EXPECT_EQ(r["arithmetic"], "float");
  EXPECT_EQ(r["equivalence"]["verdict"], "holds") << r.dump(1);
  EXPECT_TRUE(r["a"]["diverse"]);
  EXPECT_FALSE(r["b"]["diverse"]);
  EXPECT_EQ(r["b"]["invisible_token_dim"], 2);
  EXPECT_EQ(r["recovery"]["verdict"], "holds") << r["recovery"].dump(1);
  EXPECT_EQ(res.exit_code, ExitCode::kAllHold);
  // Independently: A f_a against f_b, relative, within the reported rounding bound.
  Eigen::MatrixXd A(6, 4), fa(4, 4), fb(6, 4);
  for (int i = 0; i < 6; ++i) {
    for (int j = 0; j < 4; ++j) A(i, j) = r["recovery"]["map"][i][j].get<double>();
  }
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 4; ++j) fa(i, j) = rational_to_double(tp.a.f(i, j));
  }
  for (int i = 0; i < 6; ++i) {
    for (int j = 0; j < 4; ++j) fb(i, j) = rational_to_double(tp.b.f(i, j));
  }
  const double rel = (A * fa - fb).norm() / fb.norm();
  EXPECT_LE(rel, r["recovery"]["relative_bound"].get<double>());
  EXPECT_GT(rel, 0);
  // Exactly, the rounded fits are not equivalent (their log-odds differ in the last bits).
  IdentifyOptions ex;
  ex.arithmetic = Arithmetic::kExact;
  const auto rex = identify(tp.a, tp.b, {}, ex);
  EXPECT_EQ(rex.report["equivalence"]["verdict"], "violated");
  EXPECT_LT(rational_to_double(from_json(rex.report["equivalence"]["max_discrepancy"])), 1e-12);
}

/**
 * A predictor trained by plain gradient descent (double) on CE = (1/n) sum_x KL(T(x) || softmax
 * (f(x)^T g)) from a seeded random start: f (M x n) and g (M x V) both move.
 */
Predictor gd_trained(const Eigen::MatrixXd& T, std::int64_t M, std::uint64_t seed, int steps,
                     double* log_odds_error) {
  const Eigen::Index n = T.rows();
  const Eigen::Index V = T.cols();
  const RationalMatrix f0 = random_dyadic_matrix(M, n, seed, 8);
  const RationalMatrix g0 = random_dyadic_matrix(M, V, seed + 1000, 8);
  Eigen::MatrixXd f(M, n), g(M, V);
  for (Eigen::Index i = 0; i < M; ++i) {
    for (Eigen::Index x = 0; x < n; ++x) f(i, x) = 0.5 * rational_to_double(f0(i, x));
    for (Eigen::Index y = 0; y < V; ++y) g(i, y) = 0.5 * rational_to_double(g0(i, y));
  }
  const double lr = 1.0;
  for (int k = 0; k < steps; ++k) {
    Eigen::MatrixXd L = f.transpose() * g;  // n x V
    for (Eigen::Index x = 0; x < n; ++x) {
      L.row(x).array() -= L.row(x).maxCoeff();
      L.row(x) = L.row(x).array().exp().matrix();
      L.row(x) /= L.row(x).sum();
    }
    const Eigen::MatrixXd D = (L - T) / static_cast<double>(n);  // dCE/dlogits
    const Eigen::MatrixXd gf = g * D.transpose();
    const Eigen::MatrixXd gg = f * D;
    f -= lr * gf;
    g -= lr * gg;
  }
  const Eigen::MatrixXd L = f.transpose() * g;
  double err = 0;
  for (Eigen::Index x = 0; x < n; ++x) {
    for (Eigen::Index y = 1; y < V; ++y) {
      err = std::max(err, std::abs((L(x, y) - L(x, 0)) - std::log(T(x, y) / T(x, 0))));
    }
  }
  *log_odds_error = err;
  Predictor p;
  p.name = "gd M=" + std::to_string(M) + " seed=" + std::to_string(seed);
  p.f = RationalMatrix(M, n);
  p.g = RationalMatrix(M, V);
  for (Eigen::Index i = 0; i < M; ++i) {
    for (Eigen::Index x = 0; x < n; ++x) p.f(i, x) = rational_from_double(f(i, x));
    for (Eigen::Index y = 0; y < V; ++y) p.g(i, y) = rational_from_double(g(i, y));
  }
  return p;
}

// Issue 10 "done when": two predictors trained by gradient descent to one finite table (6 contexts,
// 7 tokens, log-odds of rank 3) from different seeds and dimensions (3: diverse; 4: not) are
// recognised as equivalent to the accuracy the training reached, and the recovered map
// reproduces f_b from f_a to that accuracy.
TEST(Identify, GradientDescentTrainedPairsAreEquivalent) {
  const RationalMatrix fb = random_dyadic_matrix(3, 6, 71, 8);
  const RationalMatrix gb = random_dyadic_matrix(3, 7, 72, 8);
  Eigen::MatrixXd T(6, 7);
  for (int x = 0; x < 6; ++x) {
    Eigen::VectorXd l(7);
    for (int y = 0; y < 7; ++y) {
      double s = 0;
      for (int i = 0; i < 3; ++i)
        s += 2 * rational_to_double(fb(i, x)) * rational_to_double(gb(i, y));
      l(y) = s;
    }
    const double lse = log_sum_exp<double>(l);
    for (int y = 0; y < 7; ++y) T(x, y) = std::exp(l(y) - lse);
  }
  double err_a = 0, err_b = 0;
  const Predictor a = gd_trained(T, 3, 11, 20000, &err_a);
  const Predictor b = gd_trained(T, 4, 12, 20000, &err_b);
  // Training reached the table's log-odds closely (measured, not assumed).
  ASSERT_LT(err_a, 1e-10);
  ASSERT_LT(err_b, 1e-10);
  IdentifyOptions o;
  o.arithmetic = Arithmetic::kFloat;
  o.tolerance = rational_from_double(2 * (err_a + err_b));  // the stated accuracy of the fits
  const auto res = identify(a, b, {}, o);
  const json& r = res.report;
  EXPECT_EQ(r["equivalence"]["verdict"], "holds") << r["equivalence"].dump(1);
  EXPECT_TRUE(r["a"]["diverse"]);
  EXPECT_FALSE(r["b"]["diverse"]);
  EXPECT_EQ(r["recovery"]["verdict"], "holds") << r["recovery"].dump(1);
  Eigen::MatrixXd A(4, 3), fa(3, 6), fbm(4, 6);
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 3; ++j) A(i, j) = r["recovery"]["map"][i][j].get<double>();
  }
  for (int x = 0; x < 6; ++x) {
    for (int i = 0; i < 3; ++i) fa(i, x) = rational_to_double(a.f(i, x));
    for (int i = 0; i < 4; ++i) fbm(i, x) = rational_to_double(b.f(i, x));
  }
  // The recovered map carries a's context embeddings into b's identified part:
  // (A f_a)^T (g_b - g_b(y0)) = f_b^T (g_b - g_b(y0)), b's log-odds, to the training accuracy.
  Eigen::MatrixXd gbm(4, 7);
  for (int i = 0; i < 4; ++i) {
    for (int y = 0; y < 7; ++y) gbm(i, y) = rational_to_double(b.g(i, y));
  }
  const Eigen::MatrixXd Gd = gbm.colwise() - gbm.col(0);
  const double rec = ((A * fa).transpose() * Gd - fbm.transpose() * Gd).cwiseAbs().maxCoeff();
  EXPECT_LT(rec, 1e-8) << "recovered map reproduces b's log-odds to " << rec;
  // A different table is not equivalent: the worst discrepancy is far above the tolerance.
  Eigen::MatrixXd T2 = T;
  T2.row(2) = T.row(3);
  double err_c = 0;
  const Predictor c = gd_trained(T2, 3, 13, 20000, &err_c);
  EXPECT_EQ(identify(a, c, {}, o).report["equivalence"]["verdict"], "violated");
}

TEST(Identify, ReadersRoundTripAndNameTheField) {
  const Predictor a = random_predictor(2, 3, 4, 3);
  const Predictor back = read_predictor_json(predictor_to_json(a).dump(), "t");
  EXPECT_EQ(back.f, a.f);
  EXPECT_EQ(back.g, a.g);
  EXPECT_TRUE(back.exact);
  const Designed d = designed(random_predictor(3, 14, 10, 11));
  const auto props = read_property_json(properties_to_json(d.props).dump(), "p");
  ASSERT_EQ(props.size(), d.props.size());
  for (std::size_t k = 0; k < props.size(); ++k) {
    EXPECT_EQ(props[k].kind, d.props[k].kind);
    EXPECT_EQ(props[k].pairs, d.props[k].pairs);
    EXPECT_EQ(props[k].values, d.props[k].values);
  }
  const auto message = [](auto fn) {
    try {
      fn();
    } catch (const InvalidInput& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  json doc = predictor_to_json(a);
  doc["context_embeddings"][1][0] = "abc";
  std::string m = message([&] { read_predictor_json(doc.dump(), "t"); });
  EXPECT_NE(m.find("context_embeddings[1][0]"), std::string::npos) << m;
  EXPECT_NE(m.find("\"abc\""), std::string::npos) << m;
  doc = predictor_to_json(a);
  doc["token_embeddings"][2] = json::array({1});
  m = message([&] { read_predictor_json(doc.dump(), "t"); });
  EXPECT_NE(m.find("token_embeddings[2] must be an array of dim = 2"), std::string::npos) << m;
  doc = predictor_to_json(a);
  doc["dim"] = 0;
  m = message([&] { read_predictor_json(doc.dump(), "t"); });
  EXPECT_NE(m.find("dim must be an integer in [1, 4096], got 0"), std::string::npos) << m;
  m = message([&] { read_predictor_json("{", "t"); });
  EXPECT_NE(m.find("JSON syntax error"), std::string::npos) << m;
  m = message([] {
    read_property_json(R"({"format":"ntp-property","version":1,"properties":[{"kind":"bogus"}]})",
                       "p");
  });
  EXPECT_NE(m.find("properties[0].kind must be"), std::string::npos) << m;
  m = message([] {
    read_property_json(
        R"({"format":"ntp-property","version":1,"properties":[{"kind":"probe","items":[0,1],"targets":[1]}]})",
        "p");
  });
  EXPECT_NE(m.find("properties[0].targets must be an array of 2 numbers"), std::string::npos) << m;
  m = message([] {
    read_property_json(
        R"({"format":"ntp-property","version":1,"properties":[{"kind":"parallel","pairs":[[0,1]]}]})",
        "p");
  });
  EXPECT_NE(m.find("properties[0].pairs must be an array of at least 2"), std::string::npos) << m;
  // Indices are checked against the predictors in identify().
  auto bad = read_property_json(
      R"({"format":"ntp-property","version":1,"properties":[{"kind":"parallel","pairs":[[0,1],[9,2]]}]})",
      "p");
  m = message([&] { identify(a, a, bad, {}); });
  EXPECT_NE(m.find("properties[0].pairs[1][0] must be a context index in [0, 3), got 9"),
            std::string::npos)
      << m;
  Predictor other = random_predictor(2, 3, 5, 3);
  m = message([&] { identify(a, other, {}, {}); });
  EXPECT_NE(m.find("b.token_embeddings must have as many tokens as a (4), got 5"),
            std::string::npos)
      << m;
  IdentifyOptions o;
  o.pivot = 4;
  m = message([&] { identify(a, a, {}, o); });
  EXPECT_NE(m.find("--pivot must be a token index in [0, 4), got 4"), std::string::npos) << m;
}

}  // namespace
}  // namespace ntp

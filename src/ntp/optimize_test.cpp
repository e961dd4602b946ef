#include "ntp/optimize.hpp"

#include <gtest/gtest.h>

#include <Eigen/LU>
#include <random>

#include "ntp/train.hpp"

namespace ntp {
namespace {

// d = 4 > m = 3: span(Hbar)^perp is non-trivial, so the invariant on it is tested.
InstanceData tall_instance() {
  InstanceData data;
  data.vocab_size = 4;
  data.embedding_dim = 4;
  const std::vector<std::vector<double>> h = {
      {1.0, 0.5, 0.0, -0.25}, {0.0, 1.0, 0.75, 0.5}, {0.5, 0.0, -1.0, 0.25}};
  const std::vector<std::vector<std::int32_t>> s = {{0, 1}, {1, 2, 3}, {3}};
  const std::vector<std::vector<Rational>> p = {{Rational(1, 3), Rational(2, 3)},
                                                {Rational(1, 2), Rational(1, 4), Rational(1, 4)},
                                                {Rational(1)}};
  for (std::size_t j = 0; j < h.size(); ++j) {
    ContextData c;
    for (double x : h[j]) c.embedding.push_back(rational_from_double(x));
    c.weight = Rational(1, 3);
    c.tokens = s[j];
    c.probabilities = p[j];
    data.contexts.push_back(c);
  }
  validate_and_normalise(data);
  return data;
}

Eigen::MatrixXd random_w0(unsigned seed) {
  std::mt19937_64 gen(seed);
  Eigen::MatrixXd W(4, 4);
  for (Eigen::Index i = 0; i < W.size(); ++i) {
    W.data()[i] = static_cast<double>(static_cast<std::int64_t>(gen() % 513) - 256) / 128.0;
  }
  return W;
}

TEST(LogGrid, StartsDenseThenLogSpacedAndEndsAtSteps) {
  const auto g = log_grid(1000, 10);
  ASSERT_GE(g.size(), 11u);
  for (std::int64_t k = 0; k <= 10; ++k) EXPECT_EQ(g[static_cast<std::size_t>(k)], k);
  EXPECT_EQ(g.back(), 1000);
  EXPECT_TRUE(std::is_sorted(g.begin(), g.end()));
  EXPECT_EQ(std::adjacent_find(g.begin(), g.end()), g.end());
  // 10 points per decade: about 10 between 10 and 100 and 10 between 100 and 1000.
  const auto in = [&](std::int64_t lo, std::int64_t hi) {
    return std::count_if(g.begin(), g.end(), [&](auto k) { return k > lo && k <= hi; });
  };
  EXPECT_EQ(in(100, 1000), 10);
  EXPECT_EQ(log_grid(0, 10), std::vector<std::int64_t>{0});
  EXPECT_EQ(log_grid(3, 10), (std::vector<std::int64_t>{0, 1, 2, 3}));
}

// The exact invariants of GD (theory.md §4): 1^T W_k constant, the action of W_k on
// span(Hbar)^perp constant, CE(W_k) non-increasing for eta <= 1/(2L).
TEST(GradientDescent, KeepsTheExactInvariants) {
  const InstanceData data = tall_instance();
  const Instance<double> inst = to_scalar<double>(data);
  const InstanceSummary sum = summarize(data);
  OptimizerOptions opt;
  opt.kind = OptimizerKind::kGD;
  opt.steps = 300;
  opt.eta = default_eta(OptimizerKind::kGD, sum);
  for (std::int64_t k = 0; k <= opt.steps; ++k) opt.extra_record_steps.push_back(k);
  const Eigen::MatrixXd W0 = random_w0(5);
  const auto traj = run_optimizer(inst, opt, W0);
  ASSERT_EQ(traj.points.size(), 301u);
  // Projector onto span(Hbar)^perp (in R^d).
  const Eigen::MatrixXd Hb = inst.Hbar;
  const Eigen::MatrixXd P =
      Eigen::MatrixXd::Identity(4, 4) - Hb * (Hb.transpose() * Hb).inverse() * Hb.transpose();
  const double eps = ScalarTraits<double>::epsilon();
  const double scale = 1.0 + traj.points.back().norm;
  for (std::size_t i = 0; i < traj.points.size(); ++i) {
    const Eigen::MatrixXd& W = traj.weights[i];
    const double k = static_cast<double>(traj.points[i].step);
    // Each step adds a column-sum rounding of ~V eps |step entry|: bound k * 8 V eps * scale.
    EXPECT_LE((W.colwise().sum() - W0.colwise().sum()).cwiseAbs().maxCoeff(),
              (k + 1) * 32 * eps * scale);
    EXPECT_LE(((W - W0) * P).cwiseAbs().maxCoeff(), (k + 1) * 32 * eps * scale);
    if (i > 0) {
      // Descent lemma: CE decreases by at least (eta/2)||grad||^2 > 0 up to rounding of CE.
      EXPECT_LE(traj.points[i].loss.ce,
                traj.points[i - 1].loss.ce + 8 * eps * traj.points[i - 1].loss.ce)
          << "step " << traj.points[i].step;
    }
  }
  EXPECT_LT(traj.points.back().loss.excess, traj.points.front().loss.excess);
}

// Adam's first step has a closed form: m1 = (1-b1) g, v1 = (1-b2) g^2, bias-corrected to g and g^2,
// so W_1 = W_0 - eta g / (|g| + eps).
TEST(Adam, FirstStepHasClosedForm) {
  const InstanceData data = tall_instance();
  const Instance<double> inst = to_scalar<double>(data);
  OptimizerOptions opt;
  opt.kind = OptimizerKind::kAdam;
  opt.steps = 1;
  opt.eta = Rational(1, 100);
  const Eigen::MatrixXd W0 = random_w0(9);
  const auto traj = run_optimizer(inst, opt, W0);
  LossWorkspace<double> ws(inst);
  Eigen::MatrixXd G;
  loss_and_gradient(inst, W0, ws, &G);
  const Eigen::MatrixXd want = W0 - (0.01 * G.array() / (G.array().abs() + 1e-8)).matrix();
  EXPECT_LE((traj.final_weights - want).cwiseAbs().maxCoeff(), 1e-15);
}

// Normalized GD moves exactly eta per step in Frobenius norm.
TEST(NormalizedGD, StepLengthIsEta) {
  const Instance<double> inst = to_scalar<double>(tall_instance());
  OptimizerOptions opt;
  opt.kind = OptimizerKind::kNGD;
  opt.steps = 5;
  opt.eta = Rational(1, 4);
  opt.extra_record_steps = {0, 1, 2, 3, 4, 5};
  const auto traj = run_optimizer(inst, opt, Eigen::MatrixXd::Zero(4, 4).eval());
  for (std::size_t i = 1; i < traj.weights.size(); ++i) {
    EXPECT_NEAR((traj.weights[i] - traj.weights[i - 1]).norm(), 0.25, 1e-15);
  }
}

// The same run in every precision: all rungs agree with the 100-digit run to their own accuracy.
TEST(Train, EveryPrecisionAgreesWithMpfr) {
  const InstanceData data = tall_instance();
  OptimizerOptions opt;
  opt.kind = OptimizerKind::kGD;
  opt.steps = 50;
  opt.eta = Rational(1, 2);
  const TrainResult ref = train(data, opt, parse_precision("mpfr:100"));
  for (const char* p : {"float", "double", "long-double", "dd", "qd", "float128", "mp50"}) {
    const PrecisionSpec spec = parse_precision(p);
    const TrainResult r = train(data, opt, spec);
    ASSERT_EQ(r.step, ref.step);
    // Compared in double: at most float's or double's own accuracy shows.
    const double tol = spec.kind == Precision::kFloat ? 1e-5 : 1e-13;
    EXPECT_LE((r.final_weights - ref.final_weights).norm() / ref.final_weights.norm(), tol) << p;
    EXPECT_NEAR(r.ce.back(), ref.ce.back(), tol * ref.ce.back()) << p;
    EXPECT_EQ(r.precision.name(), p);
  }
}

TEST(Train, RejectsBadInitialWeights) {
  const InstanceData data = tall_instance();
  OptimizerOptions opt;
  opt.eta = Rational(1, 2);
  opt.steps = 1;
  const Eigen::MatrixXd bad = Eigen::MatrixXd::Zero(3, 4);
  EXPECT_THROW(train(data, opt, parse_precision("double"), &bad), InvalidInput);
  Eigen::MatrixXd nan = Eigen::MatrixXd::Zero(4, 4);
  nan(1, 1) = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(train(data, opt, parse_precision("double"), &nan), InvalidInput);
}

}  // namespace
}  // namespace ntp

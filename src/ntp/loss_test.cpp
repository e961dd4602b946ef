#include "ntp/loss.hpp"

#include <gtest/gtest.h>

#include <random>

#include "ntp/test_support.hpp"
#include "ntp/train.hpp"

namespace ntp {
namespace {

// A small instance with overlapping, non-uniform supports and non-orthogonal dyadic embeddings.
InstanceData small_instance() {
  InstanceData data;
  data.vocab_size = 5;
  data.embedding_dim = 3;
  const std::vector<std::vector<double>> h = {
      {0.5, -0.25, 1.0}, {0.75, 0.5, -0.5}, {-1.0, 0.25, 0.125}, {0.375, 0.625, 0.25}};
  const std::vector<std::vector<std::int32_t>> s = {{0, 1, 4}, {0, 3, 4}, {1, 2, 3}, {2}};
  const std::vector<std::vector<Rational>> p = {{Rational(1, 2), Rational(1, 3), Rational(1, 6)},
                                                {Rational(1, 4), Rational(1, 4), Rational(1, 2)},
                                                {Rational(1, 10), Rational(7, 10), Rational(1, 5)},
                                                {Rational(1)}};
  for (std::size_t j = 0; j < h.size(); ++j) {
    ContextData c;
    for (double x : h[j]) c.embedding.push_back(rational_from_double(x));
    c.weight = Rational(static_cast<long>(j) + 1, 10);
    c.tokens = s[j];
    c.probabilities = p[j];
    data.contexts.push_back(c);
  }
  validate_and_normalise(data);
  return data;
}

Eigen::MatrixXd dyadic_random(Eigen::Index rows, Eigen::Index cols, unsigned seed, double scale) {
  std::mt19937_64 gen(seed);  // integer output of mt19937_64 is specified by the standard
  Eigen::MatrixXd W(rows, cols);
  for (Eigen::Index i = 0; i < W.size(); ++i) {
    const auto k =
        static_cast<std::int64_t>(gen() % 2001) - 1000;  // modulo bias is irrelevant here
    W.data()[i] = scale * static_cast<double>(k) / 1024.0;
  }
  return W;
}

template <class S>
class LossTyped : public ::testing::Test {
 protected:
  void SetUp() override { set_mpfr_digits(60); }
};
using AllScalars =
    ::testing::Types<float, double, long double, dd_real, qd_real, Float128, Mp50, Mpfr>;
TYPED_TEST_SUITE(LossTyped, AllScalars, testing_support::ScalarName);

// Known answer: at W = 0 the softmax is uniform, so CE(0) = log V exactly (theory.md §1).
TYPED_TEST(LossTyped, CrossEntropyAtZeroIsLogV) {
  using S = TypeParam;
  using std::log;
  const Instance<S> inst = to_scalar<S>(small_instance());
  LossWorkspace<S> ws(inst);
  Matrix<S> G;
  const Matrix<S> W = Matrix<S>::Zero(inst.V, inst.d);
  const auto val = loss_and_gradient(inst, W, ws, &G);
  const S logV = log(S(5));
  const S err = (val.ce - logV) / logV;
  using std::abs;
  // CE = H + excess: a handful of roundings per context; 64 eps is generous yet catches any bug.
  EXPECT_LE(abs(err), S(64) * ScalarTraits<S>::epsilon()) << ScalarTraits<S>::to_string(val.ce);
  EXPECT_TRUE(val.has_out_of_support);
}

// The gradient agrees with the 200-digit gradient at a generic point, in units of the type's eps.
TYPED_TEST(LossTyped, GradientMatchesHigherPrecision) {
  using S = TypeParam;
  if constexpr (std::is_same_v<S, Mpfr>) GTEST_SKIP() << "Mpfr is the reference here";
  const InstanceData data = small_instance();
  const Eigen::MatrixXd W = dyadic_random(5, 3, 7, 2.0);
  set_mpfr_digits(60);
  const Instance<S> inst = to_scalar<S>(data);
  LossWorkspace<S> ws(inst);
  Matrix<S> G;
  const auto val = loss_and_gradient(inst, from_double_matrix<S>(W), ws, &G);
  set_mpfr_digits(200);
  const Instance<Mpfr> ref = to_scalar<Mpfr>(data);
  LossWorkspace<Mpfr> wr(ref);
  Matrix<Mpfr> Gr;
  const auto vr = loss_and_gradient(ref, from_double_matrix<Mpfr>(W), wr, &Gr);
  Mpfr diff = 0;
  for (Eigen::Index i = 0; i < G.size(); ++i) {
    const Mpfr gi = ScalarTraits<Mpfr>::from_rational(ScalarTraits<S>::to_rational(G.data()[i]));
    diff += (gi - Gr.data()[i]) * (gi - Gr.data()[i]);
  }
  const double rel = (sqrt(diff) / Gr.norm()).template convert_to<double>();
  const double eps = ScalarTraits<S>::to_double(ScalarTraits<S>::epsilon());
  // Each entry is a sum of m*V terms each with O(10) roundings: 200 eps bounds it with margin.
  EXPECT_LE(rel, 200 * eps) << ScalarTraits<S>::name();
  const double ce_rel =
      std::fabs(ScalarTraits<S>::to_double(val.ce) - vr.ce.template convert_to<double>()) /
      vr.ce.template convert_to<double>();
  EXPECT_LE(ce_rel, std::max(100 * eps, 4e-16)) << ScalarTraits<S>::name();
  set_mpfr_digits(60);
}

// kl_phi(x) = x + expm1(-x) against its Taylor series evaluated at 200 digits.
TEST(KlPhi, AccurateForTinyAndModerateArguments) {
  // 1000 digits: the cancellation in X + expm1(-X) costs at most 2*150 digits here. (For
  // |x| < 1e-154 phi underflows in double, as it should: x^2/2 is below the normal range.)
  set_mpfr_digits(1000);
  for (double x : {1e-150, -3e-100, 1e-20, -1e-9, 1e-3, 0.1, -0.124, 0.126, 0.5, -2.0, 30.0}) {
    const double got = kl_phi(x);
    const Mpfr X = x;
    const Mpfr want = X + expm1(-X);
    const double rel = std::fabs(got - want.convert_to<double>()) / want.convert_to<double>();
    EXPECT_LE(rel, 8 * ScalarTraits<double>::epsilon()) << "x=" << x;
    EXPECT_GT(got, 0.0) << "phi is positive for x != 0";
  }
}

// Gradient against central differences at 100 digits: step h = 1e-30 makes the O(h^2) error
// ~1e-60 relative, far below the 1e-45 acceptance, and far above the 1e-100 rounding.
TEST(LossGradient, MatchesCentralDifferencesAt100Digits) {
  set_mpfr_digits(100);
  const Instance<Mpfr> inst = to_scalar<Mpfr>(small_instance());
  LossWorkspace<Mpfr> ws(inst);
  Matrix<Mpfr> W = from_double_matrix<Mpfr>(dyadic_random(5, 3, 11, 1.5));
  Matrix<Mpfr> G;
  loss_and_gradient(inst, W, ws, &G);
  const Mpfr h("1e-30");
  for (Eigen::Index i = 0; i < W.size(); ++i) {
    Matrix<Mpfr> Wp = W;
    Matrix<Mpfr> Wm = W;
    Wp.data()[i] += h;
    Wm.data()[i] -= h;
    const Mpfr fp = loss_and_gradient(inst, Wp, ws, nullptr).ce;
    const Mpfr fm = loss_and_gradient(inst, Wm, ws, nullptr).ce;
    const Mpfr fd = (fp - fm) / (2 * h);
    EXPECT_LE(abs(fd - G.data()[i]).convert_to<double>(), 1e-45) << "entry " << i;
  }
  set_mpfr_digits(60);
}

// The excess at W = R W^mm past the horizons of theory.md §6. Orthonormal (basis) embeddings make
// W h_j exact, and uniform in-support probabilities make KL(p||q) = 0 exactly, so the truth is
// excess = (1/m) sum_j log1p((V - |S_j|)/|S_j| e^{-R}) for the double matrix W itself. The only
// error is the rounding of t = l_out - l_in (|t| eps), hence a relative error ~ R eps.
TEST(LossExcess, DeepHorizonMatches200DigitsInDouble) {
  const std::vector<std::vector<std::int32_t>> supports = {{0, 1}, {1, 2, 3}, {4}, {0, 2, 4}};
  const std::int64_t V = 6;
  const InstanceData data = basis_embedding_instance(V, supports, uniform_probabilities(supports));
  const Instance<double> inst = to_scalar<double>(data);
  // W^mm = (I - 11^T/V) S for basis embeddings (theory.md §2 closed form).
  Eigen::MatrixXd Wmm = Eigen::MatrixXd::Zero(V, 4);
  for (std::size_t j = 0; j < supports.size(); ++j) {
    const double sz = static_cast<double>(supports[j].size());
    for (std::int64_t v = 0; v < V; ++v) Wmm(v, static_cast<Eigen::Index>(j)) = -sz / V;
    for (auto z : supports[j]) Wmm(z, static_cast<Eigen::Index>(j)) += 1.0;
  }
  set_mpfr_digits(200);
  const Instance<Mpfr> ref = to_scalar<Mpfr>(data);
  LossWorkspace<double> ws(inst);
  LossWorkspace<Mpfr> wr(ref);
  for (double R : {1.0, 10.0, 36.0, 50.0, 100.0, 300.0, 600.0, 700.0}) {
    const Eigen::MatrixXd W = R * Wmm;
    const double got = loss_and_gradient(inst, W, ws, nullptr).excess;
    const Mpfr want = loss_and_gradient(ref, from_double_matrix<Mpfr>(W), wr, nullptr).excess;
    Mpfr closed = 0;  // the closed form, at the exact gap of the rounded W
    for (std::size_t j = 0; j < supports.size(); ++j) {
      const auto z = supports[j][0];
      std::int64_t v = 0;
      while (std::find(supports[j].begin(), supports[j].end(), v) != supports[j].end()) ++v;
      const Mpfr gap =
          Mpfr(W(z, static_cast<Eigen::Index>(j))) - Mpfr(W(v, static_cast<Eigen::Index>(j)));
      const double sz = static_cast<double>(supports[j].size());
      closed += log1p(Mpfr(V - sz) / Mpfr(sz) * exp(-gap)) / 4;
    }
    EXPECT_LE(abs(want - closed) / closed, Mpfr("1e-190")) << "R=" << R;
    const double rel = std::fabs(got - want.convert_to<double>()) / want.convert_to<double>();
    EXPECT_LE(rel, (2 * R + 64) * ScalarTraits<double>::epsilon()) << "R=" << R << " got " << got;
    EXPECT_GT(got, 0.0) << "R=" << R;
  }
  set_mpfr_digits(60);
}

// Invariant [D]: 1^T grad CE(W) = 0 (theory.md §4).
TEST(LossGradient, ColumnSumsVanish) {
  const Instance<double> inst = to_scalar<double>(small_instance());
  LossWorkspace<double> ws(inst);
  Eigen::MatrixXd G;
  loss_and_gradient(inst, dyadic_random(5, 3, 3, 4.0), ws, &G);
  const double scale = G.cwiseAbs().maxCoeff();
  for (Eigen::Index c = 0; c < G.cols(); ++c) {
    EXPECT_LE(std::fabs(G.col(c).sum()), 16 * scale * ScalarTraits<double>::epsilon());
  }
}

}  // namespace
}  // namespace ntp

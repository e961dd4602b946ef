// The MPFR kernel (loss_mpfr.cpp) against the generic kernel (loss_impl.hpp) in qd_real: two
// independent codes (different formulas for the out-of-support odds, MPFR series/raised-precision
// branches against qd's series), each accurate to its own precision, so they must agree to about
// qd's 2^-209 times the conditioning. Each regime selects one branch of phi_and_em. Also the
// double-double path of the generic kernel (dd_exp) against MPFR.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "ntp/generators.hpp"
#include "ntp/loss.hpp"
#include "ntp/rational.hpp"
#include "ntp/scalar.hpp"

namespace ntp {
namespace {

/** Relative difference of an MPFR and a qd value, in MPFR at 100 digits. */
double rel_diff(const Mpfr& a, const qd_real& b, const Mpfr& scale) {
  const Mpfr bb = ScalarTraits<Mpfr>::from_rational(ScalarTraits<qd_real>::to_rational(b));
  return static_cast<double>(abs(a - bb) / scale);
}

struct Agreement {
  double excess = 0;  ///< relative difference of the excess losses
  double grad = 0;    ///< max |G_mpfr - G_qd| / max |G_mpfr|
  double ce = 0;
};

Agreement compare(const InstanceData& data, const Eigen::MatrixXd& W) {
  set_mpfr_digits(70);
  const Instance<Mpfr> im = to_scalar<Mpfr>(data);
  LossWorkspace<Mpfr> wm(im);
  Matrix<Mpfr> Gm;
  const LossValue<Mpfr> vm = loss_and_gradient(im, from_double_matrix<Mpfr>(W), wm, &Gm);
  const Instance<qd_real> iq = to_scalar<qd_real>(data);
  LossWorkspace<qd_real> wq(iq);
  Matrix<qd_real> Gq;
  const LossValue<qd_real> vq = loss_and_gradient(iq, from_double_matrix<qd_real>(W), wq, &Gq);
  set_mpfr_digits(100);
  Agreement a;
  a.excess = rel_diff(vm.excess, vq.excess, vm.excess);
  a.ce = rel_diff(vm.ce, vq.ce, vm.ce);
  Mpfr gmax = 0;
  for (Eigen::Index i = 0; i < Gm.size(); ++i) gmax = std::max(gmax, Mpfr(abs(Gm.data()[i])));
  for (Eigen::Index i = 0; i < Gm.size(); ++i) {
    a.grad = std::max(a.grad, rel_diff(Gm.data()[i], Gq.data()[i], gmax));
  }
  set_mpfr_digits(60);
  return a;
}

/** Basis embeddings (h_j = e_j), supports of 3 of V = 7 tokens, non-uniform p. */
InstanceData basis_instance() {
  const std::vector<std::vector<std::int32_t>> supports = {
      {0, 1, 2}, {1, 3, 5}, {2, 4, 6}, {0, 5, 6}, {3, 4, 5}};
  std::vector<std::vector<Rational>> p;
  for (std::size_t j = 0; j < supports.size(); ++j) {
    p.push_back({Rational(1, 6), Rational(1, 3), Rational(1, 2)});
  }
  return basis_embedding_instance(7, supports, p);
}

/** W with in-support logits log p_z + eps noise_z and out-of-support logits -R. */
Eigen::MatrixXd near_solution(const InstanceData& data, double eps, double R, unsigned seed) {
  std::mt19937_64 gen(seed);
  Eigen::MatrixXd W = Eigen::MatrixXd::Constant(data.vocab_size, data.embedding_dim, -R);
  for (std::size_t j = 0; j < data.contexts.size(); ++j) {
    const auto& c = data.contexts[j];
    for (std::size_t k = 0; k < c.tokens.size(); ++k) {
      const double noise = static_cast<double>(static_cast<std::int64_t>(gen() % 2001) - 1000);
      W(c.tokens[k], static_cast<Eigen::Index>(j)) =
          std::log(rational_to_double(c.probabilities[k])) + eps * noise / 1000.0;
    }
  }
  return W;
}

// Random W of scale 1 on a generated instance: |delta| ~ 1, the expm1 branch at p + 8 bits.
TEST(MpfrKernel, AgreesWithQdAtRandomWeights) {
  GeneratorOptions g;
  g.family = "overparameterized";
  g.vocab_size = 20;
  g.embedding_dim = 12;
  g.num_contexts = 10;
  const InstanceData data = generate(g);
  std::mt19937_64 gen(7);
  Eigen::MatrixXd W(20, 12);
  for (Eigen::Index i = 0; i < W.size(); ++i) {
    W.data()[i] = static_cast<double>(static_cast<std::int64_t>(gen() % 2001) - 1000) / 512.0;
  }
  const Agreement a = compare(data, W);
  EXPECT_LE(a.excess, 1e-58);
  EXPECT_LE(a.ce, 1e-58);
  EXPECT_LE(a.grad, 1e-58);
}

// |delta| ~ 1e-4: the raised-precision branch (e^{-delta} - 1 at extra bits). The bound, qd's
// error 1e-63 / 1e-4 times a small constant, catches a wrong formula or sign in that branch; it
// cannot see the ~13 extra bits themselves (the kernel's own error without them, ~1e-67 / 1e-8,
// is below qd's here, and below the conditioning of delta at 70 digits too).
TEST(MpfrKernel, AgreesWithQdNearTheSolution) {
  const InstanceData data = basis_instance();
  const Agreement a = compare(data, near_solution(data, 1e-4, 40.0, 3));
  EXPECT_LE(a.excess, 1e-56);
  EXPECT_LE(a.grad, 1e-56);
}

// |delta| ~ 1e-20: the series branch (5 terms at 70 digits). The excess ~ 1e-40 is known to qd to
// about 1e-63 / 1e-20 relative.
TEST(MpfrKernel, AgreesWithQdVeryNearTheSolution) {
  const InstanceData data = basis_instance();
  const Agreement a = compare(data, near_solution(data, 1e-20, 40.0, 4));
  EXPECT_LE(a.excess, 1e-40);
  EXPECT_LE(a.grad, 1e-40);
}

// Out-of-support logits beyond 2^20 below: the t-form fallback (loss_mpfr.cpp) past R = 2^20,
// against the closed form of the excess: uniform p, basis embeddings (loss_test.cpp's argument).
TEST(MpfrKernel, ExtremeGapUsesTheTFormAndMatchesTheClosedForm) {
  const std::vector<std::vector<std::int32_t>> supports = {{0, 1}, {2}};
  const InstanceData data = basis_embedding_instance(4, supports, uniform_probabilities(supports));
  set_mpfr_digits(50);
  const Instance<Mpfr> inst = to_scalar<Mpfr>(data);
  LossWorkspace<Mpfr> ws(inst);
  for (double R : {1e3, 2e6}) {
    Eigen::MatrixXd W = Eigen::MatrixXd::Constant(4, 2, -R);
    W(0, 0) = W(1, 0) = W(2, 1) = 0;
    const Mpfr got = loss_and_gradient(inst, from_double_matrix<Mpfr>(W), ws, nullptr).excess;
    // context 0: log1p(2/2 e^-R), context 1: log1p(3 e^-R), weights 1/2.
    const Mpfr er = exp(Mpfr(-R));
    const Mpfr want = (log1p(er) + log1p(3 * er)) / 2;
    // t = -R + log 3 carries its rounding, R eps, into e^t (loss_test.cpp's bound, as in double).
    const double eps = static_cast<double>(ScalarTraits<Mpfr>::epsilon());
    EXPECT_LE(static_cast<double>(abs(got - want) / want), (2 * R + 64) * eps) << "R=" << R;
  }
  set_mpfr_digits(60);
}

}  // namespace
}  // namespace ntp

namespace ntp {
namespace {

// The double-double kernel's in-support terms for |delta| just above the series threshold 1/8,
// where phi = delta + (e^{-delta} - 1) with dd_exp (loss_impl.hpp) cancels the most: against
// MPFR at 60 digits, within 64 dd ulps of the excess (measured 7.6; 9.5 with the previous
// exp/log expm1 of scalar.hpp).
TEST(DdKernel, InSupportTermsNearTheSeriesThresholdAreAccurate) {
  const InstanceData data = basis_instance();
  set_mpfr_digits(60);
  const Instance<Mpfr> im = to_scalar<Mpfr>(data);
  LossWorkspace<Mpfr> wm(im);
  const Instance<dd_real> id = to_scalar<dd_real>(data);
  LossWorkspace<dd_real> wd(id);
  double worst = 0;
  for (double eps : {0.13, 0.2, 0.3, 0.6}) {
    for (unsigned seed = 1; seed <= 20; ++seed) {
      const Eigen::MatrixXd W = near_solution(data, eps, 80.0, seed);
      const Mpfr want = loss_and_gradient(im, from_double_matrix<Mpfr>(W), wm, nullptr).excess;
      const dd_real got = loss_and_gradient(id, from_double_matrix<dd_real>(W), wd, nullptr).excess;
      const Mpfr g = ScalarTraits<Mpfr>::from_rational(ScalarTraits<dd_real>::to_rational(got));
      worst = std::max(worst, static_cast<double>(abs(g - want) / want));
    }
  }
  const double ulp = ScalarTraits<dd_real>::to_double(ScalarTraits<dd_real>::epsilon());
  EXPECT_LE(worst, 64 * ulp) << "worst relative error " << worst / ulp << " dd ulps";
  set_mpfr_digits(60);
}

}  // namespace
}  // namespace ntp

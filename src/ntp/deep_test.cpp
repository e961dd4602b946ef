#include "ntp/deep.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "ntp/loss.hpp"
#include "ntp/test_support.hpp"

namespace ntp {
namespace {

/** paper-main and its certified objects, computed once (about 3 s). */
struct PaperMain {
  InstanceData data = testing_support::family("paper-main", 1);
  DeepReference ref = deep_reference(data);
  static const PaperMain& get() {
    static const PaperMain p;
    return p;
  }
};

Eigen::MatrixXd unit(const Eigen::MatrixXd& a) { return a / a.stableNorm(); }

Eigen::MatrixXd to_double(const Matrix<Mpfr>& a) {
  Eigen::MatrixXd out(a.rows(), a.cols());
  for (Eigen::Index i = 0; i < a.rows(); ++i)
    for (Eigen::Index j = 0; j < a.cols(); ++j) out(i, j) = a(i, j).convert_to<double>();
  return out;
}

// The reduced gradient (deep.hpp) against the full loss kernel of loss.hpp, an independent
// computation, where double needs no log form: P_perp grad CE(W* + U) = P_perp grad f(U) (the
// in-support part of grad CE lies in F at W_F = W*, theory.md §2).
TEST(Deep, ReducedGradientIsTheProjectedFullGradient) {
  const auto& pm = PaperMain::get();
  const Instance<double> inst = to_scalar<double>(pm.data);
  const SubspaceBasisT<double> F = subspace_basis(inst);
  const Eigen::MatrixXd U = 2.0 * pm.ref.w_mm_double;  // R = 2 - (logit spread of W*)
  const auto g = deep_gradient(inst, F, pm.ref.w_star_double, U, /*log_domain=*/false);
  LossWorkspace<double> ws(inst);
  Eigen::MatrixXd full;
  const auto lv = loss_and_gradient(inst, Eigen::MatrixXd(pm.ref.w_star_double + U), ws, &full);
  const Eigen::MatrixXd expected = project_perp(F, full);
  ASSERT_GT(expected.norm(), 1e-6);
  // The full gradient's in-support part is A = O(rounding of W*) ~ 1e-16, projected away.
  EXPECT_LT((g.grad - expected).norm() / expected.norm(), 1e-9);
  EXPECT_NEAR(std::exp(g.log_excess), lv.excess, 1e-9 * lv.excess);
  EXPECT_NEAR(g.min_gap, lv.min_gap, 1e-9);
}

// theory.md §6: past R = 745 e^{-R} is 0 in double; the log form keeps the direction exact.
// Reference: MPFR (30 digits, exponent range to 2^30) in the plain form, an independent evaluation.
TEST(Deep, LogDomainDirectionAgreesWithMpfrPastTheUnderflowHorizon) {
  // paper-toy seed 1 (V 5, d 2; (C) and (6) hold): MPFR's SVD of F is instant at this size.
  struct {
    InstanceData data = testing_support::family("paper-toy", 1);
    DeepReference ref = deep_reference(data);
  } pm;
  const Instance<double> inst = to_scalar<double>(pm.data);
  const SubspaceBasisT<double> F = subspace_basis(inst);
  set_mpfr_digits(30);
  const Instance<Mpfr> inst_mp = to_scalar<Mpfr>(pm.data);
  const SubspaceBasisT<Mpfr> F_mp = subspace_basis(inst_mp);
  Matrix<Mpfr> W_star_mp(inst.V, inst.d);
  for (std::int64_t v = 0; v < inst.V; ++v)
    for (std::int64_t i = 0; i < inst.d; ++i)
      W_star_mp(v, i) = ScalarTraits<Mpfr>::from_rational(
          pm.ref.w_star[static_cast<std::size_t>(v * inst.d + i)]);
  // R = t - (spread of W*'s logits): from below double's horizons to far past them.
  for (const double t : {20.0, 400.0, 900.0, 5000.0}) {
    const Eigen::MatrixXd U = t * pm.ref.w_mm_double;
    Matrix<Mpfr> U_mp(inst.V, inst.d);
    for (std::int64_t v = 0; v < inst.V; ++v)
      for (std::int64_t i = 0; i < inst.d; ++i) U_mp(v, i) = Mpfr(U(v, i));  // exact
    const auto deep = deep_gradient(inst, F, pm.ref.w_star_double, U, true);
    const auto plain = deep_gradient(inst, F, pm.ref.w_star_double, U, false);
    const auto mp = deep_gradient(inst_mp, F_mp, W_star_mp, U_mp, false);
    const double R = mp.min_gap.convert_to<double>();
    // Normalised in MPFR (its entries, e^{-R}, are below double's range past R = 745).
    const Mpfr n_mp = mp.grad.norm();
    ASSERT_GT(n_mp, 0) << "t = " << t << " R = " << R;
    const Eigen::MatrixXd g_mp = to_double(Matrix<Mpfr>(mp.grad / n_mp));
    EXPECT_LT((unit(deep.grad) - unit(g_mp)).norm(), 1e-12) << "R = " << R;
    EXPECT_NEAR(deep.log_excess, mp.log_excess.convert_to<double>(), 1e-12 * std::abs(R))
        << "R = " << R;
    EXPECT_NEAR(deep.min_gap, R, 1e-12 * t * 100);
    if (R < 700) {
      EXPECT_FALSE(plain.vanished);
      EXPECT_LT((unit(plain.grad) - unit(g_mp)).norm(), 1e-12) << "R = " << R;
    } else if (R > 746) {
      EXPECT_TRUE(plain.vanished) << "R = " << R;  // every pi_j s_v underflowed to 0
    }
  }
}

// The reduced NGD in log form moves past R = 745, where the plain form stops (theory.md §6).
// (Its agreement with MPFR along the whole run, 1e-14 past R = 1000, is measured in
// docs/precision_deep.md: the MPFR run takes 10 minutes.)
TEST(Deep, NgdInLogFormPassesTheHorizonAndPlainStops) {
  const auto& pm = PaperMain::get();
  DeepNgdOptions o;
  o.eta = Rational(10);
  o.steps = 5000;
  o.points_per_decade = 5;
  const DeepNgdRun deep = deep_ngd(pm.data, pm.ref, "double", o);
  o.log_domain = false;
  const DeepNgdRun plain = deep_ngd(pm.data, pm.ref, "double", o);
  ASSERT_EQ(deep.stalled_at_step, -1);
  const auto& last = deep.points.back();
  EXPECT_EQ(last.step, 5000);
  EXPECT_GT(last.min_gap, 1000);
  // Direction of U -> W^mm [T Thm 2]: 1 - cos falls with ||U|| (about C / ||U||^2).
  EXPECT_LT(last.one_minus_cos_mm, 2e-6);
  ASSERT_GE(plain.stalled_at_step, 0);
  double R_stall = 0;
  for (const auto& p : plain.points) R_stall = p.min_gap;
  EXPECT_GT(R_stall, 500);
  EXPECT_LT(R_stall, 746);
  // Identical to the log form until it stops (same arithmetic up to the scaling by e^{-rho}).
  for (std::size_t k = 0; k < plain.points.size(); ++k) {
    EXPECT_LT((plain.points[k].direction - deep.points[k].direction).norm(), 1e-12);
  }
}

// Issue 6: 1 - cos(W_B, W^mm) <= 1e-12 on paper-main along the regularization path, and the rate.
TEST(Deep, DirectionPathReachesOneMinusCos1e12) {
  const auto& pm = PaperMain::get();
  const DirectionPath path = direction_path(pm.data, pm.ref);
  ASSERT_TRUE(path.reached_target) << path.stop_reason;
  const auto& last = path.points.back();
  EXPECT_LE(last.one_minus_cos, 1e-12);
  EXPECT_LT(last.error_bound, 0.1 * last.one_minus_cos);
  for (const auto& p : path.points) EXPECT_TRUE(p.converged) << "log lambda " << p.log_lambda;
  // 1 - cos ~ C / B^2: the F-part W* alone contributes ||W*||^2 / (2 B^2) (W* is orthogonal to
  // W^mm), so the difference between the full and the F^perp-only 1 - cos is that, measured.
  EXPECT_NEAR(path.rate_slope, -2.0, 0.05);
  const double wstar2 = pm.ref.w_star_double.squaredNorm();
  const double predicted = wstar2 / (2 * last.norm * last.norm);
  EXPECT_NEAR(last.one_minus_cos - last.one_minus_cos_u, predicted, 0.02 * predicted);
  // Monotone decrease once B exceeds ||W*||.
  for (std::size_t k = 1; k < path.points.size(); ++k) {
    if (path.points[k - 1].norm > 100) {
      EXPECT_LT(path.points[k].one_minus_cos, path.points[k - 1].one_minus_cos);
    }
  }
}

}  // namespace
}  // namespace ntp

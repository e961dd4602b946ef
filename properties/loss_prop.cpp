// Properties of the reference loss kernel (theory.md §1, §4, §6).
#include "prop_support.hpp"

namespace ntp {
namespace {

using prop::gen_options;
using prop::gen_weights;

// Forward error bound: the excess depends on the logits with Lipschitz constant
// sum_j pi_j ||s_j - p_j||_1 <= 2, and each logit of W h_j carries at most d eps |W| |h|
// rounding, so |excess_double - excess_exact| <= 2 (d + 8) eps max_j |W| |h_j| + 16 eps excess.
RC_GTEST_PROP(LossProperties, ExcessInDoubleWithinForwardErrorBoundOf60Digits, ()) {
  const InstanceData data = generate(gen_options());
  const Eigen::MatrixXd W =
      gen_weights(data.vocab_size, data.embedding_dim, *rc::gen::inRange(1, 40));
  const Instance<double> inst = to_scalar<double>(data);
  LossWorkspace<double> ws(inst);
  const auto got = loss_and_gradient(inst, W, ws, nullptr);
  set_mpfr_digits(60);
  const Instance<Mpfr> ref = to_scalar<Mpfr>(data);
  LossWorkspace<Mpfr> wr(ref);
  const auto want = loss_and_gradient(ref, from_double_matrix<Mpfr>(W), wr, nullptr);
  double hmax = 0;
  for (Eigen::Index j = 0; j < inst.Hbar.cols(); ++j)
    hmax = std::max(hmax, inst.Hbar.col(j).norm());
  const double eps = ScalarTraits<double>::epsilon();
  const double w = want.excess.convert_to<double>();
  const double bound = 2 * (static_cast<double>(inst.d) + 8) * eps * W.norm() * hmax + 16 * eps * w;
  RC_ASSERT(got.excess >= 0.0);
  RC_ASSERT(std::fabs(got.excess - w) <= bound);
}

// [D] 1^T grad CE(W) = 0 for every W (theory.md §4), up to the rounding of the column sums.
RC_GTEST_PROP(LossProperties, GradientColumnSumsVanish, ()) {
  const InstanceData data = generate(gen_options());
  const Eigen::MatrixXd W =
      gen_weights(data.vocab_size, data.embedding_dim, *rc::gen::inRange(1, 20));
  const Instance<double> inst = to_scalar<double>(data);
  LossWorkspace<double> ws(inst);
  Eigen::MatrixXd G;
  loss_and_gradient(inst, W, ws, &G);
  const double scale = G.cwiseAbs().sum() + 1e-300;
  RC_ASSERT((G.colwise().sum()).cwiseAbs().maxCoeff() <=
            4 * ScalarTraits<double>::epsilon() * scale);
}

// Metamorphic: relabelling the vocabulary by a permutation sigma and permuting the rows of W
// accordingly leaves CE unchanged and permutes the rows of the gradient.
RC_GTEST_PROP(LossProperties, TokenPermutationPermutesTheGradient, ()) {
  InstanceData data = generate(gen_options());
  const Eigen::MatrixXd W =
      gen_weights(data.vocab_size, data.embedding_dim, *rc::gen::inRange(1, 20));
  std::vector<std::int32_t> sigma(static_cast<std::size_t>(data.vocab_size));
  std::iota(sigma.begin(), sigma.end(), 0);
  for (std::size_t i = sigma.size() - 1; i > 0; --i) {  // Fisher-Yates from RapidCheck draws
    std::swap(sigma[i], sigma[*rc::gen::inRange<std::size_t>(0, i + 1)]);
  }
  InstanceData perm = data;
  for (auto& c : perm.contexts) {
    for (auto& t : c.tokens) t = sigma[static_cast<std::size_t>(t)];
  }
  Eigen::MatrixXd Wp(W.rows(), W.cols());
  for (Eigen::Index v = 0; v < W.rows(); ++v) Wp.row(sigma[static_cast<std::size_t>(v)]) = W.row(v);
  const Instance<double> a = to_scalar<double>(data);
  const Instance<double> b = to_scalar<double>(perm);
  LossWorkspace<double> wa(a);
  LossWorkspace<double> wb(b);
  Eigen::MatrixXd Ga;
  Eigen::MatrixXd Gb;
  const auto la = loss_and_gradient(a, W, wa, &Ga);
  const auto lb = loss_and_gradient(b, Wp, wb, &Gb);
  const double eps = ScalarTraits<double>::epsilon();
  RC_ASSERT(std::fabs(la.ce - lb.ce) <= 64 * eps * la.ce);
  for (Eigen::Index v = 0; v < W.rows(); ++v) {
    RC_ASSERT((Ga.row(v) - Gb.row(sigma[static_cast<std::size_t>(v)])).cwiseAbs().maxCoeff() <=
              64 * eps * (Ga.cwiseAbs().maxCoeff() + 1e-300));
  }
}

// Metamorphic: splitting a context into two identical copies with half the weight each changes
// neither CE nor its gradient (the loss is a pi-weighted sum over contexts).
RC_GTEST_PROP(LossProperties, SplittingAContextChangesNothing, ()) {
  const InstanceData data = generate(gen_options());
  const Eigen::MatrixXd W =
      gen_weights(data.vocab_size, data.embedding_dim, *rc::gen::inRange(1, 20));
  const auto j = *rc::gen::inRange<std::size_t>(0, data.contexts.size());
  InstanceData split = data;
  split.contexts[j].weight /= 2;
  split.contexts.push_back(split.contexts[j]);
  const Instance<double> a = to_scalar<double>(data);
  const Instance<double> b = to_scalar<double>(split);
  LossWorkspace<double> wa(a);
  LossWorkspace<double> wb(b);
  Eigen::MatrixXd Ga;
  Eigen::MatrixXd Gb;
  const auto la = loss_and_gradient(a, W, wa, &Ga);
  const auto lb = loss_and_gradient(b, W, wb, &Gb);
  const double eps = ScalarTraits<double>::epsilon();
  RC_ASSERT(std::fabs(la.excess - lb.excess) <= 64 * eps * (la.ce));
  RC_ASSERT((Ga - Gb).cwiseAbs().maxCoeff() <= 64 * eps * (Ga.cwiseAbs().maxCoeff() + 1e-300));
}

// [T Thm 2 setting] GD with eta = 1/(2L) never increases CE (descent lemma), beyond rounding.
RC_GTEST_PROP(OptimizerProperties, GdWithTheTheoremsStepIsMonotone, ()) {
  const InstanceData data = generate(gen_options());
  OptimizerOptions opt;
  opt.kind = OptimizerKind::kGD;
  opt.steps = 40;
  opt.eta = default_eta(OptimizerKind::kGD, summarize(data));
  for (std::int64_t k = 0; k <= opt.steps; ++k) opt.extra_record_steps.push_back(k);
  opt.record_weights = false;
  const Instance<double> inst = to_scalar<double>(data);
  const auto traj = run_optimizer(inst, opt, Eigen::MatrixXd::Zero(inst.V, inst.d).eval());
  for (std::size_t i = 1; i < traj.points.size(); ++i) {
    RC_ASSERT(traj.points[i].loss.ce <=
              traj.points[i - 1].loss.ce * (1 + 8 * ScalarTraits<double>::epsilon()));
  }
}

}  // namespace
}  // namespace ntp

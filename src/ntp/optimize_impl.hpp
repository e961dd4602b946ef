#pragma once
/** @file optimize_impl.hpp
 * Template definitions of optimize.hpp; included only by the per-scalar instantiation files.
 */
#include "ntp/loss_impl.hpp"
#include "ntp/optimize.hpp"

namespace ntp {

template <class S>
Trajectory<S> run_optimizer(const Instance<S>& inst, const OptimizerOptions& opt,
                            const Matrix<S>& W0, const ProgressFn& progress) {
  using std::sqrt;
  using T = ScalarTraits<S>;
  if (W0.rows() != inst.V || W0.cols() != inst.d) {
    throw InvalidInput("invalid initial weights: W0 shape must be (" + std::to_string(inst.V) +
                       ", " + std::to_string(inst.d) + "), got (" + std::to_string(W0.rows()) +
                       ", " + std::to_string(W0.cols()) + ")");
  }
  if (!opt.eta) throw InternalError("run_optimizer: eta must be resolved by the caller");
  Trajectory<S> traj;
  traj.eta = *opt.eta;
  const S eta = T::from_rational(*opt.eta);
  const auto grid = log_grid(opt.steps, opt.points_per_decade, opt.extra_record_steps);
  LossWorkspace<S> ws(inst);
  Matrix<S> W = W0;
  Matrix<S> G(inst.V, inst.d);
  // Adam state.
  Matrix<S> m1;
  Matrix<S> m2;
  S b1(0), b2(0), aeps(0), b1t(1), b2t(1);
  if (opt.kind == OptimizerKind::kAdam) {
    m1 = Matrix<S>::Zero(inst.V, inst.d);
    m2 = Matrix<S>::Zero(inst.V, inst.d);
    b1 = T::from_rational(opt.beta1);
    b2 = T::from_rational(opt.beta2);
    aeps = T::from_rational(opt.adam_eps);
  }
  std::size_t next = 0;
  const S one(1);
  auto record = [&](std::int64_t k, const LossValue<S>& val) {
    TrajectoryPoint<S> p;
    p.step = k;
    p.loss = val;
    p.norm = W.norm();
    p.grad_norm = G.norm();
    traj.points.push_back(p);
    if (opt.record_weights) traj.weights.push_back(W);
  };
  for (std::int64_t k = 0;; ++k) {
    const LossValue<S> val = loss_and_gradient(inst, W, ws, &G);
    const bool on_grid = next < grid.size() && grid[next] == k;
    if (on_grid) {
      record(k, val);
      ++next;
    }
    if (!is_finite_s(val.ce) || !is_finite_s(W.norm())) {
      traj.diverged_at_step = k;
      if (!on_grid) record(k, val);
      break;
    }
    if (k == opt.steps) break;
    if (progress && (k % 16) == 0 && !progress(k, opt.steps)) {
      traj.stopped_early = true;  // the partial result ends where the run stopped
      if (!on_grid) record(k, val);
      break;
    }
    switch (opt.kind) {
      case OptimizerKind::kGD:  // W_{k+1} = W_k - eta grad CE(W_k)   [T §5]
        W -= eta * G;
        break;
      case OptimizerKind::kNGD: {  // W_{k+1} = W_k - eta grad / ||grad||
        const S gn = G.norm();
        if (gn > S(0)) W -= (eta / gn) * G;
        break;
      }
      case OptimizerKind::kAdam: {
        m1 = b1 * m1 + (one - b1) * G;
        m2 = b2 * m2 + (one - b2) * G.cwiseProduct(G);
        b1t *= b1;
        b2t *= b2;
        const S c1 = one / (one - b1t);
        const S c2 = one / (one - b2t);
        for (Eigen::Index i = 0; i < W.size(); ++i) {
          W.data()[i] -= eta * (c1 * m1.data()[i]) / (sqrt(c2 * m2.data()[i]) + aeps);
        }
        break;
      }
    }
  }
  traj.final_weights = W;
  return traj;
}

}  // namespace ntp

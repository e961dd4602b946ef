#pragma once
#include "ntp/optimize_impl.hpp"
#include "ntp/train.hpp"

namespace ntp {

template <class S>
TrainResult train_typed(const InstanceData& data, const OptimizerOptions& opt,
                        const Eigen::MatrixXd* W0, const ProgressFn& progress) {
  using T = ScalarTraits<S>;
  const Instance<S> inst = to_scalar<S>(data);
  Matrix<S> w0 = Matrix<S>::Zero(inst.V, inst.d);
  if (W0 != nullptr) {
    if (W0->rows() != inst.V || W0->cols() != inst.d) {
      throw InvalidInput("invalid initial weights: W0 shape must be (" + std::to_string(inst.V) +
                         ", " + std::to_string(inst.d) + "), got (" + std::to_string(W0->rows()) +
                         ", " + std::to_string(W0->cols()) + ")");
    }
    for (Eigen::Index i = 0; i < W0->size(); ++i) {
      const double x = W0->data()[i];
      if (!std::isfinite(x)) {
        const auto row = i % W0->rows();
        const auto col = i / W0->rows();
        throw InvalidInput("invalid initial weights: W0[" + std::to_string(row) + "][" +
                           std::to_string(col) + "] must be finite, got " + std::to_string(x));
      }
      w0.data()[i] = from_double<S>(x);
    }
  }
  if (opt.eta) {
    const S eta = T::from_rational(*opt.eta);
    if (!is_finite_s(eta) || !(eta > S(0))) {
      throw InvalidInput(
          "invalid option: --eta must be a positive number representable in precision " +
          T::name() + ", got " + rational_to_decimal(*opt.eta, 6));
    }
  }
  const Trajectory<S> traj = run_optimizer(inst, opt, w0, progress);
  TrainResult r;
  r.optimizer = opt.kind;
  r.eta = traj.eta;
  r.steps_requested = opt.steps;
  r.stopped_early = traj.stopped_early;
  r.diverged_at_step = traj.diverged_at_step;
  r.entropy = T::to_double(inst.entropy);
  r.entropy_text = T::to_string(inst.entropy);
  for (const auto& p : traj.points) {
    r.step.push_back(p.step);
    r.ce.push_back(T::to_double(p.loss.ce));
    r.excess.push_back(T::to_double(p.loss.excess));
    r.norm.push_back(T::to_double(p.norm));
    r.grad_norm.push_back(T::to_double(p.grad_norm));
    r.min_gap.push_back(T::to_double(p.loss.min_gap));
    r.has_out_of_support = p.loss.has_out_of_support;
    r.ce_text.push_back(T::to_string(p.loss.ce));
    r.excess_text.push_back(T::to_string(p.loss.excess));
    r.norm_text.push_back(T::to_string(p.norm));
  }
  auto to_d = [](const Matrix<S>& M) {
    Eigen::MatrixXd D(M.rows(), M.cols());
    for (Eigen::Index i = 0; i < M.size(); ++i) D.data()[i] = T::to_double(M.data()[i]);
    return D;
  };
  for (const auto& W : traj.weights) r.weights.push_back(to_d(W));
  r.final_weights = to_d(traj.final_weights);
  return r;
}

}  // namespace ntp

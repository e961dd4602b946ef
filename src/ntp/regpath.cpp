#include "ntp/regpath.hpp"

#include <Eigen/Cholesky>
#include <chrono>
#include <cmath>

#include "ntp/errors.hpp"
#include "ntp/loss.hpp"
#include "ntp/train.hpp"

namespace ntp {

namespace {

/** f(W) = excess(W) + lambda/2 ||W||^2 (H is a constant, left out). */
double objective(const Instance<double>& inst, const Eigen::MatrixXd& W, double lambda,
                 LossWorkspace<double>& ws, Eigen::MatrixXd* grad, LossValue<double>* lv) {
  *lv = loss_and_gradient(inst, W, ws, grad);
  if (grad) *grad += lambda * W;
  return lv->excess + 0.5 * lambda * W.squaredNorm();
}

/** The dense Hessian of CE at W in row-major vec(W), plus lambda I. */
Eigen::MatrixXd hessian(const Instance<double>& inst, const Eigen::MatrixXd& W, double lambda) {
  const std::int64_t V = inst.V;
  const std::int64_t d = inst.d;
  Eigen::MatrixXd H = Eigen::MatrixXd::Identity(V * d, V * d) * lambda;
  const Eigen::MatrixXd logits = W * inst.Hbar;  // V x m
  for (std::int64_t j = 0; j < inst.m; ++j) {
    const Eigen::VectorXd l = logits.col(j);
    const double mx = l.maxCoeff();
    Eigen::VectorXd s = (l.array() - mx).exp();
    s /= s.sum();
    const Eigen::VectorXd h = inst.Hbar.col(j);
    const Eigen::MatrixXd hh = inst.pi(j) * (h * h.transpose());
    // Upper block triangle only (the Hessian is symmetric); mirrored below.
    for (std::int64_t v = 0; v < V; ++v) {
      for (std::int64_t u = v; u < V; ++u) {
        const double a = (v == u ? s(v) : 0.0) - s(v) * s(u);
        if (a != 0) H.block(v * d, u * d, d, d) += a * hh;
      }
    }
  }
  for (std::int64_t v = 0; v < V; ++v) {
    for (std::int64_t u = v + 1; u < V; ++u) {
      H.block(u * d, v * d, d, d) = H.block(v * d, u * d, d, d).transpose();
    }
  }
  return H;
}

Eigen::VectorXd rowvec(const Eigen::MatrixXd& W) {
  Eigen::VectorXd x(W.size());
  for (Eigen::Index v = 0; v < W.rows(); ++v)
    x.segment(v * W.cols(), W.cols()) = W.row(v).transpose();
  return x;
}

Eigen::MatrixXd unrowvec(const Eigen::VectorXd& x, Eigen::Index V, Eigen::Index d) {
  Eigen::MatrixXd W(V, d);
  for (Eigen::Index v = 0; v < V; ++v) W.row(v) = x.segment(v * d, d).transpose();
  return W;
}

}  // namespace

std::vector<RidgePoint> ridge_path(const InstanceData& data, const RidgePathOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  const Instance<double> inst = to_scalar<double>(data);
  if (inst.V * inst.d > 4000) {
    throw InvalidInput("ridge_path: V d must be at most 4000 (dense Newton), got " +
                       std::to_string(inst.V * inst.d));
  }
  if (!(options.lambda_max > options.lambda_min && options.lambda_min > 0)) {
    throw InvalidInput("ridge_path: need lambda_max > lambda_min > 0");
  }
  LossWorkspace<double> ws(inst);
  Eigen::MatrixXd W = Eigen::MatrixXd::Zero(inst.V, inst.d);
  Eigen::MatrixXd g(inst.V, inst.d);
  Eigen::MatrixXd gt(inst.V, inst.d);
  LossValue<double> lv;
  LossValue<double> lt;
  std::vector<RidgePoint> out;
  const double step = std::pow(10.0, -1.0 / options.per_decade);
  for (double lambda = options.lambda_max; lambda >= options.lambda_min * (1 - 1e-12);
       lambda *= step) {
    RidgePoint pt;
    pt.lambda = lambda;
    double f = objective(inst, W, lambda, ws, &g, &lv);
    // Predictor: asymptotically W_lambda ~ W* + log(1/lambda) W^mm / margin, linear in log lambda,
    // so the secant step from the last two solutions (equal log-spacing) is a good start.
    if (out.size() >= 2) {
      const Eigen::MatrixXd guess = 2 * out.back().W - out[out.size() - 2].W;
      Eigen::MatrixXd gg(inst.V, inst.d);
      LossValue<double> lg;
      const double fg = objective(inst, guess, lambda, ws, &gg, &lg);
      if (std::isfinite(fg) && fg < f) {
        W = guess;
        g = gg;
        lv = lg;
        f = fg;
      }
    }
    for (int it = 0; it < options.max_newton; ++it) {
      const Eigen::MatrixXd H = hessian(inst, W, lambda);
      const Eigen::LLT<Eigen::MatrixXd> llt(H);
      if (llt.info() != Eigen::Success) break;
      const Eigen::VectorXd gv = rowvec(g);
      const Eigen::VectorXd dx = -llt.solve(gv);
      const double decrement2 = -gv.dot(dx);  // g^T H^{-1} g
      pt.newton_iterations = it + 1;
      if (decrement2 / 2 <= 1e-22 * (1 + std::abs(f))) {
        pt.converged = true;
        break;
      }
      // Backtracking (Armijo) on f.
      const Eigen::MatrixXd D = unrowvec(dx, inst.V, inst.d);
      double t = 1;
      bool moved = false;
      for (int ls = 0; ls < 60; ++ls) {
        Eigen::MatrixXd Wt = W + t * D;
        // The exact minimiser has 1^T W = 0 (W = -grad CE / lambda and 1^T grad CE = 0); remove
        // the drift Newton picks up along that direction, where the Hessian is just lambda I.
        Wt.rowwise() -= Wt.colwise().mean();
        const double ft = objective(inst, Wt, lambda, ws, &gt, &lt);
        if (std::isfinite(ft) && ft <= f - 0.25 * t * decrement2) {
          W = Wt;
          g = gt;
          lv = lt;
          f = ft;
          moved = true;
          break;
        }
        t *= 0.5;
      }
      if (!moved) {
        pt.converged = decrement2 / 2 <= 1e-16 * (1 + std::abs(f));
        break;
      }
    }
    pt.W = W;
    pt.B = W.norm();
    pt.excess = lv.excess;
    pt.min_gap = lv.min_gap;
    pt.grad_norm = g.norm();
    out.push_back(std::move(pt));
    if (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() >
        options.max_seconds) {
      break;
    }
  }
  return out;
}

}  // namespace ntp

#pragma once
/** @file geometry_train_impl.hpp
 * Training of the unconstrained-features model L = W H (theory.md §7b) in any scalar type;
 * included only by geometry_train_*.cpp (explicit instantiations).
 *
 * Loss: CE(L) = sum_j pi_j CE(p_j, softmax(L_{.j})), evaluated by the repo's kernel
 * loss_and_gradient (loss.hpp) with the instance's embeddings replaced by the current H: it
 * returns CE, the excess in KL form, the min gap R, grad_W CE = G_L H^T, and leaves
 * G_L = (softmax(L) - P) diag(pi) in its workspace (ws.coef), so grad_H CE = W^T G_L.
 * Ridge: + lambda W and + lambda H.
 */
#include <chrono>
#include <cmath>

#include "ntp/geometry.hpp"
#include "ntp/loss.hpp"
#include "ntp/rng.hpp"

namespace ntp {

template <class S>
GeometryTrainResult train_geometry_typed(const InstanceData& data,
                                         const GeometryTrainOptions& opt) {
  using std::sqrt;
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  Instance<S> inst = to_scalar<S>(data);
  const std::int64_t V = inst.V;
  const std::int64_t m = inst.m;
  const std::int64_t d = opt.dim > 0 ? opt.dim : std::min(V, m);
  GeometryTrainResult res;
  res.options = opt;
  res.dim = d;
  res.entropy = ScalarTraits<S>::to_double(inst.entropy);
  res.horizon = -ScalarTraits<S>::log_min_normal();
  // Initialisation: sigma N(0, 1) on the 2^-30 grid (exact in every type but float, where it is
  // rounded once), portable Rng.
  Rng rng(opt.seed, 91);
  auto draw = [&](std::int64_t r, std::int64_t c) {
    Matrix<S> M(r, c);
    for (std::int64_t j = 0; j < c; ++j) {
      for (std::int64_t i = 0; i < r; ++i) {
        const double x = std::nearbyint(opt.init_scale * rng.normal() * 0x1.0p30) * 0x1.0p-30;
        M(i, j) = from_double<S>(x);
      }
    }
    return M;
  };
  Matrix<S> W = draw(V, d);
  Matrix<S> H = draw(d, m);
  inst.d = d;
  inst.Hbar = H;
  LossWorkspace<S> ws(inst);
  Matrix<S> gW(V, d);
  Matrix<S> gH(d, m);
  const S eta = ScalarTraits<S>::from_rational(opt.eta);
  const S lambda = ScalarTraits<S>::from_rational(opt.lambda);
  const S half = ScalarTraits<S>::from_rational(Rational(1, 2));
  const S b1 = ScalarTraits<S>::from_rational(opt.beta1);
  const S b2 = ScalarTraits<S>::from_rational(opt.beta2);
  const S aeps = ScalarTraits<S>::from_rational(opt.adam_eps);
  const S one(1);
  Matrix<S> mW = Matrix<S>::Zero(V, d), vW = Matrix<S>::Zero(V, d);
  Matrix<S> mH = Matrix<S>::Zero(d, m), vH = Matrix<S>::Zero(d, m);
  S b1t = one;
  S b2t = one;
  const std::vector<std::int64_t> grid = log_grid(opt.steps, opt.points_per_decade);
  std::size_t next = 0;
  const bool has_ridge = opt.lambda != 0;
  for (std::int64_t k = 0;; ++k) {
    inst.Hbar = H;
    const LossValue<S> lv = loss_and_gradient(inst, W, ws, &gW);
    gH.noalias() = W.transpose() * ws.coef;
    if (has_ridge) {
      gW += lambda * W;
      gH += lambda * H;
    }
    res.has_out_of_support = lv.has_out_of_support;
    const S gnorm = sqrt(gW.squaredNorm() + gH.squaredNorm());
    const bool finite = std::isfinite(ScalarTraits<S>::to_double(lv.ce)) &&
                        std::isfinite(ScalarTraits<S>::to_double(gnorm));
    const bool timed_out =
        opt.max_seconds > 0 && k > 0 && (k & 63) == 0 && elapsed() > opt.max_seconds;
    const bool last = k == opt.steps || !finite || timed_out;
    if (!finite) res.diverged_at_step = k;
    if (timed_out && k < opt.steps) res.stopped_by_time = true;
    if ((next < grid.size() && grid[next] == k) || last) {
      GeometryPoint pt;
      pt.step = k;
      pt.ce = ScalarTraits<S>::to_double(lv.ce);
      pt.excess = ScalarTraits<S>::to_double(lv.excess);
      pt.excess_text = ScalarTraits<S>::to_string(lv.excess);
      const S nw2 = W.squaredNorm();
      const S nh2 = H.squaredNorm();
      pt.objective = ScalarTraits<S>::to_double(lv.ce + half * lambda * (nw2 + nh2));
      pt.norm_w = ScalarTraits<S>::to_double(sqrt(nw2));
      pt.norm_h = ScalarTraits<S>::to_double(sqrt(nh2));
      pt.norm_l = ScalarTraits<S>::to_double(sqrt(ws.logits.squaredNorm()));
      pt.grad_norm = ScalarTraits<S>::to_double(gnorm);
      pt.min_gap = ScalarTraits<S>::to_double(lv.min_gap);
      res.points.push_back(pt);
      auto to_d = [](const Matrix<S>& M) {
        Eigen::MatrixXd D(M.rows(), M.cols());
        for (Eigen::Index i = 0; i < M.size(); ++i)
          D.data()[i] = ScalarTraits<S>::to_double(M.data()[i]);
        return D;
      };
      res.L.push_back(to_d(ws.logits));
      res.W.push_back(to_d(W));
      res.H.push_back(to_d(H));
      while (next < grid.size() && grid[next] <= k) ++next;
    }
    if (last) break;
    switch (opt.kind) {
      case OptimizerKind::kGD:
        W -= eta * gW;
        H -= eta * gH;
        break;
      case OptimizerKind::kNGD: {
        // Normalized GD on the joint parameter (W, H).
        if (gnorm > S(0)) {
          const S f = eta / gnorm;
          W -= f * gW;
          H -= f * gH;
        }
        break;
      }
      case OptimizerKind::kAdam: {
        b1t *= b1;
        b2t *= b2;
        const S c1 = one - b1t;
        const S c2 = one - b2t;
        auto adam = [&](Matrix<S>& X, const Matrix<S>& g, Matrix<S>& mm, Matrix<S>& vv) {
          for (Eigen::Index i = 0; i < X.size(); ++i) {
            S& mi = mm.data()[i];
            S& vi = vv.data()[i];
            const S& gi = g.data()[i];
            mi = b1 * mi + (one - b1) * gi;
            vi = b2 * vi + (one - b2) * gi * gi;
            X.data()[i] -= eta * (mi / c1) / (sqrt(vi / c2) + aeps);
          }
        };
        adam(W, gW, mW, vW);
        adam(H, gH, mH, vH);
        break;
      }
    }
  }
  res.seconds = elapsed();
  return res;
}

}  // namespace ntp

#pragma once
/** @file regpath.hpp
 * The regularization path of theory.md §3 [T Thm 1], computed through the ridge problems
 *
 *     W_lambda = argmin_W  CE(W) + (lambda / 2) ||W||_F^2,
 *
 * by Newton's method in double (dense Hessian in vec(W), row-major index v*d + i:
 * sum_j pi_j (diag(s_j) - s_j s_j^T) (x) h_j h_j^T + lambda I). [D] W_lambda is also the ball-
 * constrained minimiser W_B of [T Thm 1] with B = ||W_lambda||, and the constraint is active: CE is
 * convex, the KKT conditions of the ball problem are grad CE(W) + lambda W = 0 with lambda >= 0,
 * and lambda > 0 means ||W|| = B. The ridge solution has 1^T W = 0 and rows in span(Hbar) (its
 * gradient condition gives W = -grad CE / lambda), which fixes the invariance CE(W + 1 u^T) =
 * CE(W). Decreasing lambda on a geometric grid, warm-started, traces B -> infinity.
 */
#include <Eigen/Core>
#include <cstdint>
#include <vector>

#include "ntp/instance.hpp"

namespace ntp {

struct RidgePoint {
  double lambda = 0;
  double B = 0;          ///< ||W_lambda||_F
  Eigen::MatrixXd W;     ///< V x d
  double excess = 0;     ///< CE(W) - H (KL form)
  double grad_norm = 0;  ///< ||grad CE(W) + lambda W||_F at the returned W (optimality residual)
  double min_gap = 0;    ///< min in-support minus max out-of-support logit
  int newton_iterations = 0;
  bool converged = false;  ///< Newton decrement^2 / 2 below 1e-22 (relative to 1 + f)
};

struct RidgePathOptions {
  double lambda_max = 1.0;    ///< first lambda
  double lambda_min = 1e-10;  ///< last lambda (the grid is geometric, `per_decade` points a decade)
  int per_decade = 2;
  int max_newton = 60;     ///< iterations per lambda
  double max_seconds = 5;  ///< stop the path early (the points so far are returned)
};

/** The ridge path; throws InvalidInput when V d exceeds 4000 (dense Hessian). */
std::vector<RidgePoint> ridge_path(const InstanceData& data, const RidgePathOptions& options = {});

}  // namespace ntp

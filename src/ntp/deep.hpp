#pragma once
/** @file deep.hpp
 * The deep regime: the dynamics past the floating-point horizons of theory.md §6, computed in
 * double by carrying the out-of-support mass in log form.
 *
 * Reduced problem [D]. Once P_F(W_k) has converged to W* (theory.md §4), what is left of the
 * dynamics lives on F^perp. Hold W_F = W* and write W = W* + U with U in F^perp. Then U adds the
 * same logit c_j to every in-support token of context j, so the in-support softmax of W h_j is
 * exactly p_j (W* solves the log-odds equations (C)), KL(p_j || q_j) = 0, and
 *
 *   f(U) = CE(W* + U) - H = sum_j pi_j log1p(r_j),
 *   r_j  = sum_{v not in S_j} e^{x_{jv}},  x_{jv} = (W* h_j)_v - lse_{z in S_j}(W* h_j)_z
 *                                                 + (U h_j)_v - c_j,
 *   grad f(U) = P_perp( sum_j pi_j omega_j sum_{v not in S_j} q_{jv} (e_v - ebar_j) h_j^T ),
 *
 * with omega_j = r_j / (1 + r_j) the out-of-support mass, q_j = e^{x_j} / r_j the out-of-support
 * distribution and ebar_j the mean of e_z over S_j (c_j = ebar_j^T U h_j; any in-support convex
 * combination gives the same value on F^perp, and the gradient terms differ by elements of F,
 * which P_perp removes). Every term is of the size e^{-R}, R the smallest gap: in log form the
 * gradient is e^{rho} G~ with rho = max_j (log pi_j + log omega_j) and G~ of size 1, computable in
 * double for any R (e^{-R} underflows past R = 745; its log does not).
 *
 * Why the reduced problem has the limits of the full one: the full ridge solution has
 * P_F(W_lambda) -> W* [T Thm 1 / theory.md §3], and its F^perp part solves P_perp grad CE(W_F + U)
 * + lambda U = 0, which differs from the reduced equation by O(||W_F - W*||) relative; the
 * directions of both tend to W^mm / ||W^mm||. deep_test.cpp measures the two paths agreeing.
 *
 * Two uses (issue 6): normalized GD on F^perp past R = 745 (deep_ngd, double in log form against
 * MPFR), and the regularization path to extreme norms (direction_path: 1 - cos(W_B, W^mm) to
 * 1e-12 and below on paper-main).
 */
#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <vector>

#include "ntp/instance.hpp"
#include "ntp/rational.hpp"
#include "ntp/subspace.hpp"

namespace ntp {

/** W* and W^mm of an instance for which (C) and (6) are both proved (certified objects). */
struct DeepReference {
  std::vector<Rational> w_star;  ///< V x d row-major, the certified midpoint (radius below)
  double w_star_radius = 0;      ///< rigorous ||W* - w_star||_F bound
  std::vector<Rational> w_mm;    ///< V x d row-major, exact
  Eigen::MatrixXd w_star_double, w_mm_double;
  double w_mm_norm = 0;
  double margin = 0;  ///< 1 / ||W^mm||
};

/** Decides (C) and (6) and computes W*, W^mm; throws InvalidInput naming the failed hypothesis. */
DeepReference deep_reference(const InstanceData& data);

/** The reduced gradient at U (see the file comment). */
template <class S>
struct DeepGradient {
  S log_scale = S(0);     ///< rho (log domain); 0 in plain mode
  Matrix<S> grad;         ///< e^{-rho} grad f(U), projected onto F^perp (V x d)
  S log_excess = S(0);    ///< log f(U) (= log(CE - H) of W* + U); -inf when f = 0
  S min_gap = S(0);       ///< R = min_j (min in-support logit - max out-of-support logit)
  bool vanished = false;  ///< plain mode: the gradient is exactly 0 (every weight underflowed)
};

/**
 * grad f(U) in S. log_domain: the weights pi_j omega_j q_{jv} are formed as
 * e^{log pi_j + log omega_j + log q_{jv} - rho}, never underflowing together; plain: as
 * pi_j e^{l_v - lse_j}, the way an ordinary softmax kernel forms them (each underflows past its
 * type's horizon, theory.md §6). W_star and U are V x d; F is the basis of F in S.
 */
template <class S>
DeepGradient<S> deep_gradient(const Instance<S>& inst, const SubspaceBasisT<S>& F,
                              const Matrix<S>& W_star, const Matrix<S>& U, bool log_domain);

struct DeepNgdOptions {
  std::int64_t steps = 2000;
  Rational eta = Rational(10);  ///< step length on F^perp (exact, rounded once per type)
  int points_per_decade = 20;
  bool log_domain = true;
};

/** One recorded point of a reduced NGD run (values rounded to double). */
struct DeepNgdPoint {
  std::int64_t step = 0;
  double min_gap = 0;
  double log_excess = 0;        ///< log(CE - H)
  double norm_u = 0;            ///< ||U||_F
  double one_minus_cos_mm = 0;  ///< 1 - cos(U, W^mm), as ||u - w||^2 / 2 of unit vectors
  Eigen::MatrixXd direction;    ///< U / ||U|| (V x d)
};

struct DeepNgdRun {
  std::string precision;
  bool log_domain = true;
  std::vector<DeepNgdPoint> points;
  std::int64_t stalled_at_step = -1;  ///< the gradient vanished (plain mode past the horizon)
  double seconds = 0;
};

/**
 * Normalized GD on the reduced problem from U = 0: U <- U - eta G / ||G|| with G = P_perp grad f
 * (the direction does not depend on the scale e^{rho}). precision: "double" or "mpfr:N".
 */
DeepNgdRun deep_ngd(const InstanceData& data, const DeepReference& ref,
                    const std::string& precision, const DeepNgdOptions& options);

struct DirectionPathOptions {
  double target = 1e-12;     ///< stop once 1 - cos(W_B, W^mm) <= target (and 2 more points)
  double max_norm = 1e12;    ///< or once ||U|| exceeds this
  double max_seconds = 120;  ///< or after this long
  double growth = 1.25;      ///< -log lambda grows by this factor per point (large lambda: +2)
  int max_newton = 100;
  /** Newton stops when ||grad F|| <= tolerance ||grad e^{-rho} f|| (F the scaled objective). */
  double tolerance = 1e-10;
};

struct DirectionPoint {
  double log_lambda = 0;  ///< ridge parameter lambda = e^{log_lambda} (it underflows, its log not)
  double norm = 0;        ///< B = ||W* + U_lambda||_F
  double norm_u = 0;      ///< ||U_lambda||_F
  double one_minus_cos = 0;    ///< 1 - cos(W* + U, W^mm)
  double one_minus_cos_u = 0;  ///< 1 - cos(U, W^mm) (F^perp part alone)
  double min_gap = 0;          ///< R at W* + U
  double log_excess = 0;       ///< log(CE - H)
  /** ||grad F|| / ||grad e^{-rho} f|| at the returned U, F = e^{-rho} f + (lambda~/2) ||u||^2.
   * Since grad e^{-rho} f = -lambda~ u at the solution and F's Hessian is >= lambda~ I, the
   * returned U is within residual ||U|| of the exact minimiser. */
  double residual = 0;
  double tolerance = 0;  ///< what Newton aimed at: max(options.tolerance, eps ||U|| max_j ||h_j||)
  /** Bound on |computed - exact| 1 - cos(W* + U, W^mm) from the residual alone (the error of the
   * evaluation itself is the tolerance's floor). */
  double error_bound = 0;
  int newton_iterations = 0;
  bool converged = false;
};

struct DirectionPath {
  std::vector<DirectionPoint> points;
  std::int64_t dim_perp = 0;  ///< dimension of F^perp (the Newton system's size)
  bool reached_target = false;
  /** Least-squares slope of log(1 - cos) against log B over the points with B >= 100: 1 - cos
   * ~ C B^slope. */
  double rate_slope = 0;
  double rate_constant = 0;
  double seconds = 0;
  std::string stop_reason;
};

/**
 * The reduced regularization path U_lambda = argmin_{U in F^perp} f(U) + (lambda/2) ||U||^2 for
 * a geometric sequence of log lambda, by damped Newton in an orthonormal basis of F^perp, in
 * double, log domain (the objective is divided by e^{rho}, so lambda enters as lambda e^{-rho}).
 */
DirectionPath direction_path(const InstanceData& data, const DeepReference& ref,
                             const DirectionPathOptions& options = {});

#define NTP_EXTERN_DEEP(S)                                                                       \
  extern template DeepGradient<S> deep_gradient<S>(const Instance<S>&, const SubspaceBasisT<S>&, \
                                                   const Matrix<S>&, const Matrix<S>&, bool);
NTP_EXTERN_DEEP(double)
NTP_EXTERN_DEEP(Mpfr)
#undef NTP_EXTERN_DEEP

}  // namespace ntp

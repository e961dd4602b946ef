#pragma once
/** @file attainment.hpp
 * Entropy attainment (theory.md §3, [T Prop. 1 and bound (9)]): rigorous enclosures of
 *     excess(R) = CE(W* + R W^mm) - H
 * on a grid of R, checked against
 *     CE(W* + R W^mm) <= H + V e^{||W*|| M} e^{-R},   M = sqrt(2) max_j ||h_j||,     (9)
 * and against excess(R) > 0 (CE > H for every finite W).
 *
 * Evaluation: the logits of W_mid (the centre of the W* enclosure, w_star.hpp) and of the exact
 * W^mm are enclosed in MPFI; the W* radius rho widens every logit by rho ||h_j|| (Cauchy-Schwarz);
 * then excess = sum_j pi_j (log sum_v e^{l_v} - sum_z p_z l_z) - H in interval arithmetic.
 * [D] excess(R) is strictly decreasing in R: on W* + R W^mm the in-support log-odds are exact (W^mm
 * is in F^perp), so excess(R) = sum_j pi_j log(1 + sum_{v not in S_j} e^{-(g*_{jv} + R g_{jv})})
 * with margins g_{jv} >= 1. Hence the smallest R with excess <= epsilon is found by bisection.
 */
#include <cstdint>
#include <string>
#include <vector>

#include "ntp/compatibility.hpp"
#include "ntp/instance.hpp"
#include "ntp/max_margin.hpp"
#include "ntp/w_star.hpp"

namespace ntp {

struct AttainmentOptions {
  std::vector<double> grid = {1, 2, 4, 8, 16, 32, 64};  ///< values of R (>= 0)
  double epsilon = 1e-6;                                ///< target excess for the "R needed" report
  long precision_bits = 320;                            ///< MPFI precision
};

struct AttainmentPoint {
  double R = 0;
  Enclosure excess;             ///< rigorous enclosure of CE(W* + R W^mm) - H
  double bound = 0;             ///< lower bound of the right side of (9) minus H (rounded down)
  double bound_hi = 0;          ///< upper bound of the same (rounded up)
  bool bound_holds = false;     ///< excess.hi <= bound: (9) verified at R
  bool bound_violated = false;  ///< excess.lo > bound_hi: (9) proved false at R
  bool positive = false;        ///< excess.lo > 0: CE > H verified at R
};

struct AttainmentResult {
  bool computed = false;
  std::string reason;  ///< why not computed
  double M = 0;        ///< sqrt(2) max_j ||h_j|| (nearest double)
  std::vector<AttainmentPoint> points;
  bool all_bounds_hold = false;
  bool all_positive = false;
  double epsilon = 0;
  double r_bound = 0;  ///< ||W*||_hi M + log(V / epsilon), rounded up: (9) guarantees <= eps
  double r_certified =
      0;  ///< smallest R (bisection, 1e-6 relative) with excess.hi <= eps; -1 if none
  double seconds = 0;
};

/** Rigorous enclosure of H (MPFI at precision_bits). */
Enclosure enclose_entropy(const InstanceData& data, long precision_bits = 256);

/** Needs a computed W* enclosure and a proven W^mm; otherwise returns computed = false. */
AttainmentResult check_attainment(const InstanceData& data, const WStarResult& w_star,
                                  const MaxMarginResult& w_mm,
                                  const AttainmentOptions& options = {});

}  // namespace ntp

#pragma once
/** @file max_margin.hpp
 * The NTP-SVM direction W^mm (theory.md §3), found in floating point and proved optimal exactly.
 *
 *     W^mm = argmin ||W||_F  s.t.  (e_z - e_z')^T W h_j = 0  (6a),  (e_z - e_v)^T W h_j >= 1  (6b).
 *
 * Method (compute_w_mm):
 *  1. Float QP (double): the Goldfarb-Idnani dual active-set method, specialised to the identity
 *     Hessian. Why this method: it starts from the unconstrained minimum W = 0, keeps the active
 *     constraint normals linearly independent (QR of the active set, updated by Gram-Schmidt and
 *     Givens rotations), terminates finitely, and its output *is* an active set with multipliers,
 *     which is what the exact step needs. Rows: (6a) in anchor form (always active, free
 *     multipliers) and (6b) reduced to the anchor (equivalent given (6a)).
 *  2. Exact KKT: on the active rows (the (6a) rows first), independent rows are chosen modulo a
 *     prime from their integer Gram matrix and the KKT system  Gram * nu = (0 for (6a), 1 for
 *     (6b))  is solved exactly (FLINT, flint_linalg.hpp). W = sum nu_k row_k. If a (6b) multiplier
 *     is negative the most negative row leaves; if an inactive (6b) row is below 1 the most
 * violated enters; repeat (at most `max_refinements` times).
 *  3. The result is checked by verify_max_margin_certificate, which uses only GMP (no FLINT, no
 *     floating point): KKT (stationarity, primal feasibility, multipliers >= 0, complementary
 *     slackness) of a convex QP, hence W^mm is proved optimal (and it is unique: strictly convex).
 */
#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <vector>

#include "ntp/instance.hpp"
#include "ntp/rational.hpp"
#include "ntp/separability.hpp"

namespace ntp {

/** The evidence: W^mm = sum lambda (e_z - e_v) h_j^T + sum mu (e_z - e_v) h_j^T. */
struct MaxMarginCertificate {
  /** lambda >= 0 on (6b) rows (z in S_j, v not in S_j); only the nonzero ones are listed. */
  std::vector<SeparabilityMultiplier> inequality_multipliers;
  /** mu (free) on (6a) rows (z, v in S_j, z != v); only the nonzero ones are listed. */
  std::vector<SeparabilityMultiplier> equality_multipliers;
};

enum class MaxMarginStatus {
  kProven,        ///< "proven": exact KKT verified
  kNotSeparable,  ///< "not_separable": (6) is infeasible, W^mm does not exist (not attempted)
  kTooLarge,      ///< "too_large": beyond MaxMarginOptions::max_dense_entries
  kInconclusive,  ///< "inconclusive": the exact refinement did not reach a verified KKT point
};
std::string to_string(MaxMarginStatus s);

struct MaxMarginOptions {
  /** The float QP stores (#constraints) x (V d) doubles (256 MiB at this limit); beyond it
   * W^mm is not attempted. */
  std::int64_t max_dense_entries = std::int64_t{1} << 25;
  /** The exact KKT system has up to (#(6a) rows + #(6b) rows) unknowns; beyond this many rows
   * W^mm is not attempted (the exact solve grows like rows^3). */
  std::int64_t max_rows = 4000;
  /** Exact KKT solves (add / drop one row each) before giving up. */
  int max_refinements = 30;
};

struct MaxMarginResult {
  MaxMarginStatus status = MaxMarginStatus::kInconclusive;
  std::string reason;  ///< why not proven
  MaxMarginCertificate certificate;
  std::vector<Rational> w;            ///< V x d row-major (entry (v, i) at v*d + i), exact
  Eigen::MatrixXd w_double;           ///< nearest doubles
  Rational norm_squared;              ///< ||W^mm||_F^2, exact
  double norm = 0;                    ///< ||W^mm||_F (double)
  double margin = 0;                  ///< 1 / ||W^mm||_F: the geometric margin (0 when W^mm = 0)
  std::int64_t num_inequalities = 0;  ///< reduced (6b) rows, sum_j (V - |S_j|)
  std::int64_t num_equalities = 0;    ///< (6a) rows, sum_j (|S_j| - 1)
  std::int64_t active_set_size = 0;   ///< (6b) rows with lambda > 0
  std::int64_t kkt_size = 0;          ///< size of the last exact KKT system
  std::int64_t qp_iterations = 0;     ///< Goldfarb-Idnani steps (add or drop)
  int exact_refinements = 0;          ///< exact KKT solves
  double qp_max_violation = 0;        ///< float: max(0, 1 - (6b) value) at the float solution
  double seconds_qp = 0;
  double seconds_exact = 0;
  double seconds_verify = 0;
};

/** W^mm for an instance; `separable` is the separability verdict (kNotSeparable unless holds). */
MaxMarginResult compute_w_mm(const InstanceData& data, SeparabilityVerdict separable,
                             const MaxMarginOptions& options = {});

/**
 * Independent exact check (GMP only). Every multiplier must name a real row ((6b): z in S_j,
 * v not in S_j, lambda >= 0; (6a): z, v in S_j, z != v); W = the combination; then for every j:
 * all in-support logits (W h_j)_z equal (6a), (W h_j)_z - (W h_j)_v >= 1 for v not in S_j (6b),
 * with equality wherever some lambda on (j, ., v) is > 0. These are the KKT conditions of a convex
 * QP, so W is its minimiser. On success returns true and W (row-major) in *w_out (if not null).
 */
bool verify_max_margin_certificate(const InstanceData& data, const MaxMarginCertificate& cert,
                                   std::string* why, std::vector<Rational>* w_out = nullptr);

}  // namespace ntp

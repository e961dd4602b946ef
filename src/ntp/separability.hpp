#pragma once
/** @file separability.hpp
 * NTP-separability (theory.md §2, (6a)/(6b)) decided by an LP (GLPK) and certified exactly in
 * rationals (theory.md §7), with a verifier that does not use GLPK.
 *
 * There is W in R^{V x d} with
 *     (e_z - e_z')^T W h_j  = 0   for all j, z, z' in S_j                       (6a)
 *     (e_z - e_v)^T  W h_j >= 1   for all j, z in S_j, v not in S_j             (6b)
 * Both speak about the logits l_j = W h_j only: (6a) says the in-support logits of context j share
 * one value c_j, (6b) says c_j - l_{j,v} >= 1 outside the support.
 *
 * Method (decide_separability):
 *  1. Exact reduction to logits: rational Gauss-Jordan on Hbar picks r = rank(Hbar) independent
 *     contexts B and writes every h_k = sum_{i in B} c_{k,i} h_i exactly. Every logit matrix
 *     W Hbar equals L_B C for L_B = W H_B (V x r) and every L_B is reachable, so the LP has the V*r
 *     free variables L_B. Rows: (6a) in anchor form (a_j = the smallest token of S_j) and (6b) with
 *     the anchor only (equivalent given (6a)).
 *  2. GLPK glp_simplex (presolve on, messages off) on that LP with (6b) right-hand side 2 (margin).
 *  3. Feasible: the float L_B is converted exactly to rationals, then (6a) is repaired exactly by a
 *     sparse rational Gauss-Jordan on the (6a) rows: non-pivot variables keep their float values,
 *     the pivot variables are solved for. W follows exactly from L_B through an invertible r x r
 *     submatrix of H_B. If the smallest (6b) value g is in (0, 1), W is scaled by 1/g exactly
 *     ((6a) is homogeneous). The witness is then checked by verify_separability_certificate.
 *  4. Infeasible: the Farkas alternative (anchor rows)  y >= 0, sum y = 1, u free,
 *     sum y_{jav} (e_a - e_v) h_j^T + sum u_{jza} (e_z - e_a) h_j^T = 0  (V x d)
 *     is solved as its own LP by GLPK (in W-space: its entries are those of h, small dyadics).
 *     Exact repair: keep the columns with y > 1e-12 (first only the u with |u| > 1e-12, then all u;
 *     then larger thresholds), solve the equalities exactly (same sparse Gauss-Jordan, non-pivots
 *     keep their float values), check y >= 0 exactly, and verify.
 *  Any failure of an exact step gives verdict inconclusive with the reason; nothing is guessed.
 */
#include <cstdint>
#include <string>
#include <vector>

#include "ntp/instance.hpp"
#include "ntp/rational.hpp"
#include "ntp/verdict.hpp"

namespace ntp {

/** The verdict on (6): holds, violated or inconclusive (verdict.hpp). */
using SeparabilityVerdict = Verdict;
enum class SeparabilityCertificateKind { kNone, kWitness, kFarkas };

/** "none" / "witness" / "farkas" (stable: stored in JSON by name). */
std::string to_string(SeparabilityCertificateKind k);

/** A multiplier on one constraint row of (6a) or (6b) of context j with tokens z and v:
 *  (6b) row (e_z - e_v)^T W h_j >= 1 (z in S_j, v not in S_j), or
 *  (6a) row (e_z - e_v)^T W h_j  = 0 (z, v in S_j). Token ids 0-based, as in InstanceData. */
struct SeparabilityMultiplier {
  std::int64_t context = 0;
  std::int32_t z = 0;
  std::int32_t v = 0;
  Rational value;
};

/** Evidence for a separability verdict, checkable without GLPK. */
struct SeparabilityCertificate {
  SeparabilityCertificateKind kind = SeparabilityCertificateKind::kNone;
  /** kWitness: W, V x d, row-major (entry (v, k) at v*d + k). */
  std::vector<Rational> w;
  /** kFarkas: y >= 0 on (6b) rows (sum y > 0) and free u on (6a) rows with
   *  sum y_{jzv} (e_z - e_v) h_j^T + sum u_{jzz'} (e_z - e_z') h_j^T = 0 (V x d). */
  std::vector<SeparabilityMultiplier> inequality_multipliers;  ///< y on (6b)
  std::vector<SeparabilityMultiplier> equality_multipliers;    ///< u on (6a)
};

/** The outcome of decide_separability. */
struct SeparabilityResult {
  SeparabilityVerdict verdict = SeparabilityVerdict::kInconclusive;
  SeparabilityCertificate certificate;
  /** kWitness: the exact min over j, z in S_j, v not in S_j of (e_z - e_v)^T W h_j (>= 1); its
   *  excess over 1 is the slack. 0 when there is no (6b) row. */
  Rational min_margin;
  std::string reason;  ///< why inconclusive (empty otherwise)
  // Sizes.
  std::int64_t rank = 0;               ///< r = rank(Hbar) (exact)
  std::int64_t lp_columns = 0;         ///< V*r free variables of the primal LP
  std::int64_t lp_equalities = 0;      ///< (6a) rows, sum_j (|S_j| - 1)
  std::int64_t lp_inequalities = 0;    ///< (6b) rows, sum_j (V - |S_j|)
  std::int64_t unknowns_w = 0;         ///< V*d
  std::int64_t farkas_lp_rows = 0;     ///< V*d + 1 (0 unless the Farkas LP ran)
  std::int64_t farkas_lp_columns = 0;  ///< (6b) rows + (6a) rows
  // Timings in seconds.
  double seconds_reduction = 0;  ///< exact rank / basis of Hbar
  double seconds_lp = 0;         ///< GLPK (primal, plus the Farkas LP when infeasible)
  double seconds_exact = 0;      ///< exact repair and verification
  double seconds_total = 0;
};

/** Decides (6) for a validated instance; throws InternalError if GLPK fails to run. */
SeparabilityResult decide_separability(const InstanceData& data);

/**
 * Re-checks a certificate exactly in rationals, without GLPK:
 *  - kWitness: W is V x d; for every j, all (W h_j)_z, z in S_j, are equal (6a), and
 *    (W h_j)_z - (W h_j)_v >= 1 for z in S_j, v not in S_j (6b);
 *  - kFarkas: every multiplier names a real row ((6b): z in S_j, v not in S_j; (6a): z, v in S_j,
 *    z != v), every y >= 0, sum y > 0, and sum y (e_z - e_v) h_j^T + sum u (e_z - e_v) h_j^T is the
 *    zero V x d matrix. (Then 0 = <combination, W> >= sum y > 0 for any W meeting (6).)
 * Returns true when valid; otherwise false with the first defect in *why (if why is not null).
 */
bool verify_separability_certificate(const InstanceData& data,
                                     const SeparabilityCertificate& certificate, std::string* why);

}  // namespace ntp

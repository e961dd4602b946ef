#pragma once
/** @file w_star.hpp
 * W* (theory.md §2): the unique solution of (C) in the subspace F, equivalently the minimum-norm
 * solution, certified by a rigorous enclosure (theory.md §7).
 *
 * Method (enclose_w_star), for a compatible instance:
 *  1. Independent rows S of the (C) system A (anchor form) are chosen modulo a prime from their
 *     integer Gram matrix; |S| = rank A = dim F (checked against the exact dim F).
 *  2. The logs a_k = log(p_{j,z}/p_{j,z_j}) are rounded to P-bit dyadics a~_k (MPFR), and the
 *     exact rational pseudo-inverse system A_S A_S^T y = a~_S is solved in rationals (FLINT).
 *     W_mid = A_S^T y lies in F and meets A_S W_mid = a~_S exactly.
 *  3. Rigorous radius (verify_w_star_certificate, independent of step 2): W* - W_mid lies in F and
 *     A_S (W* - W_mid) = r := a_S - A_S W_mid, so ||W* - W_mid||_F <= ||r||_2 / sigma_min(A_S),
 * with r enclosed by MPFI and sigma_min(A_S)^2 = lambda_min(A_S A_S^T) >= det / (Lambda^{|S|-1}
 * L^2) for the integer Gram matrix M = L^2 A_S A_S^T (L = embedding scale), det = det M (exact) and
 *     Lambda = max row sum of |M| >= lambda_max(M): all eigenvalues lie in (0, Lambda] and their
 *     product is det. P is chosen from this bound so that the radius is about 2^-target_bits.
 *  Uniqueness: W* is the only solution in F because A restricted to F (its row space) is
 *  injective; det M != 0 proves that the |S| rows are independent, and |S| = dim F.
 *  The enclosure presumes (C) holds (proved separately by compatibility.hpp): then the rows outside
 *  S are implied by those in S.
 */
#include <Eigen/Core>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ntp/compatibility.hpp"
#include "ntp/instance.hpp"
#include "ntp/rational.hpp"

namespace ntp {

/** The evidence for "W* lies within `radius` (Frobenius) of W_mid = sum_k y_k row_{rows[k]}". */
struct WStarCertificate {
  std::vector<std::int64_t> rows;  ///< indices into anchor_rows(data): the independent rows S
  std::vector<Rational> y;         ///< one per row of S
  long precision_bits = 0;         ///< MPFI precision of the residual enclosure
  double radius = 0;               ///< claimed bound of ||W* - W_mid||_F (rounded up)
};

struct WStarResult {
  bool computed = false;
  std::string reason;  ///< why not computed
  WStarCertificate certificate;
  std::vector<Rational> w_mid;  ///< V x d row-major, exact
  Eigen::MatrixXd w_double;     ///< nearest doubles of w_mid
  double radius = 0;            ///< rigorous ||W* - W_mid||_F bound
  double max_error_double = 0;  ///< rigorous bound of max |W* - w_double| entrywise
  double norm = 0;              ///< ||W_mid||_F (double)
  double norm_lo = 0;           ///< rigorous lower bound of ||W*||_F
  double norm_hi = 0;           ///< rigorous upper bound of ||W*||_F
  std::int64_t dim_f = 0;       ///< |S| = rank A
  std::int64_t det_bits = 0;    ///< bits of det M
  long log_precision_bits = 0;  ///< P
  double seconds = 0;
};

/** Encloses W* (compat must be kHolds, else not computed). `target_bits`: aim for a radius of
 * about 2^-target_bits. `dim_f`: the exact dim F if known (-1: not checked). */
WStarResult enclose_w_star(const InstanceData& data, CompatibilityVerdict compat,
                           int target_bits = 200, std::int64_t dim_f = -1);

/**
 * Recomputes the rigorous radius for a certificate (see the file comment, step 3): rows valid and
 * distinct, det M != 0 (FLINT multimodular determinant: the rows are independent, so
 * rank A >= |S|), |S| >= rank_upper_bound (so S spans the row space F; the caller proves the
 * bound, e.g. #rows - |Y| for a verified independent left null space basis Y of A, as
 * certificate.hpp does), residual enclosed by MPFI at the certificate's precision. Returns the
 * radius (rounded up) when it is <= the claimed one, else std::nullopt with the defect in *why.
 * W_mid (row-major) in *w_mid_out if not null.
 */
std::optional<double> verify_w_star_certificate(const InstanceData& data,
                                                const WStarCertificate& cert,
                                                std::int64_t rank_upper_bound, std::string* why,
                                                std::vector<Rational>* w_mid_out = nullptr);

}  // namespace ntp

#pragma once
/** @file compatibility.hpp
 * Decides NTP_H-compatibility (C) of theory.md §2 with a certificate (theory.md §7).
 *
 * The system A vec(W) = a has one row per anchor row (j, z != z_j) of subspace.hpp:
 *     row = vec((e_z - e_{z_j}) h_j^T),   a = log(p_{j,z} / p_{j,z_j}) = log r.
 * (C) holds iff y . a = 0 for every y with A^T y = 0 (Fredholm alternative). Since
 * y . a = log prod_k r_k^{y_k} for integer y, the test is exact in rationals:
 *  - A of full row rank (exact rank == #rows): (C) holds for every right-hand side
 *    (certificate kFullRowRank). The left null space is computed exactly from the structure of A
 *    (subspace.hpp left_null_space_basis); full row rank is e.g. proved by Hbar having rank m
 *    modulo a prime [T Lemma 1];
 *  - otherwise an integer basis Y of the left null space (exact); (C) holds iff
 *    prod_k r_k^{y_k} == 1 for every basis vector y (certificate kLeftNullSpaceExact);
 *  - a basis vector with prod r^y != 1 is a violation certificate (kViolationExact).
 * The exact test of prod r^y == 1: by forming the two products when they are small
 * (CompatibilityOptions::max_exact_power_bits), otherwise by writing every r_k over a gcd-free
 * basis {b_i} of the numerators and denominators (logs of pairwise coprime integers > 1 are
 * Q-linearly independent, so y . a = 0 iff sum_k y_k e_{k,i} = 0 for every i): exact for any
 * exponent size. An MPFI enclosure of y . a is always reported for violations; if the exact tests
 * are switched off, an enclosure excluding 0 proves the violation (kViolationInterval) and one
 * containing 0 leaves the verdict inconclusive.
 */
#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <vector>

#include "ntp/instance.hpp"
#include "ntp/rational.hpp"
#include "ntp/subspace.hpp"
#include "ntp/verdict.hpp"

namespace ntp {

/** The verdict on (C): holds, violated or inconclusive (verdict.hpp). */
using CompatibilityVerdict = Verdict;

/** The evidence behind the verdict. Names (to_string) are stable: stored in JSON by name. */
enum class CompatibilityCertificate {
  kFullRowRank,         ///< "full_row_rank": rank A == #equations, any a is in the range
  kLeftNullSpaceExact,  ///< "left_null_space_exact": prod r^y == 1 for every left null basis y
  kViolationExact,      ///< "violation_exact": A^T y = 0 and prod r^y != 1 (exact rationals)
  kViolationInterval,   ///< "violation_interval": A^T y = 0 and an enclosure of y.a excludes 0
  kNone,                ///< "none": inconclusive
};

std::string to_string(CompatibilityCertificate c);

struct CompatibilityOptions {
  /** The exact power test prod r^y == 1 is done when sum_k |y_k| * (bits(num r_k) +
   * bits(den r_k)) is at most this (2^24 bits: numbers of at most 2 MiB). Beyond it only the
   * interval enclosure is used. Typical instances (counts <= 1000, |y_k| small) are far below. */
  std::int64_t max_exact_power_bits = std::int64_t{1} << 24;
  /** Beyond max_exact_power_bits, decide exactly through a gcd-free basis (see the file comment).
   * Off only to exercise the interval path. */
  bool gcd_free_basis_test = true;
  /** MPFI precision (bits) of the enclosure of y . a. */
  long interval_precision_bits = 256;
  /** Also compute W* in double (the minimum-norm solution; SVD of A). */
  bool compute_w_star = true;
};

/** An enclosure [lo, hi] of a real number, endpoints rounded outward to double. */
struct Enclosure {
  double lo = 0;
  double hi = 0;
  [[nodiscard]] bool excludes_zero() const { return lo > 0 || hi < 0; }
};

struct CompatibilityResult {
  CompatibilityVerdict verdict = CompatibilityVerdict::kInconclusive;
  CompatibilityCertificate certificate = CompatibilityCertificate::kNone;
  std::int64_t num_equations = 0;  ///< sum_j (|S_j| - 1)
  std::int64_t rank = 0;           ///< exact rank of A (= dim F)
  std::int64_t left_null_dim = 0;  ///< num_equations - rank
  std::vector<BigInt> y;           ///< violated: the certificate (A^T y = 0, y . a != 0)
  /** holds (kLeftNullSpaceExact): the integer basis Y of the left null space, each with
   * prod r^y == 1 (empty for kFullRowRank). */
  std::vector<std::vector<BigInt>> left_null_space;
  Enclosure y_dot_a;   ///< violated: enclosure of y . a (MPFI)
  std::string reason;  ///< inconclusive: why
  // Numerical companion (double), when options.compute_w_star:
  Eigen::MatrixXd w_star;      ///< V x d: A^+ a, the minimum-norm (least-squares) solution
  double w_star_residual = 0;  ///< max_k |(A vec W*)_k - a_k| (computed in double)
  /** Rigorous upper bound of max_k |(A vec W*)_k - a_k| for the double W* (exact rational A w,
   * MPFI enclosure of the logs): evidence of (C) to this accuracy, independent of the SVD. */
  double w_star_residual_bound = 0;
  std::int64_t numeric_rank = 0;  ///< numerical rank of A (SubspaceBasis::rank)
};

/** Decides (C) for the exact instance, with certificate. */
CompatibilityResult check_compatibility(const InstanceData& data,
                                        const CompatibilityOptions& options = {});

// ---- Independent verifiers (they do not use the elimination that found the certificate). ----

/** True iff A^T y = 0 exactly: sum_k y_k (e_{z_k} - e_{z_{j_k}}) h_{j_k}^T is the zero V x d
 * matrix (rational arithmetic). y has one entry per anchor row. */
bool in_left_null_space(const InstanceData& data, const std::vector<BigInt>& y);

/** Exact test of y . a = 0, i.e. prod_k r_k^{y_k} == 1. Returns 1 (== 1, y.a = 0), 0 (!= 1) or -1
 * (not attempted: the products exceed options.max_exact_power_bits and the gcd-free basis test is
 * off). */
int exact_log_combination_is_zero(const std::vector<AnchorRow>& rows, const std::vector<BigInt>& y,
                                  const CompatibilityOptions& options = {});

/** Rigorous enclosure of y . a = sum_k y_k log r_k (MPFI at `precision_bits`, outward rounding). */
Enclosure enclose_log_combination(const std::vector<AnchorRow>& rows, const std::vector<BigInt>& y,
                                  long precision_bits);

/** Rigorous upper bound (rounded up to double) of max_k |(A vec W)_k - log r_k| for a V x d
 * double matrix W: A vec W exactly in rationals, log r_k enclosed by MPFI at precision_bits. */
double residual_upper_bound(const InstanceData& data, const Eigen::MatrixXd& w,
                            long precision_bits = 256);

/** Verifies an incompatibility certificate: in_left_null_space(y) and y . a != 0 (exactly when
 * possible, else by an enclosure excluding 0). False when not proven. */
bool verify_incompatibility_certificate(const InstanceData& data, const std::vector<BigInt>& y,
                                        const CompatibilityOptions& options = {});

/**
 * Verifies a "(C) holds" certificate: the integer vectors Y (possibly none) are independent, each
 * satisfies A^T y = 0 and prod r^y == 1 exactly, and rank A >= #rows - |Y| (shown by the rank of
 * the integer Gram matrix of A's rows modulo a prime, a lower bound of the rank over Q). Then Y
 * spans the left null space and every y in it has y . a = 0, i.e. a is in the range of A: (C) holds
 * (Fredholm alternative). Returns false with the first defect in *why.
 */
bool verify_compatibility_certificate(const InstanceData& data,
                                      const std::vector<std::vector<BigInt>>& left_null_space,
                                      std::string* why, const CompatibilityOptions& options = {});

}  // namespace ntp

#pragma once
/** @file loss.hpp
 * The hot loop: cross-entropy CE(W), the excess loss CE - H in KL form, and the gradient
 * (theory.md §1), accurate past the floating-point horizons of theory.md §6.
 *
 * For context j with in-support logits l_z (z in S_j) and out-of-support logits l_v:
 *   lse_in  = log sum_{z in S_j} e^{l_z},  lse_out = log sum_{v not in S_j} e^{l_v},
 *   r = e^{lse_out - lse_in} (out-of-support odds),  q_z = e^{l_z - lse_in},
 *   delta_z = log p_z - log q_z,
 *   KL(p_j || s_j) = KL(p_j || q_j) + log1p(r)
 *                  = sum_z p_z phi(delta_z) + log1p(r),   phi(x) = x + expm1(-x) >= 0,
 * where the second form uses sum_z p_z e^{-delta_z} = sum_z q_z = 1 to drop the first-order term:
 * every summand is non-negative, so nothing cancels. The excess is sum_j pi_j KL(p_j || s_j) and
 * CE = H + excess (never CE - H by subtraction).
 * Gradient [D]: grad CE = (S - P) diag(pi) Hbar^T with, without cancellation,
 *   s_z - p_z = p_z expm1(-delta_z) - q_z * omega   (z in S_j, omega = r/(1+r) the out mass),
 *   s_v       = e^{l_v - lse}                        (v not in S_j).
 */
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "ntp/instance.hpp"

namespace ntp {

/** What one evaluation measured. */
template <class S>
struct LossValue {
  S ce;      ///< CE(W) = H + excess
  S excess;  ///< CE(W) - H = sum_j pi_j KL(p_j || s(W h_j)), computed directly (>= 0)
  /** R = min_j (min in-support logit - max out-of-support logit): the gap of theory.md §6
   * (+infinity stand-in 0 when every support is full, flagged by has_out_of_support). */
  S min_gap;
  bool has_out_of_support = false;
};

/** Preallocated buffers, so that an evaluation allocates nothing (in double). */
template <class S>
struct LossWorkspace {
  explicit LossWorkspace(const Instance<S>& inst)
      : logits(inst.V, inst.m),
        coef(inst.V, inst.m),
        in_support(static_cast<std::size_t>(inst.V * inst.m), 0),
        max_in(static_cast<std::size_t>(inst.m)),
        max_out(static_cast<std::size_t>(inst.m)) {
    for (std::int64_t j = 0; j < inst.m; ++j) {
      for (std::int64_t k = inst.offset[static_cast<std::size_t>(j)];
           k < inst.offset[static_cast<std::size_t>(j) + 1]; ++k) {
        in_support[static_cast<std::size_t>(j * inst.V + inst.token[static_cast<std::size_t>(k)])] =
            1;
      }
    }
  }
  Matrix<S> logits;                      ///< V x m: W Hbar
  Matrix<S> coef;                        ///< V x m: (S - P) diag(pi)
  std::vector<std::uint8_t> in_support;  ///< V x m column-major: 1 where v is in S_j
  std::vector<S> max_in;                 ///< per context: max in-support logit
  std::vector<S> max_out;                ///< per context: max out-of-support logit (0 if none)
  /** Type-specific preallocated state, built by the first evaluation: the MPFR kernel's scratch
   * numbers and exp tables at the workspace's precision (loss_mpfr.cpp). Copies of a workspace
   * share it, so a copy must not be used concurrently with its original. */
  std::shared_ptr<void> extra;
};

/**
 * Evaluates CE, the excess loss and, when grad is non-null, the gradient (V x d, preallocated or
 * resized once). W is V x d.
 */
template <class S>
LossValue<S> loss_and_gradient(const Instance<S>& inst, const Matrix<S>& W, LossWorkspace<S>& ws,
                               Matrix<S>* grad);

/**
 * MPFR: the same mathematics in hand loops on the raw mpfr_t of the preallocated workspace (no
 * temporaries, no allocation after the first call), at the workspace's precision (that of the
 * default precision when it was built). Out-of-support odds by one exp per context instead of two
 * logs and two exps; the same delta form in support (loss_mpfr.cpp derives both and their
 * accuracy).
 */
template <>
LossValue<Mpfr> loss_and_gradient<Mpfr>(const Instance<Mpfr>& inst, const Matrix<Mpfr>& W,
                                        LossWorkspace<Mpfr>& ws, Matrix<Mpfr>* grad);

/** Loss only (no gradient): `loss_and_gradient(inst, W, ws, nullptr)`. */
template <class S>
LossValue<S> loss_and_gradient(const Instance<S>& inst, const Matrix<S>& W, LossWorkspace<S>& ws,
                               std::nullptr_t) {
  return loss_and_gradient(inst, W, ws, static_cast<Matrix<S>*>(nullptr));
}

/** phi(x) = x + expm1(-x) = x^2/2 - x^3/6 + ..., accurate to a few ulp also for tiny |x|. */
template <class S>
S kl_phi(const S& x);

/** log(sum_i e^{x_i}) with the max shift; -infinity stand-in: requires x non-empty. */
template <class S>
S log_sum_exp(const Vector<S>& x);

}  // namespace ntp

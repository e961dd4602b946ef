/** @file loss_mpfr.cpp
 * loss_and_gradient for MPFR (issue 7, target 3): the mathematics of loss.hpp in hand loops on the
 * raw mpfr_t of the preallocated workspace. Boost's mpfr_float creates (and allocates) a
 * temporary for every operation of an expression and Eigen's GEMM over it does the same per
 * multiply-add; here every intermediate is a scratch mpfr_t built once per workspace, so an
 * evaluation allocates nothing after the first one (MPFR's own internal temporaries aside).
 *
 * Working precision p: that of the workspace's numbers (the default precision when it was built).
 * Every operation rounds to nearest at p unless stated otherwise.
 *
 * Exponentials by MpfrExp (mpfr_exp.hpp: tables built once per workspace, fixed-point Taylor,
 * < 0.50002 ulp, about 0.2x mpfr_exp's time and no allocation); MPFR's log and log1p remain (two
 * per context: they allocate 1-3 internal temporaries each).
 *
 * Differences from the generic kernel (loss_impl.hpp), all for fewer transcendental calls:
 * - Out-of-support odds: r = sum_out e^{max_out - max_in} / sum_in (one exp) instead of
 *   t = (max_out - max_in) + log sum_out - log sum_in and r = e^t (two logs, one exp); then
 *   out_term = log1p(r), omega = r / (1 + r), and s_v = e^{l_v - max_out} e^{max_out - max_in} /
 *   (sum_in (1 + r)) with no further exp. Equivalent accuracy: both forms carry the absolute error
 *   of max_out - max_in into r as a relative error. When |max_out - max_in| > 2^20 the generic
 *   t-form is used (e^{2^20} is still inside MPFR's exponent range, but that form needs no care).
 * - In-support terms: the generic delta form (delta = (log p + log sum_in) - (l_z - max_in), one
 *   log per context), with phi(delta) = delta + expm1(-delta) and expm1(-delta) from one
 *   evaluation: for |delta| < 2^-e with ceil((p + 2) / e) <= kMaxSeriesTerms - 1 by the series
 *   sum_{k>=2} (-delta)^k / k! (Horner on 1/k! at p + 16 bits; tail below 2^-(p+2) of the first
 *   term), otherwise expm1(-delta) = e^{-delta} - 1 with the table-driven exp (mpfr_exp.hpp) at
 *   p + ceil((p + 2) / (kMaxSeriesTerms - 1)) + 10 bits, which carries the bits that delta +
 *   expm1(-delta) cancels there (about -log2|delta| + 1) plus 8, then rounded
 *   once. (A form without the log, u = q/p - 1 and KL = sum p (u - log1p(u)), was tried: it is no
 *   cheaper per entry and it loses exactness when the rounded p and log p disagree, e.g. uniform p
 *   = 1/3, where the delta form gives delta = 0 exactly: LossExcess.DeepHorizonMatches200Digits.)
 * Products: (v, j) sums in k order with a p-bit product then a p-bit add (two roundings, as
 * Eigen's kernel); mpfr_fma is slower at p <= ~600 bits here (bench/README.md).
 */
#include <mpfr.h>

#include <array>
#include <cmath>
#include <cstddef>
#include <memory>
#include <stdexcept>

#include "ntp/loss.hpp"
#include "ntp/mpfr_exp.hpp"

namespace ntp {
namespace {

inline mpfr_ptr raw(Mpfr& x) { return x.backend().data(); }
inline mpfr_srcptr raw(const Mpfr& x) { return x.backend().data(); }

constexpr mpfr_rnd_t kRnd = MPFR_RNDN;

/** Series terms of phi(delta) at most (Horner steps): beyond, e^{-delta} - 1 at raised precision.
 */
constexpr int kMaxSeriesTerms = 12;

/** The scratch numbers of one workspace, at precision p (raised-precision ones allocated at 2p +
 * 128 bits so that mpfr_set_prec never reallocates). */
struct MpfrScratch {
  explicit MpfrScratch(mpfr_prec_t p)
      : prec(p), exp_p(p), exp_w(p + (p + 2 + kMaxSeriesTerms - 2) / (kMaxSeriesTerms - 1) + 10) {
    for (auto& x : t) mpfr_init2(x, p);
    for (auto& x : wide) mpfr_init2(x, 2 * p + 128);
    for (int k = 0; k <= kMaxSeriesTerms + 1; ++k) {
      mpfr_init2(inv_fact[static_cast<std::size_t>(k)], p + 16);
      mpfr_fac_ui(inv_fact[static_cast<std::size_t>(k)], static_cast<unsigned long>(k), kRnd);
      mpfr_ui_div(inv_fact[static_cast<std::size_t>(k)], 1, inv_fact[static_cast<std::size_t>(k)],
                  kRnd);
    }
  }
  ~MpfrScratch() {
    for (auto& x : t) mpfr_clear(x);
    for (auto& x : wide) mpfr_clear(x);
    for (auto& x : inv_fact) mpfr_clear(x);
  }
  MpfrScratch(const MpfrScratch&) = delete;
  MpfrScratch& operator=(const MpfrScratch&) = delete;

  mpfr_prec_t prec;
  MpfrExp exp_p;  ///< exp at p with tables (mpfr_exp.hpp)
  /** exp at p + ceil((p + 2) / (kMaxSeriesTerms - 1)) + 10 bits: expm1(-delta) outside the
   * series range of phi_and_em, with the bits that phi = delta + expm1(-delta) cancels. */
  MpfrExp exp_w;
  std::array<mpfr_t, 20> t{};                          ///< p-bit scratch
  std::array<mpfr_t, 2> wide{};                        ///< raised-precision scratch
  std::array<mpfr_t, kMaxSeriesTerms + 2> inv_fact{};  ///< 1/k! at p + 16 bits
};

/** Scratch of ws at precision p: built on first use (or when the precision changed). */
MpfrScratch& scratch_of(LossWorkspace<Mpfr>& ws, mpfr_prec_t p) {
  auto* s = static_cast<MpfrScratch*>(ws.extra.get());
  if (s == nullptr || s->prec != p) {
    auto fresh = std::make_shared<MpfrScratch>(p);
    s = fresh.get();
    ws.extra = std::move(fresh);
  }
  return *s;
}

/** phi = phi(delta) = delta + expm1(-delta) >= 0 and em = expm1(-delta), both to a few ulp of
 * their precision p for the rounded delta (file comment): the series for small |delta|, else
 * e^{-delta} - 1 at raised precision (exp_w).
 */
void phi_and_em(mpfr_ptr phi, mpfr_ptr em, mpfr_srcptr delta, MpfrScratch& s) {
  if (mpfr_zero_p(delta)) {
    mpfr_set_zero(phi, 1);
    mpfr_set_zero(em, 1);
    return;
  }
  const mpfr_prec_t p = mpfr_get_prec(phi);
  const mpfr_exp_t ed = mpfr_get_exp(delta);  // 2^(ed-1) <= |delta| < 2^ed
  if (ed < 0) {
    // Terms k = 2..K of sum (-delta)^k / k!; the tail is below |delta|^(K-1) < 2^(-e (K-1)) of
    // delta^2/2 with e = -ed, so K - 1 = ceil((p + 2) / e) suffices.
    const long e = -static_cast<long>(ed);
    const long K = 1 + (static_cast<long>(p) + 2 + e - 1) / e;
    if (K <= kMaxSeriesTerms) {
      mpfr_ptr h = s.wide[0];
      mpfr_ptr tmp = s.wide[1];
      mpfr_set_prec(h, p + 16);
      mpfr_set_prec(tmp, p + 16);
      // h = 1/2! - delta (1/3! - delta (1/4! - ... (1/K!))), phi = delta^2 h.
      mpfr_set(h, s.inv_fact[static_cast<std::size_t>(K)], kRnd);
      for (long k = K - 1; k >= 2; --k) {
        mpfr_mul(tmp, delta, h, kRnd);
        mpfr_sub(h, s.inv_fact[static_cast<std::size_t>(k)], tmp, kRnd);
      }
      mpfr_sqr(tmp, delta, kRnd);
      mpfr_mul(h, tmp, h, kRnd);
      mpfr_set(phi, h, kRnd);
      mpfr_sub(em, h, delta, kRnd);  // expm1(-delta) = phi - delta, |phi| < |delta| / 2
      return;
    }
  }
  // phi = delta + expm1(-delta) cancels about -log2|delta| + 1 <= e + 1 bits, where e < (p + 2) /
  // (kMaxSeriesTerms - 1) here: expm1(-delta) = e^{-delta} - 1 at the precision pw of exp_w, which
  // carries those bits plus 8 (the subtraction of 1 is exact relative to e^{-delta}'s own error
  // of half an ulp at pw, i.e. 2^-pw absolute, at most 2^-(pw - e - 1) relative to |delta|).
  mpfr_ptr w = s.wide[0];
  mpfr_set_prec(w, s.exp_w.precision());
  mpfr_neg(s.wide[1], delta, kRnd);  // exact: wide[1] has at least p + 16 bits, delta p
  s.exp_w.exp(w, s.wide[1]);
  mpfr_sub_ui(w, w, 1, kRnd);
  mpfr_set(em, w, kRnd);
  mpfr_add(phi, delta, w, kRnd);
}

}  // namespace

template <>
LossValue<Mpfr> loss_and_gradient<Mpfr>(const Instance<Mpfr>& inst, const Matrix<Mpfr>& W,
                                        LossWorkspace<Mpfr>& ws, Matrix<Mpfr>* grad) {
  const std::int64_t V = inst.V;
  const std::int64_t m = inst.m;
  const std::int64_t d = inst.d;
  if (static_cast<std::int64_t>(ws.in_support.size()) != V * m || ws.logits.rows() != V ||
      ws.logits.cols() != m) {
    throw std::logic_error("loss_and_gradient: workspace built for another instance shape");
  }
  if (W.rows() != V || W.cols() != d) {
    throw std::logic_error("loss_and_gradient: W has the wrong shape");
  }
  if (V == 0 || m == 0) throw std::logic_error("loss_and_gradient: empty instance");
  const mpfr_prec_t p = mpfr_get_prec(raw(ws.logits(0, 0)));
  MpfrScratch& s = scratch_of(ws, p);
  mpfr_ptr prod = s.t[0];
  mpfr_ptr x = s.t[1];
  mpfr_ptr excess = s.t[2];
  mpfr_ptr min_gap = s.t[3];
  mpfr_ptr gap = s.t[4];
  mpfr_ptr sum_in = s.t[5];
  mpfr_ptr sum_out = s.t[6];
  mpfr_ptr diff = s.t[7];
  mpfr_ptr big_e = s.t[8];
  mpfr_ptr r = s.t[9];
  mpfr_ptr one_plus_r = s.t[10];
  mpfr_ptr omega = s.t[11];
  mpfr_ptr out_term = s.t[12];
  mpfr_ptr scale_out = s.t[13];
  mpfr_ptr kl_in = s.t[14];
  mpfr_ptr delta = s.t[15];
  mpfr_ptr phi = s.t[16];
  mpfr_ptr q = s.t[17];
  mpfr_ptr em = s.t[18];
  mpfr_ptr lsi = s.t[19];  // log sum_in

  // Logits W Hbar: (v, j) = sum_k W(v, k) Hbar(k, j), in k order.
  const Mpfr* Wd = W.data();
  const Mpfr* Hd = inst.Hbar.data();
  for (std::int64_t j = 0; j < m; ++j) {
    for (std::int64_t v = 0; v < V; ++v) {
      mpfr_ptr out = raw(ws.logits(v, j));
      if (d == 0) {
        mpfr_set_zero(out, 1);
        continue;
      }
      mpfr_mul(out, raw(Wd[v]), raw(Hd[j * d]), kRnd);
      for (std::int64_t k = 1; k < d; ++k) {
        mpfr_mul(prod, raw(Wd[v + k * V]), raw(Hd[k + j * d]), kRnd);
        mpfr_add(out, out, prod, kRnd);
      }
    }
  }

  mpfr_set_zero(excess, 1);
  mpfr_set_zero(min_gap, 1);
  bool have_gap = false;
  // Pass 1: extremes and the shifted exponentials (loss_impl.hpp, pass 1 and the exp pass).
  for (std::int64_t j = 0; j < m; ++j) {
    const std::int64_t b = inst.offset[static_cast<std::size_t>(j)];
    const std::int64_t e = inst.offset[static_cast<std::size_t>(j) + 1];
    const Mpfr* l = ws.logits.col(j).data();
    Mpfr* c = ws.coef.col(j).data();
    const std::uint8_t* in = ws.in_support.data() + j * V;
    mpfr_srcptr max_in = raw(l[inst.token[static_cast<std::size_t>(b)]]);
    mpfr_srcptr min_in = max_in;
    for (std::int64_t k = b + 1; k < e; ++k) {
      mpfr_srcptr v = raw(l[inst.token[static_cast<std::size_t>(k)]]);
      if (mpfr_greater_p(v, max_in)) max_in = v;
      if (mpfr_less_p(v, min_in)) min_in = v;
    }
    const bool has_out = (e - b) < V;
    mpfr_srcptr max_out = nullptr;
    if (has_out) {
      for (std::int64_t v = 0; v < V; ++v) {
        if (in[v] == 0 && (max_out == nullptr || mpfr_greater_p(raw(l[v]), max_out))) {
          max_out = raw(l[v]);
        }
      }
      mpfr_sub(gap, min_in, max_out, kRnd);
      if (!have_gap || mpfr_less_p(gap, min_gap)) {
        mpfr_set(min_gap, gap, kRnd);
        have_gap = true;
      }
    }
    mpfr_set(raw(ws.max_in[static_cast<std::size_t>(j)]), max_in, kRnd);
    if (has_out) {
      mpfr_set(raw(ws.max_out[static_cast<std::size_t>(j)]), max_out, kRnd);
    } else {
      mpfr_set_zero(raw(ws.max_out[static_cast<std::size_t>(j)]), 1);
    }
    mpfr_srcptr mi = raw(ws.max_in[static_cast<std::size_t>(j)]);
    mpfr_srcptr mo = raw(ws.max_out[static_cast<std::size_t>(j)]);
    for (std::int64_t v = 0; v < V; ++v) {
      mpfr_sub(x, raw(l[v]), in[v] != 0 ? mi : mo, kRnd);
      s.exp_p.exp(raw(c[v]), x);
    }
  }

  // Pass 2: sums, excess loss and the coefficients (S - P) diag(pi).
  for (std::int64_t j = 0; j < m; ++j) {
    const std::int64_t b = inst.offset[static_cast<std::size_t>(j)];
    const std::int64_t e = inst.offset[static_cast<std::size_t>(j) + 1];
    Mpfr* c = ws.coef.col(j).data();
    const std::uint8_t* in = ws.in_support.data() + j * V;
    const bool has_out = (e - b) < V;
    mpfr_srcptr mi = raw(ws.max_in[static_cast<std::size_t>(j)]);
    mpfr_srcptr mo = raw(ws.max_out[static_cast<std::size_t>(j)]);
    mpfr_set_zero(sum_in, 1);
    for (std::int64_t k = b; k < e; ++k) {
      mpfr_add(sum_in, sum_in, raw(c[inst.token[static_cast<std::size_t>(k)]]), kRnd);
    }
    // lse_in = max_in + lsi is never formed (loss_impl.hpp: its rounding would enter every delta).
    mpfr_log(lsi, sum_in, kRnd);
    mpfr_set_zero(out_term, 1);
    mpfr_set_zero(omega, 1);
    mpfr_set_zero(scale_out, 1);
    if (has_out) {
      mpfr_set_zero(sum_out, 1);
      for (std::int64_t v = 0; v < V; ++v) {
        if (in[v] == 0) mpfr_add(sum_out, sum_out, raw(c[v]), kRnd);
      }
      mpfr_sub(diff, mo, mi, kRnd);
      if (mpfr_cmpabs_ui(diff, 1UL << 20) < 0) {
        s.exp_p.exp(big_e, diff);           // e^{max_out - max_in}
        mpfr_mul(r, sum_out, big_e, kRnd);  // r = sum_out e^{diff} / sum_in
        mpfr_div(r, r, sum_in, kRnd);
        mpfr_log1p(out_term, r, kRnd);  // log(1 + r)
        mpfr_add_ui(one_plus_r, r, 1, kRnd);
        mpfr_div(omega, r, one_plus_r, kRnd);   // r / (1 + r)
        mpfr_mul(x, sum_in, one_plus_r, kRnd);  // scale_out = e^{diff} / (sum_in (1 + r))
        mpfr_div(scale_out, big_e, x, kRnd);
      } else {
        // The generic t-form (loss_impl.hpp) for extreme logit differences.
        mpfr_log(x, sum_out, kRnd);
        mpfr_sub(x, x, lsi, kRnd);
        mpfr_add(x, diff, x, kRnd);  // t = lse_out - lse_in
        if (mpfr_sgn(x) > 0) {
          mpfr_neg(r, x, kRnd);
          s.exp_p.exp(r, r);  // e^{-t}
          mpfr_log1p(out_term, r, kRnd);
          mpfr_add(out_term, x, out_term, kRnd);
          mpfr_add_ui(one_plus_r, r, 1, kRnd);
          mpfr_ui_div(omega, 1, one_plus_r, kRnd);
        } else {
          s.exp_p.exp(r, x);  // e^{t}
          mpfr_log1p(out_term, r, kRnd);
          mpfr_add_ui(one_plus_r, r, 1, kRnd);
          mpfr_div(omega, r, one_plus_r, kRnd);
        }
        mpfr_add(x, lsi, out_term, kRnd);
        mpfr_sub(x, diff, x, kRnd);
        s.exp_p.exp(scale_out, x);
      }
    }
    // In-support: KL(p || q) = sum p phi(delta) and s_z - p_z = p expm1(-delta) - q omega
    // (loss.hpp), delta = (log p + log sum_in) - (l_z - max_in).
    mpfr_set_zero(kl_in, 1);
    mpfr_srcptr pij = raw(inst.pi(j));
    const Mpfr* l = ws.logits.col(j).data();
    for (std::int64_t k = b; k < e; ++k) {
      const auto z = inst.token[static_cast<std::size_t>(k)];
      mpfr_srcptr pz = raw(inst.prob(k));
      mpfr_ptr cz = raw(c[z]);
      mpfr_add(delta, raw(inst.log_prob(k)), lsi, kRnd);
      mpfr_sub(x, raw(l[z]), mi, kRnd);
      mpfr_sub(delta, delta, x, kRnd);
      phi_and_em(phi, em, delta, s);
      mpfr_mul(phi, pz, phi, kRnd);
      mpfr_add(kl_in, kl_in, phi, kRnd);
      mpfr_div(q, cz, sum_in, kRnd);
      mpfr_mul(q, q, omega, kRnd);
      mpfr_mul(em, pz, em, kRnd);
      mpfr_sub(q, em, q, kRnd);
      mpfr_mul(cz, pij, q, kRnd);
    }
    mpfr_add(kl_in, kl_in, out_term, kRnd);
    mpfr_mul(kl_in, pij, kl_in, kRnd);
    mpfr_add(excess, excess, kl_in, kRnd);
    if (has_out) {
      mpfr_mul(x, pij, scale_out, kRnd);
      for (std::int64_t v = 0; v < V; ++v) {
        if (in[v] == 0) mpfr_mul(raw(c[v]), raw(c[v]), x, kRnd);
      }
    }
  }

  if (grad != nullptr) {
    if (grad->rows() != V || grad->cols() != d) grad->resize(V, d);
    // grad(v, k) = sum_j coef(v, j) Hbar(k, j), in j order.
    const Mpfr* C = ws.coef.data();
    mpfr_ptr acc = s.t[1];
    for (std::int64_t k = 0; k < d; ++k) {
      for (std::int64_t v = 0; v < V; ++v) {
        mpfr_mul(acc, raw(C[v]), raw(Hd[k]), kRnd);
        for (std::int64_t j = 1; j < m; ++j) {
          mpfr_mul(prod, raw(C[v + j * V]), raw(Hd[k + j * d]), kRnd);
          mpfr_add(acc, acc, prod, kRnd);
        }
        mpfr_set(raw((*grad)(v, k)), acc, kRnd);
      }
    }
  }
  LossValue<Mpfr> out;
  mpfr_add(raw(out.ce), raw(inst.entropy), excess, kRnd);
  mpfr_set(raw(out.excess), excess, kRnd);
  mpfr_set(raw(out.min_gap), min_gap, kRnd);
  out.has_out_of_support = have_gap;
  return out;
}

}  // namespace ntp

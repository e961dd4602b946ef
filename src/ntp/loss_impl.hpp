#pragma once
/** @file loss_impl.hpp
 * Template definitions of loss.hpp; included only by the per-scalar instantiation files.
 */
#include <stdexcept>
#include <type_traits>

#include "ntp/dd_exp.hpp"
#include "ntp/fast_kernels.hpp"
#include "ntp/loss.hpp"

namespace ntp {

template <class S>
S kl_phi(const S& x) {
  using std::abs;
  const S eighth = S(0.125);
  if (abs(x) < eighth) {
    if constexpr (std::is_same_v<S, double>) {
      // sum_{k=2}^{13} (-x)^k / k! by Horner: for |x| < 1/8 the first omitted term is below
      // 2 8^-12 / 14! = 3e-22 of x^2/2 (2^-71), so only the rounding of the ~12 operations remains.
      constexpr double c[] = {1.0 / 2,       1.0 / 6,        1.0 / 24,        1.0 / 120,
                              1.0 / 720,     1.0 / 5040,     1.0 / 40320,     1.0 / 362880,
                              1.0 / 3628800, 1.0 / 39916800, 1.0 / 479001600, 1.0 / 6227020800};
      double p = c[11];
      for (int k = 10; k >= 0; --k) p = c[k] - x * p;
      return x * x * p;
    } else if constexpr (std::is_same_v<S, float>) {
      // Same, to k = 8: 2 8^-7 / 9! = 2.6e-12 of x^2/2 (below 2^-38).
      constexpr float c[] = {1.0f / 2,   1.0f / 6,    1.0f / 24,   1.0f / 120,
                             1.0f / 720, 1.0f / 5040, 1.0f / 40320};
      float p = c[6];
      for (int k = 5; k >= 0; --k) p = c[k] - x * p;
      return x * x * p;
    } else {
      // Alternating series sum_{k>=2} (-x)^k / k!; |x| < 1/8 so it converges fast.
      const S eps = ScalarTraits<S>::epsilon();
      S term = x * x / S(2);
      S sum = term;
      for (int k = 3; k < 2000; ++k) {
        term = -term * x / S(k);
        sum += term;
        if (abs(term) <= eps * abs(sum)) break;
      }
      return sum;
    }
  }
  // |x| >= 1/8: x + expm1(-x) >= x^2/2 * (1 - |x|/3) loses at most a few bits.
  return x + expm1_s(-x);
}

/** exp inside the kernel: dd_exp for double-double (dd_exp.hpp: 7x faster than qd's exp, more
 * accurate, the same underflow edges), the type's own exp otherwise. */
template <class S>
S kernel_exp(const S& x) {
  if constexpr (std::is_same_v<S, dd_real>) {
    return dd_exp(x);
  } else {
    using std::exp;
    return exp(x);
  }
}

template <class S>
S log_sum_exp(const Vector<S>& x) {
  using std::exp;
  using std::log;
  S mx = x(0);
  for (Eigen::Index i = 1; i < x.size(); ++i) {
    if (x(i) > mx) mx = x(i);
  }
  S sum(0);
  for (Eigen::Index i = 0; i < x.size(); ++i) sum += exp(x(i) - mx);
  return mx + log(sum);
}

template <class S>
LossValue<S> loss_and_gradient(const Instance<S>& inst, const Matrix<S>& W, LossWorkspace<S>& ws,
                               Matrix<S>* grad) {
  using std::exp;
  using std::log;
  constexpr bool kMachine = std::is_same_v<S, double> || std::is_same_v<S, float>;
  const std::int64_t V = inst.V;
  const std::int64_t m = inst.m;
  if (static_cast<std::int64_t>(ws.in_support.size()) != V * m || ws.logits.rows() != V ||
      ws.logits.cols() != m) {
    throw std::logic_error("loss_and_gradient: workspace built for another instance shape");
  }
  if constexpr (kMachine) {
    fast::gemm(W.data(), inst.Hbar.data(), ws.logits.data(), V, m, inst.d, false);
  } else {
    ws.logits.noalias() = W * inst.Hbar;
  }
  const S zero(0);
  const S one(1);
  S excess(0);
  S min_gap(0);
  bool have_gap = false;
  // Pass 1 (every context): extremes of the in-support and out-of-support logits, and the
  // exponent of every entry, shifted by its own part's maximum (no overflow, no early underflow
  // of the out-of-support part: theory.md §6), written into coef.
  for (std::int64_t j = 0; j < m; ++j) {
    const std::int64_t b = inst.offset[static_cast<std::size_t>(j)];
    const std::int64_t e = inst.offset[static_cast<std::size_t>(j) + 1];
    const S* l = ws.logits.col(j).data();
    S* c = ws.coef.col(j).data();
    const std::uint8_t* in = ws.in_support.data() + j * V;
    S max_in = l[inst.token[static_cast<std::size_t>(b)]];
    S min_in = max_in;
    for (std::int64_t k = b + 1; k < e; ++k) {
      const S& v = l[inst.token[static_cast<std::size_t>(k)]];
      if (v > max_in) max_in = v;
      if (v < min_in) min_in = v;
    }
    const bool has_out = (e - b) < V;
    S max_out(0);
    if constexpr (std::is_same_v<S, double>) {
      max_out = fast::shift_column(l, in, max_in, c, V);
      if (!has_out) max_out = 0.0;
    } else {
      if (has_out) {
        bool first = true;
        for (std::int64_t v = 0; v < V; ++v) {
          if (in[v] == 0 && (first || l[v] > max_out)) {
            max_out = l[v];
            first = false;
          }
        }
      }
      for (std::int64_t v = 0; v < V; ++v) c[v] = l[v] - (in[v] != 0 ? max_in : max_out);
    }
    ws.max_in[static_cast<std::size_t>(j)] = max_in;
    ws.max_out[static_cast<std::size_t>(j)] = max_out;
    if (has_out) {
      const S gap = min_in - max_out;
      if (!have_gap || gap < min_gap) {
        min_gap = gap;
        have_gap = true;
      }
    }
  }
  // The exponentials of all V m entries at once (the double path is vectorised: fast_kernels.hpp).
  if constexpr (std::is_same_v<S, double>) {
    fast::exp_in_place(ws.coef.data(), V * m);
  } else {
    S* c = ws.coef.data();
    for (std::int64_t i = 0; i < V * m; ++i) c[i] = kernel_exp(c[i]);
  }
  // Pass 2 (every context): the sums, the excess loss and the coefficients (S - P) diag(pi).
  for (std::int64_t j = 0; j < m; ++j) {
    const std::int64_t b = inst.offset[static_cast<std::size_t>(j)];
    const std::int64_t e = inst.offset[static_cast<std::size_t>(j) + 1];
    const S* l = ws.logits.col(j).data();
    S* c = ws.coef.col(j).data();
    const std::uint8_t* in = ws.in_support.data() + j * V;
    const bool has_out = (e - b) < V;
    const S& max_in = ws.max_in[static_cast<std::size_t>(j)];
    S sum_in(0);
    for (std::int64_t k = b; k < e; ++k) sum_in += c[inst.token[static_cast<std::size_t>(k)]];
    // lse_in = max_in + log_sum_in is never formed: the large max_in would cost its rounding
    // error (|max_in| eps) in every delta and in t. Differences of logits are taken first.
    const S log_sum_in = log(sum_in);
    S out_term(0);   // log1p(r) = log(1 + e^t), t = lse_out - lse_in
    S omega(0);      // r / (1 + r): the out-of-support probability mass
    S scale_out(0);  // e^{max_out - lse}: turns e^{l_v - max_out} into s_v
    if (has_out) {
      S sum_out(0);
      const S& max_out = ws.max_out[static_cast<std::size_t>(j)];
      if constexpr (std::is_same_v<S, double>) {
        sum_out = fast::masked_sum(c, in, V);
      } else {
        for (std::int64_t v = 0; v < V; ++v) {
          if (in[v] == 0) sum_out += c[v];
        }
      }
      const S diff = max_out - max_in;
      using std::abs;
      if (!kMachine && abs(diff) < S(600)) {
        // Software types: r = sum_out e^{diff} / sum_in by one exp (no log sum_out, no second
        // exp; the MPFR kernel's form, loss_mpfr.cpp). Same accuracy: the rounding of diff enters
        // r as a relative error either way. |diff| < 600 keeps e^{diff} normal in every type.
        const S big_e = kernel_exp(diff);
        const S r = sum_out * big_e / sum_in;
        out_term = log1p_s(r);
        const S one_plus_r = one + r;
        omega = r / one_plus_r;
        scale_out = big_e / (sum_in * one_plus_r);
      } else {
        const S t = diff + (log(sum_out) - log_sum_in);
        if (t > zero) {  // softplus without overflow
          const S emt = exp(-t);
          out_term = t + log1p_s(emt);
          omega = one / (one + emt);
        } else {
          const S r = exp(t);
          out_term = log1p_s(r);
          omega = r / (one + r);
        }
        scale_out = exp(diff - (log_sum_in + out_term));
      }
    }
    // In-support terms: KL(p || q) = sum p phi(delta), and s_z - p_z.
    S kl_in(0);
    const S pij = inst.pi(j);
    for (std::int64_t k = b; k < e; ++k) {
      const auto z = inst.token[static_cast<std::size_t>(k)];
      const S& p = inst.prob(k);
      const S delta = (inst.log_prob(k) + log_sum_in) - (l[z] - max_in);
      // phi(delta) and expm1(-delta) = phi(delta) - delta from one evaluation: for |delta| < 1/8
      // phi is the series (|phi| < |delta|/15, so the subtraction costs at most an ulp), beyond it
      // phi = delta + expm1(-delta) (kl_phi's own two branches).
      S phi;
      S em;
      using std::abs;
      if (abs(delta) < S(0.125)) {
        phi = kl_phi(delta);
        em = phi - delta;
      } else {
        if constexpr (std::is_same_v<S, dd_real>) {
          // e^{-delta} - 1 by dd_exp (2^-103 relative) instead of Kahan's exp/log expm1: for
          // |delta| >= 1/8 the subtraction of 1 amplifies that by at most 1/(1 - e^{-1/8}) = 8.5.
          em = kernel_exp(-delta) - S(1.0);
        } else {
          em = expm1_s(-delta);
        }
        phi = delta + em;
      }
      kl_in += p * phi;
      const S q = c[z] / sum_in;
      c[z] = pij * (p * em - q * omega);
    }
    excess += pij * (kl_in + out_term);
    if (has_out) {
      const S f = pij * scale_out;
      if constexpr (std::is_same_v<S, double>) {
        fast::masked_scale(c, in, f, V);
      } else {
        for (std::int64_t v = 0; v < V; ++v) {
          if (in[v] == 0) c[v] *= f;
        }
      }
    }
  }
  if (grad != nullptr) {
    if (grad->rows() != V || grad->cols() != inst.d) grad->resize(V, inst.d);
    if constexpr (kMachine) {
      fast::gemm(ws.coef.data(), inst.Hbar.data(), grad->data(), V, inst.d, m, true);
    } else {
      grad->noalias() = ws.coef * inst.Hbar.transpose();
    }
  }
  LossValue<S> out{inst.entropy + excess, excess, min_gap, have_gap};
  return out;
}

}  // namespace ntp

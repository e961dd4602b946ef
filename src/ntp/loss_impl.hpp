#pragma once
/** @file loss_impl.hpp
 * Template definitions of loss.hpp; included only by the per-scalar instantiation files.
 */
#include "ntp/loss.hpp"

namespace ntp {

template <class S>
S kl_phi(const S& x) {
  using std::abs;
  const S eighth = S(0.125);
  if (abs(x) < eighth) {
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
  // |x| >= 1/8: x + expm1(-x) >= x^2/2 * (1 - |x|/3) loses at most a few bits.
  return x + expm1_s(-x);
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
  const std::int64_t V = inst.V;
  const std::int64_t m = inst.m;
  ws.logits.noalias() = W * inst.Hbar;
  const S zero(0);
  const S one(1);
  S excess(0);
  S min_gap(0);
  bool have_gap = false;
  for (std::int64_t j = 0; j < m; ++j) {
    const std::int64_t b = inst.offset[static_cast<std::size_t>(j)];
    const std::int64_t e = inst.offset[static_cast<std::size_t>(j) + 1];
    const S* l = ws.logits.col(j).data();
    S* c = ws.coef.col(j).data();
    // Pass 1: extremes of the in-support and out-of-support logits.
    S max_in = l[inst.token[static_cast<std::size_t>(b)]];
    S min_in = max_in;
    for (std::int64_t k = b + 1; k < e; ++k) {
      const S& v = l[inst.token[static_cast<std::size_t>(k)]];
      if (v > max_in) max_in = v;
      if (v < min_in) min_in = v;
    }
    const bool has_out = (e - b) < V;
    S max_out(0);
    if (has_out) {
      bool first = true;
      std::int64_t k = b;
      for (std::int64_t v = 0; v < V; ++v) {
        if (k < e && inst.token[static_cast<std::size_t>(k)] == v) {
          ++k;
          continue;
        }
        if (first || l[v] > max_out) {
          max_out = l[v];
          first = false;
        }
      }
      const S gap = min_in - max_out;
      if (!have_gap || gap < min_gap) {
        min_gap = gap;
        have_gap = true;
      }
    }
    // Pass 2: exponentials, shifted by each part's own maximum (no overflow, no early underflow).
    S sum_in(0);
    for (std::int64_t k = b; k < e; ++k) {
      const auto z = inst.token[static_cast<std::size_t>(k)];
      c[z] = exp(l[z] - max_in);
      sum_in += c[z];
    }
    // lse_in = max_in + log_sum_in is never formed: the large max_in would cost its rounding
    // error (|max_in| eps) in every delta and in t. Differences of logits are taken first.
    const S log_sum_in = log(sum_in);
    S out_term(0);   // log1p(r) = log(1 + e^t), t = lse_out - lse_in
    S omega(0);      // r / (1 + r): the out-of-support probability mass
    S scale_out(0);  // e^{max_out - lse}: turns e^{l_v - max_out} into s_v
    if (has_out) {
      S sum_out(0);
      std::int64_t k = b;
      for (std::int64_t v = 0; v < V; ++v) {
        if (k < e && inst.token[static_cast<std::size_t>(k)] == v) {
          ++k;
          continue;
        }
        c[v] = exp(l[v] - max_out);
        sum_out += c[v];
      }
      const S t = (max_out - max_in) + (log(sum_out) - log_sum_in);
      if (t > zero) {  // softplus without overflow
        const S emt = exp(-t);
        out_term = t + log1p_s(emt);
        omega = one / (one + emt);
      } else {
        const S r = exp(t);
        out_term = log1p_s(r);
        omega = r / (one + r);
      }
      scale_out = exp((max_out - max_in) - (log_sum_in + out_term));
    }
    // In-support terms: KL(p || q) = sum p phi(delta), and s_z - p_z.
    S kl_in(0);
    const S pij = inst.pi(j);
    for (std::int64_t k = b; k < e; ++k) {
      const auto z = inst.token[static_cast<std::size_t>(k)];
      const S& p = inst.prob(k);
      const S delta = (inst.log_prob(k) + log_sum_in) - (l[z] - max_in);
      kl_in += p * kl_phi(delta);
      const S q = c[z] / sum_in;
      c[z] = pij * (p * expm1_s(-delta) - q * omega);
    }
    excess += pij * (kl_in + out_term);
    if (has_out) {
      const S f = pij * scale_out;
      std::int64_t k = b;
      for (std::int64_t v = 0; v < V; ++v) {
        if (k < e && inst.token[static_cast<std::size_t>(k)] == v) {
          ++k;
          continue;
        }
        c[v] *= f;
      }
    }
  }
  if (grad != nullptr) {
    if (grad->rows() != V || grad->cols() != inst.d) grad->resize(V, inst.d);
    grad->noalias() = ws.coef * inst.Hbar.transpose();
  }
  LossValue<S> out{inst.entropy + excess, excess, min_gap, have_gap};
  return out;
}

}  // namespace ntp

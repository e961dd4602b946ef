#include "ntp/attainment.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>

#include "ntp/errors.hpp"
#include "ntp/interval.hpp"

namespace ntp {

namespace {

/** A vector of MPFI intervals of one precision. */
class IntervalVector {
 public:
  IntervalVector(std::size_t n, long prec) {
    v_.reserve(n);
    for (std::size_t k = 0; k < n; ++k) {
      v_.push_back(std::make_unique<Interval>(prec));
      mpfi_set_ui(v_.back()->get(), 0);
    }
  }
  mpfi_ptr operator[](std::size_t k) { return v_[k]->get(); }
  [[nodiscard]] std::size_t size() const { return v_.size(); }

 private:
  std::vector<std::unique_ptr<Interval>> v_;
};

/** Logit enclosures (V x m, index v*m + j) of a row-major rational V x d matrix. */
void enclose_logits(const InstanceData& data, const std::vector<Rational>& w, long prec,
                    IntervalVector* out) {
  const std::int64_t V = data.vocab_size;
  const std::int64_t d = data.embedding_dim;
  const std::int64_t m = data.num_contexts();
  IntervalVector wi(w.size(), prec);
  for (std::size_t k = 0; k < w.size(); ++k) mpfi_set_q(wi[k], w[k].backend().data());
  Interval h(prec);
  Interval t(prec);
  for (std::int64_t j = 0; j < m; ++j) {
    const auto& e = data.contexts[static_cast<std::size_t>(j)].embedding;
    for (std::int64_t i = 0; i < d; ++i) {
      if (e[static_cast<std::size_t>(i)] == 0) continue;
      mpfi_set_q(h.get(), e[static_cast<std::size_t>(i)].backend().data());
      for (std::int64_t v = 0; v < V; ++v) {
        mpfi_mul(t.get(), wi[static_cast<std::size_t>(v * d + i)], h.get());
        mpfi_add((*out)[static_cast<std::size_t>(v * m + j)],
                 (*out)[static_cast<std::size_t>(v * m + j)], t.get());
      }
    }
  }
}

/** Encloses H = -sum_j pi_j sum_z p_z log p_z into *out (precision of *out). */
void entropy_interval(const InstanceData& data, Interval* out) {
  const long prec = static_cast<long>(mpfi_get_prec(out->get()));
  Interval inner(prec);
  Interval p(prec);
  Interval lp(prec);
  mpfi_set_ui(out->get(), 0);
  for (const ContextData& c : data.contexts) {
    mpfi_set_ui(inner.get(), 0);
    for (const Rational& q : c.probabilities) {
      mpfi_set_q(p.get(), q.backend().data());
      mpfi_log(lp.get(), p.get());
      mpfi_mul(lp.get(), lp.get(), p.get());
      mpfi_sub(inner.get(), inner.get(), lp.get());
    }
    mpfi_mul_q(inner.get(), inner.get(), c.weight.backend().data());
    mpfi_add(out->get(), out->get(), inner.get());
  }
}

}  // namespace

Enclosure enclose_entropy(const InstanceData& data, long precision_bits) {
  Interval h(precision_bits);
  entropy_interval(data, &h);
  return {lower_double(h.get()), upper_double(h.get())};
}

AttainmentResult check_attainment(const InstanceData& data, const WStarResult& w_star,
                                  const MaxMarginResult& w_mm, const AttainmentOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  AttainmentResult res;
  res.epsilon = options.epsilon;
  if (!w_star.computed) {
    res.reason = "W* is not available: " + w_star.reason;
    return res;
  }
  if (w_mm.status != MaxMarginStatus::kProven) {
    res.reason = "W^mm is not available: " + w_mm.reason;
    return res;
  }
  if (!(options.epsilon > 0) || !std::isfinite(options.epsilon)) {
    throw InvalidInput("attainment: epsilon must be finite and > 0, got " +
                       std::to_string(options.epsilon));
  }
  for (double r : options.grid) {
    if (!(r >= 0) || !std::isfinite(r)) {
      throw InvalidInput("attainment: every R must be finite and >= 0, got " + std::to_string(r));
    }
  }
  const long prec = options.precision_bits;
  const std::int64_t V = data.vocab_size;
  const std::int64_t m = data.num_contexts();
  const auto n = static_cast<std::size_t>(V * m);
  IntervalVector star(n, prec);
  IntervalVector mm(n, prec);
  enclose_logits(data, w_star.w_mid, prec, &star);
  enclose_logits(data, w_mm.w, prec, &mm);
  // Widen the W* logits by rho ||h_j|| and find M = sqrt(2) max ||h_j||.
  Interval widen(prec);
  Real hn(prec);
  Real mmax_lo(prec);
  Real mmax_hi(prec);
  mpfr_set_ui(mmax_lo.get(), 0, MPFR_RNDD);
  mpfr_set_ui(mmax_hi.get(), 0, MPFR_RNDU);
  for (std::int64_t j = 0; j < m; ++j) {
    Rational sq = 0;
    for (const Rational& x : data.contexts[static_cast<std::size_t>(j)].embedding) sq += x * x;
    mpfr_set_q(hn.get(), sq.backend().data(), MPFR_RNDD);
    mpfr_sqrt(hn.get(), hn.get(), MPFR_RNDD);
    mpfr_max(mmax_lo.get(), mmax_lo.get(), hn.get(), MPFR_RNDD);
    mpfr_set_q(hn.get(), sq.backend().data(), MPFR_RNDU);
    mpfr_sqrt(hn.get(), hn.get(), MPFR_RNDU);
    mpfr_max(mmax_hi.get(), mmax_hi.get(), hn.get(), MPFR_RNDU);
    mpfr_mul_d(hn.get(), hn.get(), w_star.radius, MPFR_RNDU);
    mpfr_neg(hn.get(), hn.get(), MPFR_RNDD);
    mpfi_interv_fr(widen.get(), hn.get(), hn.get());
    mpfr_neg(hn.get(), hn.get(), MPFR_RNDU);
    mpfi_put_fr(widen.get(), hn.get());  // [-rho ||h||, rho ||h||]
    for (std::int64_t v = 0; v < V; ++v) {
      mpfi_add(star[static_cast<std::size_t>(v * m + j)], star[static_cast<std::size_t>(v * m + j)],
               widen.get());
    }
  }
  Real sqrt2(prec);
  mpfr_sqrt_ui(sqrt2.get(), 2, MPFR_RNDD);
  mpfr_mul(mmax_lo.get(), mmax_lo.get(), sqrt2.get(), MPFR_RNDD);
  mpfr_sqrt_ui(sqrt2.get(), 2, MPFR_RNDU);
  mpfr_mul(mmax_hi.get(), mmax_hi.get(), sqrt2.get(), MPFR_RNDU);
  res.M = mpfr_get_d(mmax_hi.get(), MPFR_RNDN);
  // H enclosure.
  Interval entropy(prec);
  entropy_interval(data, &entropy);
  // excess(R) enclosure.
  auto excess = [&](double R, Interval* out) {
    Interval l(prec);
    Interval lse(prec);
    Interval e(prec);
    Interval inner(prec);
    Interval pz(prec);
    mpfi_set_ui(out->get(), 0);
    for (std::int64_t j = 0; j < m; ++j) {
      const ContextData& c = data.contexts[static_cast<std::size_t>(j)];
      mpfi_set_ui(lse.get(), 0);
      mpfi_set_ui(inner.get(), 0);
      for (std::int64_t v = 0; v < V; ++v) {
        const auto k = static_cast<std::size_t>(v * m + j);
        mpfi_mul_d(l.get(), mm[k], R);
        mpfi_add(l.get(), l.get(), star[k]);
        mpfi_exp(e.get(), l.get());
        mpfi_add(lse.get(), lse.get(), e.get());
      }
      mpfi_log(lse.get(), lse.get());
      for (std::size_t t = 0; t < c.tokens.size(); ++t) {
        const auto k = static_cast<std::size_t>(c.tokens[t] * m + j);
        mpfi_mul_d(l.get(), mm[k], R);
        mpfi_add(l.get(), l.get(), star[k]);
        mpfi_set_q(pz.get(), c.probabilities[t].backend().data());
        mpfi_mul(l.get(), l.get(), pz.get());
        mpfi_add(inner.get(), inner.get(), l.get());
      }
      mpfi_sub(lse.get(), lse.get(), inner.get());  // CE_j
      mpfi_mul_q(lse.get(), lse.get(), c.weight.backend().data());
      mpfi_add(out->get(), out->get(), lse.get());
    }
    mpfi_sub(out->get(), out->get(), entropy.get());
  };
  // Lower bound of V e^{||W*|| M} e^{-R} (monotone in ||W*|| and M: use their lower bounds).
  auto bound = [&](double R, mpfr_rnd_t rnd) {
    Real b(prec);
    const bool down = rnd == MPFR_RNDD;
    mpfr_set_d(b.get(), down ? w_star.norm_lo : w_star.norm_hi, rnd);
    mpfr_mul(b.get(), b.get(), down ? mmax_lo.get() : mmax_hi.get(), rnd);
    mpfr_sub_d(b.get(), b.get(), R, rnd);
    mpfr_exp(b.get(), b.get(), rnd);
    mpfr_mul_si(b.get(), b.get(), static_cast<long>(V), rnd);
    return mpfr_get_d(b.get(), rnd);
  };
  res.all_bounds_hold = true;
  res.all_positive = true;
  Interval ex(prec);
  for (double R : options.grid) {
    AttainmentPoint pt;
    pt.R = R;
    excess(R, &ex);
    pt.excess = {lower_double(ex.get()), upper_double(ex.get())};
    pt.bound = bound(R, MPFR_RNDD);
    pt.bound_hi = bound(R, MPFR_RNDU);
    pt.bound_holds = pt.excess.hi <= pt.bound;
    pt.bound_violated = pt.excess.lo > pt.bound_hi;
    pt.positive = pt.excess.lo > 0;
    res.all_bounds_hold = res.all_bounds_hold && pt.bound_holds;
    res.all_positive = res.all_positive && pt.positive;
    res.points.push_back(pt);
  }
  // R needed for epsilon: from (9), and certified by bisection on the decreasing excess(R).
  {
    Real r(prec);
    Real t(prec);
    mpfr_set_d(r.get(), w_star.norm_hi, MPFR_RNDU);
    mpfr_mul(r.get(), r.get(), mmax_hi.get(), MPFR_RNDU);
    mpfr_set_si(t.get(), static_cast<long>(V), MPFR_RNDU);
    mpfr_div_d(t.get(), t.get(), options.epsilon, MPFR_RNDU);
    mpfr_log(t.get(), t.get(), MPFR_RNDU);
    mpfr_add(r.get(), r.get(), t.get(), MPFR_RNDU);
    res.r_bound = std::max(0.0, mpfr_get_d(r.get(), MPFR_RNDU));
  }
  auto certified_below = [&](double R) {
    excess(R, &ex);
    return upper_double(ex.get()) <= options.epsilon;
  };
  res.r_certified = -1;
  if (certified_below(0)) {
    res.r_certified = 0;
  } else {
    double hi = std::max(1.0, res.r_bound);
    int doublings = 0;
    while (!certified_below(hi) && doublings < 8) {
      hi *= 2;
      ++doublings;
    }
    if (certified_below(hi)) {
      double lo = 0;
      while (hi - lo > 1e-6 * hi) {
        const double mid = 0.5 * (lo + hi);
        if (certified_below(mid)) {
          hi = mid;
        } else {
          lo = mid;
        }
      }
      res.r_certified = hi;
    }
  }
  res.computed = true;
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

}  // namespace ntp

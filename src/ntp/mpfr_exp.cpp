/** @file mpfr_exp.cpp
 * MpfrExp: table-driven exponential at a fixed MPFR precision (algorithm and error bound in
 * mpfr_exp.hpp).
 */
#include "ntp/mpfr_exp.hpp"

#include <gmp.h>
#include <mpfr.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace ntp {

namespace {

constexpr mpfr_prec_t kGuardBits = 12;
constexpr double kInvLn2 = 1.4426950408889634;  // 1/ln 2 (any double near it will do)

/** An upper bound held in a 64-bit MPFR number; every operation rounds upward (all operands are
 * nonnegative, so the results stay upper bounds). Used only by the constructor. */
class Up {
 public:
  Up() {
    mpfr_init2(v_, 64);
    mpfr_set_zero(v_, 1);
  }
  Up(const Up& o) {
    mpfr_init2(v_, 64);
    mpfr_set(v_, o.v_, MPFR_RNDU);
  }
  Up& operator=(const Up& o) {
    mpfr_set(v_, o.v_, MPFR_RNDU);
    return *this;
  }
  ~Up() { mpfr_clear(v_); }
  static Up pow2(long e) {
    Up r;
    mpfr_set_si_2exp(r.v_, 1, e, MPFR_RNDU);
    return r;
  }
  static Up of(double d) {
    Up r;
    mpfr_set_d(r.v_, d, MPFR_RNDU);
    return r;
  }
  friend Up operator+(const Up& a, const Up& b) {
    Up r;
    mpfr_add(r.v_, a.v_, b.v_, MPFR_RNDU);
    return r;
  }
  friend Up operator*(const Up& a, const Up& b) {
    Up r;
    mpfr_mul(r.v_, a.v_, b.v_, MPFR_RNDU);
    return r;
  }
  Up div_ui(unsigned long n) const {
    Up r;
    mpfr_div_ui(r.v_, v_, n, MPFR_RNDU);
    return r;
  }
  Up mul_2si(long e) const {
    Up r;
    mpfr_mul_2si(r.v_, v_, e, MPFR_RNDU);
    return r;
  }
  double to_double() const { return mpfr_get_d(v_, MPFR_RNDU); }

 private:
  mpfr_t v_;
};

}  // namespace

MpfrExp::MpfrExp(mpfr_prec_t p, int levels) : p_(p) {
  if (p < MPFR_PREC_MIN || p > MPFR_PREC_MAX / 2) {
    throw std::invalid_argument("MpfrExp: precision out of range");
  }
  if (levels < 0 || levels > 5) throw std::invalid_argument("MpfrExp: levels must be in 0..5");
  if (levels == 0) levels = p < 100 ? 3 : p <= 400 ? 4 : 5;  // measured fastest
  levels_ = levels;
  w_ = p + kGuardBits;
  wr_ = w_ + 2;
  const mpfr_prec_t ln2_prec = w_ + 48;
  const long B = 8L * levels_ + 1;

  mpfr_init2(ln2_, ln2_prec);
  mpfr_const_log2(ln2_, MPFR_RNDN);
  mpfr_init2(kln2_, ln2_prec + 64);
  mpfr_init2(r_, wr_);
  mpfr_init2(d_, 64);

  // Taylor degree: the least N >= 2 with 2 sigma^{N+1}/(N+1)! <= 2^{-w-4} (checked rigorously
  // below; here a double estimate with margin).
  const double log2_sigma = -static_cast<double>(B) + 1e-6;
  int N = 2;
  for (;; ++N) {
    const double log2_tail = 1.0 + (N + 1) * log2_sigma - std::lgamma(N + 2.0) / std::log(2.0);
    if (log2_tail <= -static_cast<double>(w_) - 4.5) break;
  }
  degree_ = N;
  const long log2_N = static_cast<long>(std::ceil(std::log2(static_cast<double>(N))));

  // Fixed-point limbs: h_n is multiplied by s^n (|s| <= 2^-B), so an absolute error 2^{-64 L_n}
  // in h_n costs 2^{-64 L_n - n B}: L_n >= (w + 8 + log2 N - n B)/64. Also 64 L_n >= log2(n!) + 3
  // so that the truncated c_n stays far above |s h_{n+1}| (no borrow in c_n - |s| h_{n+1}).
  mpfr_init2(s_, wr_ + 2);
  limbs_ = static_cast<int>((wr_ + 2 + 63) / 64);  // = limbs of s_
  fx_limbs_.assign(N + 1, 0);
  for (int n = 2; n <= N; ++n) {
    const long need = static_cast<long>(w_) + 8 + log2_N - n * B;
    const long log2_fact = static_cast<long>(std::ceil(std::lgamma(n + 1.0) / std::log(2.0)));
    long L = std::max<long>((need + 63) / 64, (log2_fact + 3 + 63) / 64);
    L = std::clamp<long>(L, 1, limbs_);
    fx_limbs_[n] = static_cast<int>(L);
  }
  for (int n = N - 1; n >= 2; --n) fx_limbs_[n] = std::max(fx_limbs_[n], fx_limbs_[n + 1]);
  coef_fx_.assign(static_cast<std::size_t>(N + 1) * limbs_, 0);
  {
    mpz_t num, fac;
    mpz_init(num);
    mpz_init(fac);
    for (int n = 2; n <= N; ++n) {
      mpz_set_ui(num, 1);
      mpz_mul_2exp(num, num, 64UL * limbs_);
      mpz_fac_ui(fac, n);
      mpz_tdiv_q(num, num, fac);  // floor(2^{64 Lw}/n!) < 2^{64 Lw}
      mpz_export(&coef_fx_[static_cast<std::size_t>(n) * limbs_], nullptr, -1, sizeof(mp_limb_t), 0,
                 0, num);
    }
    mpz_clear(num);
    mpz_clear(fac);
  }
  s_fx_.assign(limbs_, 0);
  prod_fx_.assign(2 * static_cast<std::size_t>(limbs_), 0);
  h_fx_[0].assign(limbs_, 0);
  h_fx_[1].assign(limbs_, 0);
  pi_fx_[0].assign(limbs_ + 1, 0);
  pi_fx_[1].assign(limbs_ + 1, 0);
  v_fx_.assign(limbs_, 0);
  frac_bits_ = 64L * limbs_ - 2;
  one_fx_.assign(limbs_, 0);
  one_fx_[limbs_ - 1] = mp_limb_t{1} << 62;  // 2^F

  // Tables in fixed point with F = 64 Lw - 2 fraction bits: level t (1-based) holds
  // RN(e^{i 2^{-8t}} 2^F) (error <= 3/4 2^-F: exp rounded to F + 2 bits, then to an integer),
  // |i| <= 90 for t = 1, |i| <= 128 otherwise.
  offset_.resize(levels_);
  base_.resize(levels_);
  {
    std::size_t entries = 0;
    for (int t = 0; t < levels_; ++t) {
      offset_[t] = t == 0 ? 90 : 128;
      base_[t] = static_cast<long>(entries);
      entries += 2 * offset_[t] + 1;
    }
    table_fx_.assign(entries * limbs_, 0);
    mpfr_t arg, value;
    mpz_t z;
    mpfr_init2(arg, 64);
    mpfr_init2(value, frac_bits_ + 2);
    mpz_init(z);
    for (int t = 0; t < levels_; ++t) {
      for (long i = -offset_[t]; i <= offset_[t]; ++i) {
        mpfr_set_si_2exp(arg, i, -8 * (t + 1), MPFR_RNDN);  // exact
        mpfr_exp(value, arg, MPFR_RNDN);
        mpfr_mul_2si(value, value, frac_bits_, MPFR_RNDN);
        mpfr_get_z(z, value, MPFR_RNDN);
        std::size_t count = 0;
        mpz_export(&table_fx_[(base_[t] + i + offset_[t]) * limbs_], &count, -1, sizeof(mp_limb_t),
                   0, 0, z);
        if (count > static_cast<std::size_t>(limbs_)) throw std::logic_error("MpfrExp: table");
      }
    }
    mpz_clear(z);
    mpfr_clear(value);
    mpfr_clear(arg);
  }

  // The proved bound (file comment of mpfr_exp.hpp), with upward rounding throughout.
  const Up sigma = Up::pow2(-B) + Up::pow2(-55);
  std::vector<Up> inv_fact(N + 2);
  inv_fact[0] = Up::of(1.0);
  for (int n = 1; n <= N + 1; ++n) inv_fact[n] = inv_fact[n - 1].div_ui(n);
  std::vector<Up> HB(N + 1);  // HB_n >= |H_n|
  HB[N] = inv_fact[N];
  for (int n = N - 1; n >= 1; --n) HB[n] = inv_fact[n] + sigma * HB[n + 1];
  // Fixed point, n = N-1 .. 2: |S_n - |s|| <= 2^{-64 Lw} + 2^{-64 L_n} (truncations of s), the
  // coefficient and the product are truncated to L_n limbs (2^{-64 L_n} each).
  Up e = Up::pow2(-64L * fx_limbs_[N]);  // e_N
  for (int n = N - 1; n >= 2; --n) {
    const Up unit = Up::pow2(-64L * fx_limbs_[n]);
    const Up hb = HB[n + 1] + e;
    e = sigma * e + unit * (Up::of(2.0) * hb + Up::of(2.0));
  }
  // n = 1 (c_1 = 1 exact) and u = s h_1 in fixed point at Lw limbs, the same recurrence.
  const Up unit_w = Up::pow2(-64L * limbs_);
  e = sigma * e + unit_w * (Up::of(2.0) * (HB[2] + e) + Up::of(2.0));  // e_1
  const Up hb1 = HB[1] + e;
  const Up alpha_u = sigma * e + unit_w * (Up::of(2.0) * hb1 + Up::of(2.0));
  Up sigma_pow = Up::of(1.0);
  for (int n = 0; n <= N; ++n) sigma_pow = sigma_pow * sigma;
  const Up tau = Up::of(2.0) * sigma_pow * inv_fact[N + 1];
  const Up exp_sigma = Up::of(1.0) + Up::of(2.0) * sigma;  // e^sigma <= 1 + 2 sigma, sigma < 1
  const Up alpha_rel = (alpha_u + tau) * exp_sigma;
  // Fixed point with F fraction bits: every value (entries, partial products, Pi (1 + u)) lies in
  // [e^-0.353, e^0.353] subset [0.70, 1.43], so an absolute error 2^-F is a relative one of at
  // most 1.5 2^-F. T entries and T - 1 truncated products (the product by the constant 1 when no
  // index is nonzero is exact), then Pi |u| truncated.
  const Up unit_f = Up::pow2(-frac_bits_) * Up::of(1.5);
  const Up m_a = unit_f * Up::of(2.0 * levels_ - 1);
  const Up pi = m_a + m_a * m_a;  // (1 + a)^m - 1 <= e^{ma} - 1 <= ma + (ma)^2 for ma <= 1
  const Up rho = Up::pow2(40 - static_cast<long>(ln2_prec)) + Up::pow2(-static_cast<long>(wr_) - 2);
  const Up rho_rel = rho + rho * rho;  // e^rho - 1
  const Up fin_term = unit_f;
  const Up A = pi + alpha_rel + pi * alpha_rel + fin_term;
  const Up eps = A + rho_rel + A * rho_rel;
  error_bound_ulps_ = (Up::of(0.5) + eps.mul_2si(p)).to_double();
  if (!(error_bound_ulps_ < 0.52)) {
    throw std::logic_error("MpfrExp: error bound " + std::to_string(error_bound_ulps_) +
                           " ulp is not below 0.52 (internal parameter choice)");
  }
}

MpfrExp::~MpfrExp() {
  mpfr_clear(ln2_);
  mpfr_clear(kln2_);
  mpfr_clear(r_);
  mpfr_clear(s_);
  mpfr_clear(d_);
}

void MpfrExp::exp(mpfr_ptr rop, mpfr_srcptr x) {
  if (mpfr_get_prec(rop) != p_) {
    throw std::invalid_argument("MpfrExp::exp: result precision differs from the table precision");
  }
  if (!mpfr_regular_p(x) || mpfr_get_exp(x) > 40) {
    mpfr_exp(rop, x, MPFR_RNDN);
    return;
  }
  // 1. k = round(x / ln 2); |x| < 2^40 so |k| < 2^41 and |x - k ln2| < 0.348.
  const double kd = std::nearbyint(mpfr_get_d(x, MPFR_RNDN) * kInvLn2);
  const long k = static_cast<long>(kd);
  if (k < mpfr_get_emin() + 1 || k > mpfr_get_emax() - 2) {
    mpfr_exp(rop, x, MPFR_RNDN);
    return;
  }
  if (k == 0) {
    mpfr_set(r_, x, MPFR_RNDN);
  } else {
    mpfr_mul_si(kln2_, ln2_, k, MPFR_RNDN);  // exact
    mpfr_sub(r_, x, kln2_, MPFR_RNDN);
  }
  // 2. Table indices from the double of r; s = r - D exactly.
  const int Lw = limbs_;
  // i_t = round(rem 2^{8t}) by the 1.5 2^52 trick (round to nearest, |rem 2^{8t}| < 2^51);
  // rem -= i_t 2^{-8t} is exact (Sterbenz); D = Dint 2^{-8T}, |Dint| < 2^{8T-1}.
  constexpr double kRound = 6755399441055744.0;
  static constexpr double kScale[5] = {0x1p8, 0x1p16, 0x1p24, 0x1p32, 0x1p40};
  static constexpr double kInvScale[5] = {0x1p-8, 0x1p-16, 0x1p-24, 0x1p-32, 0x1p-40};
  double rem = mpfr_get_d(r_, MPFR_RNDN);
  long d_int = 0;
  const mp_limb_t* entry[5];
  int n_entries = 0;
  for (int t = 0; t < levels_; ++t) {
    const double i = (rem * kScale[t] + kRound) - kRound;
    d_int = d_int * 256 + static_cast<long>(i);
    if (i != 0.0) {
      rem -= i * kInvScale[t];
      entry[n_entries++] = &table_fx_[(base_[t] + static_cast<long>(i) + offset_[t]) * Lw];
    }
  }
  if (d_int != 0) {
    mpfr_set_si_2exp(d_, d_int, -8L * levels_, MPFR_RNDN);  // exact
    mpfr_sub(s_, r_, d_, MPFR_RNDN);                        // exact (precision wr + 2 suffices)
  } else {
    mpfr_set(s_, r_, MPFR_RNDN);  // exact
  }
  // 3. Fixed-point Horner for h_{N-1} .. h_2, then h_1 = 1 + s h_2 and u = s h_1.
  const int N = degree_;
  mp_limb_t* S = s_fx_.data();
  const bool s_negative = mpfr_sgn(s_) < 0;
  std::fill(S, S + Lw, mp_limb_t{0});
  if (!mpfr_zero_p(s_)) {  // S = floor(|s| 2^{64 Lw}) = M >> -EXP(s), EXP(s) <= -40
    const auto* M = static_cast<const mp_limb_t*>(mpfr_custom_get_significand(s_));
    const long shift = -static_cast<long>(mpfr_get_exp(s_));
    const long drop = shift / 64;
    const unsigned bits = static_cast<unsigned>(shift % 64);
    if (drop < Lw) {
      if (bits != 0) {
        mpn_rshift(S, M + drop, Lw - drop, bits);
      } else {
        mpn_copyi(S, M + drop, Lw - drop);
      }
    }
  }
  const mp_limb_t* h = &coef_fx_[static_cast<std::size_t>(N) * Lw + (Lw - fx_limbs_[N])];
  int lh = fx_limbs_[N];
  for (int n = N - 1; n >= 2; --n) {
    const int L = fx_limbs_[n];  // L >= lh
    mpn_mul(prod_fx_.data(), S + (Lw - L), L, h, lh);
    const mp_limb_t* top = prod_fx_.data() + lh;  // the top L limbs of the product
    const mp_limb_t* c = &coef_fx_[static_cast<std::size_t>(n) * Lw + (Lw - L)];
    mp_limb_t* out = h_fx_[n & 1].data();
    if (s_negative) {
      mpn_sub_n(out, c, top, L);  // no borrow: c_n > |s| h_{n+1}
    } else {
      mpn_add_n(out, c, top, L);  // no carry: h_n < 1
    }
    h = out;
    lh = L;
  }
  // n = 1 and u at Lw limbs: P1 = |s| h_2, h_1 = 1 +- P1, |u| = |s| h_1 = S +- |s| P1.
  mp_limb_t* P1 = h_fx_[0].data() == h ? h_fx_[1].data() : h_fx_[0].data();
  mpn_mul(prod_fx_.data(), S, Lw, h, lh);
  mpn_copyi(P1, prod_fx_.data() + lh, Lw);
  mpn_mul_n(prod_fx_.data(), S, P1, Lw);
  mp_limb_t* U = h_fx_[0].data() == h ? h_fx_[0].data() : h_fx_[1].data();  // h is dead now
  if (s_negative) {
    mpn_sub_n(U, S, prod_fx_.data() + Lw, Lw);  // S (1 - P1) >= 0
  } else {
    mpn_add_n(U, S, prod_fx_.data() + Lw, Lw);  // no carry: |u| < 2^-39
  }
  // 4. V = Pi (1 + u) in fixed point (F fraction bits), rop = RN_p(V 2^{k - F}).
  const mp_limb_t* pi = n_entries > 0 ? entry[0] : one_fx_.data();
  for (int j = 1; j < n_entries; ++j) {
    mp_limb_t* out = pi_fx_[j & 1].data();
    mpn_mul_n(prod_fx_.data(), pi, entry[j], Lw);
    mpn_rshift(out, prod_fx_.data() + (Lw - 1), Lw + 1, 62);  // >> F; the top limb is 0
    pi = out;
  }
  mpn_mul_n(prod_fx_.data(), pi, U, Lw);  // Pi |u| 2^{F + 64 Lw}
  if (s_negative) {
    mpn_sub_n(v_fx_.data(), pi, prod_fx_.data() + Lw, Lw);
  } else {
    mpn_add_n(v_fx_.data(), pi, prod_fx_.data() + Lw, Lw);  // no carry: V < 1.43 2^F
  }
  mpfr_set_z_2exp(rop, mpz_roinit_n(&z_view_, v_fx_.data(), Lw), k - frac_bits_, MPFR_RNDN);
}

}  // namespace ntp

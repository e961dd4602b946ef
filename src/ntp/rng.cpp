#include "ntp/rng.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "ntp/errors.hpp"

namespace ntp {

namespace {

// ln 2 split as in fdlibm: kLn2Hi has 32 significant bits, so k * kLn2Hi is exact for |k| < 2^21.
constexpr double kLn2Hi = 0x1.62e42feep-1;
constexpr double kLn2Lo = 0x1.a39ef35793c76p-33;
constexpr double kInvLn2 = 0x1.71547652b82fep+0;    // nearest double to 1/ln 2
constexpr double kSqrtHalf = 0x1.6a09e667f3bcdp-1;  // nearest double to sqrt(1/2)

// Terms of the atanh series after the linear one: with |s| <= 0.1716, s^2 <= 0.0295 and the
// omitted tail is below 0.0295^15 < 2^-76 relative to log(1+f).
constexpr int kLogTerms = 14;
// Terms of the exp Taylor series: |r| <= 0.347, 0.347^19 / 19! < 2^-80.
constexpr int kExpTerms = 18;

// Beyond these exp overflows to inf / underflows to 0 (ln of DBL_MAX; ln of half the smallest
// subnormal).
constexpr double kExpOverflow = 0x1.62e42fefa39efp+9;    // 709.782712893384
constexpr double kExpUnderflow = -0x1.74910d52d3051p+9;  // -745.133219101941

std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

double portable_log(double x) {
  if (std::isnan(x)) return x;
  if (x < 0) return std::numeric_limits<double>::quiet_NaN();
  if (x == 0) return -std::numeric_limits<double>::infinity();
  if (std::isinf(x)) return x;
  int e = 0;
  double m = std::frexp(x, &e);  // exact: x = m 2^e, m in [1/2, 1), subnormals included
  if (m < kSqrtHalf) {
    m *= 2.0;  // exact
    --e;
  }
  // m in [sqrt(1/2), sqrt(2)): f = m - 1 is exact (Sterbenz), |f| <= 0.415.
  const double f = m - 1.0;
  const double s = f / (2.0 + f);  // log(1+f) = 2 atanh(s)
  const double z = s * s;
  // R = 2z/3 + 2z^2/5 + ... + 2z^K/(2K+1), so that 2 atanh(s) = 2s + s R.
  double r = 2.0 / (2.0 * kLogTerms + 1.0);
  for (int k = kLogTerms - 1; k >= 1; --k) r = 2.0 / (2.0 * k + 1.0) + z * r;
  r *= z;
  // fdlibm's rearrangement: 2s = f - s f, so log(1+f) = f - (hfsq - s (hfsq + R)), hfsq = f^2/2;
  // the correction term is O(f^2) and the leading f is exact, which keeps the error below 1 ulp.
  const double hfsq = 0.5 * f * f;
  const double dk = static_cast<double>(e);
  return dk * kLn2Hi - ((hfsq - (s * (hfsq + r) + dk * kLn2Lo)) - f);
}

double portable_exp(double x) {
  if (std::isnan(x)) return x;
  if (x > kExpOverflow) return std::numeric_limits<double>::infinity();
  if (x < kExpUnderflow) return 0.0;
  // k = nearest integer to x / ln 2 (floor is exact); r = x - k ln 2 with |r| <~ ln2 / 2.
  const double kd = std::floor(x * kInvLn2 + 0.5);
  const double r = (x - kd * kLn2Hi) - kd * kLn2Lo;
  // e^r = 1 + r (1 + r/2 (1 + r/3 (... (1 + r/N)))).
  double q = 1.0;
  for (int n = kExpTerms; n >= 1; --n) q = 1.0 + (r / n) * q;
  return std::ldexp(q, static_cast<int>(kd));  // exact unless the result is subnormal
}

std::uint64_t splitmix64(std::uint64_t& state) {
  state += 0x9E3779B97F4A7C15ULL;
  std::uint64_t z = state;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

Rng::Rng(std::uint64_t seed, std::uint64_t stream) {
  // Mix the stream number into the seed, then fill the state with four splitmix64 outputs; the
  // outputs of four consecutive splitmix64 states are never all zero (the finaliser is a
  // bijection).
  std::uint64_t t = stream;
  std::uint64_t x = seed ^ splitmix64(t);
  for (auto& word : s_) word = splitmix64(x);
}

std::uint64_t Rng::next_u64() {
  // xoshiro256** 1.0 (Blackman and Vigna, 2018).
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Rng::uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

double Rng::uniform_positive() {
  for (;;) {
    const double u = uniform();
    if (u > 0.0) return u;
  }
}

std::uint64_t Rng::uniform_int(std::uint64_t n) {
  if (n == 0) throw InternalError("Rng::uniform_int: n must be at least 1, got 0");
  // Accept r >= 2^64 mod n: the accepted range has a multiple of n values, so r % n is uniform.
  const std::uint64_t threshold = (0 - n) % n;
  for (;;) {
    const std::uint64_t r = next_u64();
    if (r >= threshold) return r % n;
  }
}

double Rng::normal() {
  if (has_spare_normal_) {
    has_spare_normal_ = false;
    return spare_normal_;
  }
  // Marsaglia polar method: (u, v) uniform in the unit disc; u, v are multiples of 2^-52, exact.
  double u = 0.0, v = 0.0, s = 0.0;
  do {
    u = 2.0 * uniform() - 1.0;
    v = 2.0 * uniform() - 1.0;
    s = u * u + v * v;
  } while (s >= 1.0 || s == 0.0);
  const double f = std::sqrt(-2.0 * portable_log(s) / s);
  spare_normal_ = v * f;
  has_spare_normal_ = true;
  return u * f;
}

double Rng::gamma(double alpha) {
  if (!(alpha > 0.0) || std::isinf(alpha)) {
    throw InternalError("Rng::gamma: alpha must be positive and finite, got " +
                        std::to_string(alpha));
  }
  if (alpha < 1.0) {
    // Gamma(alpha) = Gamma(alpha + 1) U^(1/alpha) (Marsaglia and Tsang, section 6).
    const double g = gamma(alpha + 1.0);
    const double u = uniform_positive();
    return g * portable_exp(portable_log(u) / alpha);
  }
  // Marsaglia and Tsang (2000), "A simple method for generating gamma variables".
  const double d = alpha - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    double x = 0.0, v = 0.0;
    do {
      x = normal();
      v = 1.0 + c * x;
    } while (v <= 0.0);
    v = v * v * v;
    const double u = uniform_positive();
    const double x2 = x * x;
    if (u < 1.0 - 0.0331 * x2 * x2) return d * v;  // squeeze
    if (portable_log(u) < 0.5 * x2 + d * (1.0 - v + portable_log(v))) return d * v;
  }
}

std::vector<double> Rng::dirichlet(std::int64_t k, double alpha) {
  if (k < 1) throw InternalError("Rng::dirichlet: k must be at least 1, got " + std::to_string(k));
  std::vector<double> g(static_cast<std::size_t>(k));
  double sum = 0.0;
  for (auto& x : g) {
    x = gamma(alpha);
    sum += x;
  }
  if (!(sum > 0.0) || std::isinf(sum)) {
    std::fill(g.begin(), g.end(), 1.0 / static_cast<double>(k));
    return g;
  }
  for (auto& x : g) x /= sum;
  return g;
}

std::vector<std::int32_t> Rng::subset(std::int64_t n, std::int64_t k) {
  if (k < 0 || k > n || n > std::numeric_limits<std::int32_t>::max()) {
    throw InternalError("Rng::subset: need 0 <= k <= n < 2^31, got n = " + std::to_string(n) +
                        ", k = " + std::to_string(k));
  }
  // Floyd's algorithm: for t = n-k .. n-1 pick r uniform in [0, t]; take r unless already taken,
  // else t. Every k-subset is equally likely. Membership: a sorted vector for small k, flags else.
  std::vector<std::int32_t> out;
  out.reserve(static_cast<std::size_t>(k));
  if (k <= 64) {
    for (std::int64_t t = n - k; t < n; ++t) {
      auto r = static_cast<std::int32_t>(uniform_int(static_cast<std::uint64_t>(t) + 1));
      auto it = std::lower_bound(out.begin(), out.end(), r);
      if (it != out.end() && *it == r) {
        r = static_cast<std::int32_t>(t);
        it = std::lower_bound(out.begin(), out.end(), r);
      }
      out.insert(it, r);
    }
    return out;
  }
  std::vector<bool> taken(static_cast<std::size_t>(n), false);
  for (std::int64_t t = n - k; t < n; ++t) {
    auto r = static_cast<std::size_t>(uniform_int(static_cast<std::uint64_t>(t) + 1));
    if (taken[r]) r = static_cast<std::size_t>(t);
    taken[r] = true;
  }
  for (std::int64_t i = 0; i < n; ++i) {
    if (taken[static_cast<std::size_t>(i)]) out.push_back(static_cast<std::int32_t>(i));
  }
  return out;
}

}  // namespace ntp

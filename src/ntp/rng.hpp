#pragma once
/** @file rng.hpp
 * A portable, seeded random number generator whose outputs are bit-identical on every IEEE-754
 * platform and compiler (given -ffp-contract=off, which the reference build sets).
 *
 * Why not <random>: the std distributions (normal, uniform_real, gamma, ...) are
 * implementation-defined, so the same seed gives different instances under libstdc++, libc++ and
 * MSVC. Here every floating-point result is computed only from the correctly rounded IEEE basic
 * operations (+ - * / sqrt) and the exact operations frexp, ldexp, floor; std::log/std::exp are
 * never called (libm results differ between platforms in the last bit).
 *
 * Engine: xoshiro256** (Blackman and Vigna), its state seeded by splitmix64.
 */
#include <array>
#include <cstdint>
#include <vector>

namespace ntp {

/**
 * The natural logarithm from basic operations only, so it is bit-identical everywhere.
 * x = 2^e * m with m in [sqrt(1/2), sqrt(2)) (frexp, exact); f = m - 1 (exact);
 * log(1 + f) = 2 atanh(s), s = f/(2 + f), as in fdlibm's e_log.c but with the Taylor series of
 * atanh instead of a minimax polynomial; log x = e ln2_hi + (log(1+f) + e ln2_lo). Error < 2 ulp
 * (tested against std::log). log(0) = -inf, log(x < 0) = NaN, log(inf) = inf, log(NaN) = NaN.
 */
double portable_log(double x);

/**
 * The exponential from basic operations only: x = k ln2 + r, |r| <= ln2/2 (Cody-Waite with a
 * two-part ln2), exp(r) by its Taylor series, times 2^k (ldexp). Error a few ulp (tested against
 * std::exp). Overflows to inf above ~709.78, underflows to 0 below ~-745.13.
 */
double portable_exp(double x);

/** One step of splitmix64 (Steele, Lea, Flood): advances `state` and returns the next output. */
std::uint64_t splitmix64(std::uint64_t& state);

/**
 * xoshiro256** seeded by splitmix64, with portable distributions. Two generators with the same
 * (seed, stream) produce the same sequence everywhere; different streams of one seed are
 * statistically independent sequences (used for "embeddings", "supports", "probabilities" so that
 * changing one parameter does not reshuffle the other parts of an instance).
 */
class Rng {
 public:
  explicit Rng(std::uint64_t seed, std::uint64_t stream = 0);

  /** The next 64 raw bits. */
  std::uint64_t next_u64();

  /** Uniform on [0, 1): the top 53 bits times 2^-53 (every value a multiple of 2^-53). */
  double uniform();

  /** Uniform on (0, 1): as uniform() but 0 is redrawn. */
  double uniform_positive();

  /** Uniform integer in [0, n), n >= 1, unbiased (rejection of the top partial block). */
  std::uint64_t uniform_int(std::uint64_t n);

  /** Standard normal N(0, 1) by the Marsaglia polar method (pairs; no sin/cos). */
  double normal();

  /**
   * Gamma(alpha, 1), alpha > 0, by Marsaglia and Tsang (2000). For alpha < 1 uses the boost
   * Gamma(alpha) = Gamma(alpha + 1) U^(1/alpha) with U^(1/alpha) = exp(log(U)/alpha) through
   * portable_exp/portable_log (may underflow to 0 for very small alpha).
   */
  double gamma(double alpha);

  /**
   * A Dirichlet(alpha, ..., alpha) vector of length k >= 1: independent Gamma(alpha) draws
   * normalised by their sum (summed left to right). If every draw underflowed to 0 (only for tiny
   * alpha) the result is uniform 1/k.
   */
  std::vector<double> dirichlet(std::int64_t k, double alpha);

  /**
   * A uniformly random subset of size k of {0, ..., n-1} (0 <= k <= n), in ascending order: the
   * first k entries of a partial Fisher-Yates shuffle, then sorted.
   */
  std::vector<std::int32_t> subset(std::int64_t n, std::int64_t k);

 private:
  std::array<std::uint64_t, 4> s_{};
  bool has_spare_normal_ = false;
  double spare_normal_ = 0.0;
};

}  // namespace ntp

#pragma once
/** @file instance.hpp
 * The NTP data model of theory.md §1, in two forms:
 *  - InstanceData: the exact instance (every number an exact rational), as read from a file or made
 *    by a generator; validated; the source of every conversion and of exact certificates;
 *  - Instance<S>: the same instance converted (correctly rounded) to a scalar type S for computing.
 */
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ntp/errors.hpp"
#include "ntp/rational.hpp"
#include "ntp/scalar.hpp"

namespace ntp {

/** Documented size limits (README "Limits"); larger inputs are refused before any allocation. */
struct SizeLimits {
  static constexpr std::int64_t kMaxVocab = 1'000'000;
  static constexpr std::int64_t kMaxDim = 100'000;
  static constexpr std::int64_t kMaxContexts = 10'000'000;
  /** V*d (entries of W), V*m (entries of the logits) and d*m (entries of Hbar) each at most this.
   */
  static constexpr std::int64_t kMaxMatrixEntries = std::int64_t{1} << 27;
};

/**
 * |sum - 1| allowed for the probabilities of a context and for the context weights, when they are
 * given as numbers (counts are exact). Within it the values are renormalised exactly (divided by
 * their exact sum); beyond it the input is rejected. 1e-9 accepts decimal data rounded to double.
 */
inline constexpr double kSumTolerance = 1e-9;

/** Embedding entries must satisfy |h_{j,i}| <= 2^kEmbeddingLimitLog2 (squares and GEMM sums then
 * stay far inside every supported type's range). */
inline constexpr int kEmbeddingLimitLog2 = 32;

/** One context j: embedding h_j, weight pi_j, support S_j with probabilities p_{j,z} (exact). */
struct ContextData {
  std::vector<Rational> embedding;      ///< h_j, d entries
  Rational weight;                      ///< pi_j (normalised: the weights sum to 1 exactly)
  std::vector<std::int32_t> tokens;     ///< S_j in file order, ids in [0, V)
  std::vector<Rational> probabilities;  ///< p_{j,z}, same order, > 0, sum exactly 1
  std::vector<std::uint64_t>
      counts;  ///< when the file gave counts (then weight/probabilities follow)
};

/** The exact instance. Invariants after validate_and_normalise(): see Instance file schema. */
struct InstanceData {
  std::int64_t vocab_size = 0;     ///< V
  std::int64_t embedding_dim = 0;  ///< d
  std::vector<ContextData> contexts;
  std::string name;
  std::string description;
  nlohmann::json extra;  ///< free-form, preserved (provenance: generator, seed, parameters)

  [[nodiscard]] std::int64_t num_contexts() const {
    return static_cast<std::int64_t>(contexts.size());
  }
  [[nodiscard]] std::int64_t support_nnz() const;
};

/** The problems of a shape (V, d, m) against SizeLimits: empty when it is within them. Used before
 * anything of that size is allocated. */
std::vector<Problem> size_problems(std::int64_t V, std::int64_t d, std::int64_t m);

/**
 * Checks every invariant and normalises weights/probabilities exactly (sums within kSumTolerance of
 * 1 are divided by their exact sum; counts become exact fractions). Collects every problem with its
 * JSON path and throws InvalidInput listing them all.
 */
void validate_and_normalise(InstanceData& data);

/** The instance in scalar type S. Supports are sorted by token id inside each context. */
template <class S>
struct Instance {
  std::int64_t V = 0;
  std::int64_t d = 0;
  std::int64_t m = 0;
  Matrix<S> Hbar;                    ///< d x m, column j = h_j
  Vector<S> pi;                      ///< m
  std::vector<std::int64_t> offset;  ///< m+1: context j owns entries [offset[j], offset[j+1])
  std::vector<std::int32_t> token;   ///< support tokens, ascending within a context
  Vector<S> prob;                    ///< p_{j,z}
  Vector<S> log_prob;                ///< log p_{j,z}, computed in S
  S entropy;                         ///< H = -sum_j pi_j sum_z p log p (theory.md §1)

  [[nodiscard]] std::int64_t support_size(std::int64_t j) const {
    return offset[j + 1] - offset[j];
  }
};

/** Converts the exact instance to S (each value correctly rounded once). */
template <class S>
Instance<S> to_scalar(const InstanceData& data);

/** Summary statistics for `ntpcheck info`. */
struct InstanceSummary {
  std::int64_t V = 0, d = 0, m = 0;
  std::int64_t support_min = 0, support_max = 0;
  double support_mean = 0;
  std::int64_t tokens_in_no_support = 0;  ///< ids that no context can emit
  bool all_one_hot = false;               ///< |S_j| = 1 for every j (H = 0, F = {0})
  bool some_support_not_full = false;     ///< the standing assumption S_j != [V] for some j
  double entropy = 0;                     ///< H in double
  double smoothness_L = 0;          ///< (1/2) lambda_max(sum_j pi_j h_j h_j^T) (theory.md §1)
  double smoothness_L_crude = 0;    ///< (1/2) max_j ||h_j||^2
  std::int64_t embedding_rank = 0;  ///< numerical rank of Hbar (double SVD)
  double rank_tolerance = 0;        ///< singular values above this count
  double max_embedding_norm = 0;
};

InstanceSummary summarize(const InstanceData& data);

/** The GD step size of the theorem's setting: eta = 1/(2L) with L from summarize(). */
double default_gd_eta(const InstanceSummary& s);

#define NTP_EXTERN_INSTANCE(S) extern template Instance<S> to_scalar<S>(const InstanceData&);
NTP_EXTERN_INSTANCE(float)
NTP_EXTERN_INSTANCE(double)
NTP_EXTERN_INSTANCE(long double)
NTP_EXTERN_INSTANCE(dd_real)
NTP_EXTERN_INSTANCE(qd_real)
NTP_EXTERN_INSTANCE(Float128)
NTP_EXTERN_INSTANCE(Mp50)
NTP_EXTERN_INSTANCE(Mpfr)
#undef NTP_EXTERN_INSTANCE

}  // namespace ntp

namespace ntp {

/**
 * Known-answer builder: h_j = e_j (d = m, orthonormal embeddings), uniform weights 1/m, the given
 * supports and probabilities (exact). theory.md §2 gives W* and W^mm in closed form for it.
 */
InstanceData basis_embedding_instance(std::int64_t V,
                                      const std::vector<std::vector<std::int32_t>>& supports,
                                      const std::vector<std::vector<Rational>>& probabilities);

/** Uniform probabilities 1/|S_j| on each support. */
std::vector<std::vector<Rational>> uniform_probabilities(
    const std::vector<std::vector<std::int32_t>>& supports);

}  // namespace ntp

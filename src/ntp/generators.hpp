#pragma once
/** @file generators.hpp
 * Seeded instance generators (the families of theory.md §2 and §5). Every generator is
 * deterministic across compilers and platforms (it draws from ntp::Rng only) and produces exact,
 * small rationals, so certificates can be verified in exact arithmetic:
 *  - Gaussian embeddings h_j ~ N(0, I/d), each entry rounded to the nearest multiple of 2^-16
 *    (kEmbeddingGrid), so every entry is an exact double and a dyadic rational;
 *  - probabilities p_j from a Dirichlet(alpha) draw turned into positive integer counts summing to
 *    about kProbabilityBudget, p_{j,z} = count_z / sum of counts (exact fractions);
 *  - weights pi_j = 1/m (except the corpus family, whose weights follow from its counts);
 *  - token ids 0-based, supports listed in ascending id order.
 * Each generator ends with validate_and_normalise(), sets name and description, and stores its
 * provenance in `extra`: {"generator": family, "seed": S, every effective parameter, ...}.
 *
 * Families (defaults in parentheses; -1 in an option means "family default"):
 *  - overparameterized  (V=8, d=12, m=10, |S_j|=min(3,V-1)): d >= m, Gaussian embeddings (rank m
 *    almost surely), uniformly random supports, Dirichlet(alpha) probabilities. Both conditions
 * hold [T Lemma 1]. Rejects d < m.
 *  - one-hot            (V=5, d=4, m=6): |S_j| = 1 (a uniformly random next token), Gaussian
 *    embeddings; H = 0 [T Remark 1].
 *  - paper-toy          (fixed V=5, d=2, m=3): supports {0,1,4}, {0,3,4}, {1,2,3} (the paper's
 *    {1,2,5}, {1,4,5}, {2,3,4}), Gaussian embeddings and Dirichlet probabilities [T App. A].
 *  - paper-main         (fixed V=10, d=60, m=50, |S_j|=6): the overparameterized construction at
 *    the paper's sizes [T App. A]; with seed 1 it is the project's main instance.
 *  - incompatible       (V=8, d=12, m=10, |S_j|=min(3,V-1) >= 2): contexts 0 and 1 have the same
 *    embedding and support but different probabilities, so (C) fails; the other embeddings are
 *    Gaussian with d >= m-1 (Hbar of rank m-1), so (6) holds. Rejects d < m-1.
 *  - inseparable        (V=6, d=8, m=8, other |S_j|=min(3,V-1)): h_1 = -h_0, S_0 = {a,b},
 *    S_1 = {a,c}, V >= 4, so (6b) is contradictory; Hbar of rank m-1, so (C) holds.
 *    Rejects V < 4 and d < m-1.
 *  - underparameterized (V=6, d=3, m=12, |S_j|=2): d < m, Gaussian embeddings, random
 *    (overlapping) supports; either condition may fail. Rejects d >= m.
 *  - corpus: contexts of a text file (corpus.hpp) with their next-token counts; embeddings
 *    "gaussian" (d = embedding_dim, default 16) or "one-hot" (d = m, h_j = e_j).
 */
#include <cstdint>
#include <string>
#include <vector>

#include "ntp/instance.hpp"

namespace ntp {

/** Embedding entries are multiples of this (2^-16). */
inline constexpr double kEmbeddingGrid = 0x1.0p-16;
/** Dirichlet draws become integer counts summing to about max(this, 2 |S_j|). */
inline constexpr std::int64_t kProbabilityBudget = 1000;

/** The options of `ntpcheck generate`. Sizes of -1 mean "the family's default". */
struct GeneratorOptions {
  std::string family;  ///< one of generator_families()
  std::uint64_t seed = 1;
  std::int64_t vocab_size = -1;     ///< V
  std::int64_t embedding_dim = -1;  ///< d
  std::int64_t num_contexts = -1;   ///< m
  std::int64_t support_size = -1;   ///< |S_j| (families with random supports)
  double dirichlet_alpha = 1.0;     ///< concentration of the probabilities, > 0 and finite
  // corpus family:
  std::string corpus_path;                    ///< text file (any bytes)
  std::string corpus_level = "word";          ///< "word" or "char" (TokenLevel)
  int context_length = 1;                     ///< t >= 1 preceding tokens
  std::string corpus_embedding = "gaussian";  ///< "gaussian" or "one-hot"
  std::int64_t max_contexts = -1;             ///< keep the most frequent contexts; -1 all
};

/**
 * Generates the instance the options describe. Same options give a bit-identical InstanceData on
 * every platform. Throws InvalidInput "invalid generator option: <field> <problem>, got <value>"
 * for bad options (unknown family, sizes <= 0 or beyond SizeLimits, support_size >= V, d outside
 * the family's promise, an unreadable corpus file, ...).
 */
InstanceData generate(const GeneratorOptions& options);

/** The family names, in the order of the documentation above. */
std::vector<std::string> generator_families();

/** A one-line description of a family for --help; throws InvalidInput for an unknown family. */
std::string generator_family_summary(const std::string& family);

/**
 * The instance an argument names: "FILE", "-" (standard input) or "@FAMILY[:SEED]" (a generated
 * instance with the family's defaults, e.g. "@paper-main" = seed 1). Throws InvalidInput (bad
 * family, seed not an integer in [0, 2^64), malformed file) or IoError (unreadable file).
 */
InstanceData load_instance(const std::string& arg);

/** A seed: decimal digits only, below 2^64. Throws InvalidInput "invalid option: <field> must be an
 * integer in [0, 2^64), got "<text>"". */
std::uint64_t parse_seed(const std::string& text, const std::string& field);

}  // namespace ntp

#pragma once
/** @file identify.hpp
 * `ntpcheck identify`: distribution equivalence of log-linear next-token predictors, recovery of
 * the linear map between equivalent ones, and the transfer of linear properties (theory.md §7c,
 * [I] = Marconato et al., "All or None", AISTATS 2025). Formats and rules: docs/identify.md.
 *
 * A predictor is a finite table of context embeddings f (M x n, column x = f(x)) and token
 * unembeddings g (M x V, column y = g(y)), with p(y|x) = softmax_y(f(x)^T g(y)). With a pivot token
 * y0 its log-odds matrix is
 *     Lambda(x, y) = log p(y|x) - log p(y0|x) = f(x)^T (g(y) - g(y0)),   Gd = [g(y) - g(y0)]_y,
 * and two predictors are distribution-equivalent iff their Lambda agree (same n, V, y0; M may
 * differ). Symmetries [D]: (f, g) -> (A f, A^{-T} g + c 1^T) for invertible A and any c.
 *
 * Identified parts [I]/[D] (F = span{f(x)}, G = span{g(y) - g(y0)}, P_X the orthogonal projection):
 *   - fhat = P_G f (the components of f inside G), and f - fhat is invisible (adding any vector
 *     orthogonal to G to f(x) leaves Lambda unchanged);
 *   - gtil = P_F Gd (the components of g inside F), Gd - gtil invisible likewise;
 *   - rank(fhat) = rank(Lambda) = r, S = span(fhat) (r-dimensional), and Lambda = fhat^T P_S Gd.
 * For equivalent predictors a, b the columns of fhat_a and fhat_b satisfy the same linear relations
 * (sum_x c_x fhat(x) = 0 iff sum_x c_x Lambda(x, .) = 0), so there is a unique linear map
 *     A_map = fhat_b fhat_a^+   (M_b x M_a, rank r, zero on S_a^perp),   A_map fhat_a = fhat_b,
 * and on the token side (A_map^+)^T P_{S_a} Gd_a = P_{S_b} Gd_b. Under diversity (F = G = R^M in
 * both, i.e. r = M_a = M_b) A_map is invertible and b = (A_map f_a, A_map^{-T} g_a + c 1^T)
 * exactly: the symmetry is recovered.
 *
 * Properties (each on the context embeddings f or the token embeddings g, vectors X = columns):
 *   - parallel:   the differences X(b_i) - X(a_i) of all pairs are parallel: rank[...] <= 1;
 *   - relational: an affine map with X(x'_i) = A_R X(x_i) + a_R for every pair (x_i, x'_i);
 *   - probe:      a linear probe with w^T X(x_i) + b = t_i for every item and target;
 *   - steering:   a vector v with X(x'_i) - X(x_i) = alpha_i v for every pair (alpha_i given).
 * The last three are "row space inclusion" tests rank[D; T] == rank D (D = [X(x_i); 1^T] or
 * alpha^T, T the targets); all four are invariant under X -> A X (A invertible) and under
 * translation, so under diversity they hold in all equivalent predictors or in none [I]. Without
 * diversity the invisible components can create or destroy them: identify() then constructs, from a
 * and its invisible components, an equivalent predictor of the same dimension where the property
 * fails.
 *
 * Arithmetic. Exact mode: every input is an exact rational (JSON numbers are the doubles they
 * denote) and every decision is exact. Float mode (--precision P): the log-odds comparison runs in
 * P with the tolerance, per entry,
 *     tau(x, y) = kEquivalenceTolFactor * u_P * ((M_a + 2) s_a(x, y) + (M_b + 2) s_b(x, y)) + T,
 *     s(x, y)   = sum_i |f_i(x)| (|g_i(y)| + |g_i(y0)|),
 * which bounds both the rounding of evaluating Lambda in P (gamma_{M+2} bound) and the change of
 * Lambda when every entry of an exactly equivalent pair is rounded once to P; T is the user's
 * stated accuracy (--tolerance, default 0; e.g. the training accuracy of fitted predictors). Ranks,
 * maps and properties in float mode are computed in double (Eigen SVD), a rank being the number of
 * singular values > kRankTolFactor * u_double * max(rows, cols) * sigma_max; map residuals are
 * judged relative to their target against kMapTolFactor * u_double * max(M_a, M_b, n) *
 * cond(fhat_a) (context side) and that times cond(A_map) (token side, which inverts A_map),
 * inconclusive above.
 */
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "ntp/errors.hpp"
#include "ntp/exact.hpp"
#include "ntp/scalar.hpp"
#include "ntp/verdict.hpp"

namespace ntp {

/** Named tolerance factors of float mode (see the file comment for the formulas). */
inline constexpr double kEquivalenceTolFactor = 4.0;
inline constexpr double kRankTolFactor = 64.0;
inline constexpr double kMapTolFactor = 64.0;

/** Size limits of a predictor file (exact arithmetic is cubic in these). */
inline constexpr std::int64_t kMaxPredictorDim = 4096;
inline constexpr std::int64_t kMaxPredictorEntries = std::int64_t{1} << 22;

/** A log-linear next-token predictor p(y|x) = softmax_y(f(x)^T g(y)) on finite tables. */
struct Predictor {
  std::string name;
  bool exact = false;  ///< the file says its values are exact rationals ("exact": true)
  RationalMatrix f;    ///< M x n, column x = f(x)
  RationalMatrix g;    ///< M x V, column y = g(y)
  [[nodiscard]] std::int64_t dim() const { return f.rows(); }
  [[nodiscard]] std::int64_t num_contexts() const { return f.cols(); }
  [[nodiscard]] std::int64_t vocab_size() const { return g.cols(); }
};

enum class PropertyKind { kParallel, kRelational, kProbe, kSteering };
enum class EmbeddingSpace { kContext, kToken };
/** What the property file claims about the pair (docs/identify.md "Decision rules"). */
enum class Expectation {
  kTransfers,  ///< "transfers": the property holds in b iff it holds in a
  kCanFail     ///< "can_fail": it holds in a, and some equivalent predictor of a violates it
};

std::string to_string(PropertyKind k);
std::string to_string(EmbeddingSpace s);
std::string to_string(Expectation e);

/** One linear property. Indices are context indices (space kContext) or token indices (kToken). */
struct Property {
  std::string name;
  std::string path;  ///< JSON path in its file ("properties[2]"), for messages
  PropertyKind kind = PropertyKind::kParallel;
  EmbeddingSpace space = EmbeddingSpace::kContext;
  Expectation expect = Expectation::kTransfers;
  /** parallel: (a_i, b_i) for X(b_i) - X(a_i); relational and steering: (x_i, x'_i). */
  std::vector<std::pair<std::int64_t, std::int64_t>> pairs;
  std::vector<std::int64_t> items;  ///< probe: the items x_i
  std::vector<Rational> values;     ///< probe: targets t_i; steering: strengths alpha_i
};

/** Exact, float, or exact when both predictors say "exact": true (else float). */
enum class Arithmetic { kAuto, kExact, kFloat };

struct IdentifyOptions {
  Arithmetic arithmetic = Arithmetic::kAuto;
  PrecisionSpec precision;  ///< float mode: the precision of the log-odds comparison
  std::int64_t pivot = 0;   ///< y0
  Rational tolerance = 0;   ///< T >= 0: stated accuracy of the log-odds (absolute)
};

struct IdentifyResult {
  nlohmann::json report;  ///< format "ntp-identify", version 1 (docs/identify.md)
  ExitCode exit_code = ExitCode::kAllHold;
};

/**
 * Decides distribution equivalence of a and b (theory.md §7c), recovers the map between their
 * identified parts, and decides the transfer of every property. Exit code: 0 equivalent and every
 * property statement holds (or is not applicable); 1 some checked statement is violated; 2 none
 * violated but something inconclusive. Throws InvalidInput for shape mismatches, a bad pivot, a
 * negative tolerance or property indices out of range (one line naming the field and the value).
 */
IdentifyResult identify(const Predictor& a, const Predictor& b, const std::vector<Property>& props,
                        const IdentifyOptions& opts);

/** A human summary of an ntp-identify report (a few lines per section). */
std::string format_identify(const nlohmann::json& report);

/** Parses and validates an "ntp-predictor" document; `source` names it in messages. */
Predictor read_predictor_json(const std::string& text, const std::string& source);
/** Reads a predictor file ("-" is standard input). */
Predictor read_predictor_file(const std::string& path);
/** Parses and validates an "ntp-property" document. */
std::vector<Property> read_property_json(const std::string& text, const std::string& source);
/** Reads a property file ("-" is standard input). */
std::vector<Property> read_property_file(const std::string& path);

/** The predictor as an ntp-predictor document (lossless: non-double rationals as strings). */
nlohmann::json predictor_to_json(const Predictor& p);
/** The properties as an ntp-property document. */
nlohmann::json properties_to_json(const std::vector<Property>& props);

/** Lambda(x, y) = f(x)^T (g(y) - g(y0)) exactly: an n x V matrix whose column y0 is 0. */
RationalMatrix log_odds(const Predictor& p, std::int64_t pivot);

/** Exact evaluation of one property on the columns of X (M x k). Throws on bad indices. */
bool property_holds(const Property& prop, const RationalMatrix& X);

// ---- Constructions (seeded; dyadic values, so every predictor is exact in double) ----

/** rows x cols matrix of multiples of 2^-bits in [-1, 1] (uniform integers over 2^bits). */
RationalMatrix random_dyadic_matrix(std::int64_t rows, std::int64_t cols, std::uint64_t seed,
                                    int bits = 4);
/** M x M integer matrix with det 1 (product of unit lower and upper triangular matrices with
 * entries in {-1, 0, 1}): invertible with an integer inverse, so A^{-T} g stays dyadic. */
RationalMatrix random_unimodular(std::int64_t M, std::uint64_t seed);
/** Exact inverse of a square matrix; throws InvalidInput when singular. */
RationalMatrix inverse(const RationalMatrix& a);
/** A random predictor with dyadic entries (diverse almost surely when n >= M and V - 1 >= M). */
Predictor random_predictor(std::int64_t M, std::int64_t n, std::int64_t V, std::uint64_t seed);
/** The symmetry (A f, A^{-T} g + c 1^T) [D]; A square invertible (exact), c of size M. */
Predictor apply_symmetry(const Predictor& p, const RationalMatrix& A,
                         const std::vector<Rational>& c);
/**
 * A predictor without diversity: f = Q f0 with Q (M x r) and f0 (r x n) random, so span F has
 * dimension r < M; g random (M x V). Its token embeddings have M - r invisible directions, and
 * after projecting g onto F the contexts have M - r invisible directions too.
 */
Predictor nondiverse_predictor(std::int64_t M, std::int64_t r, std::int64_t n, std::int64_t V,
                               std::uint64_t seed);

/** Two predictors fitted to one finite distribution table (trained_pair). */
struct TrainedPair {
  std::vector<std::vector<double>> table;  ///< n x V probabilities, rows sum to 1 (in double)
  Predictor a;
  Predictor b;
};

/**
 * A finite distribution table and two predictors fitted to it from different seeds and
 * dimensions. The table is softmax(f0^T g0) of a random base predictor of dimension n (computed
 * in double with log_sum_exp); its log-odds L = log T - log T(., y0) are computed in double. Each
 * fitted predictor takes random context embeddings f (M x n, M >= n) from its seed, solves
 * f^T Gd = L exactly (Gd = f (f^T f)^{-1} L, plus random components orthogonal to span F when
 * M > n), adds a random g(y0), and rounds g to double: its log-odds equal L up to that one
 * rounding. M = n gives a diverse predictor, M > n one without diversity. Requires 1 <= n <= V - 1,
 * M_a, M_b
 * >= n.
 */
TrainedPair trained_pair(std::int64_t n, std::int64_t V, std::int64_t dim_a, std::int64_t dim_b,
                         std::uint64_t seed_table, std::uint64_t seed_a, std::uint64_t seed_b);

}  // namespace ntp

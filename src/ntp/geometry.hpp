#pragma once
/** @file geometry.hpp
 * Geometry of next-token prediction with trained context embeddings (theory.md §7b, [G]; issue 9).
 *
 * Unconstrained-features model: logits L = W H with W (V x d) and H (d x m) both trained,
 * optionally with ridge (lambda/2)(||W||_F^2 + ||H||_F^2), which is CE(L) + lambda ||L||_* over
 * rank(L) <= d. The reference objects:
 *  - L_in: column j = centred in-support log-probabilities log p_{j,z} - mean_{z' in S_j} log
 * p_{j,z'} on S_j, 0 elsewhere;
 *  - L_mm = argmin ||L||_* over the feasible set C: L_{zj} = a_j (z in S_j), L_{vj} <= a_j - 1
 *    (v not in S_j); computed by ADMM and certified by an exactly feasible primal and a dual Y;
 *  - the proxy P = (I - 11^T/V) S (feasible, every gap 1), with the sufficient condition: the
 *    polar factor Q = U V^T of P has every off-support entry <= 0 => P is optimal [D].
 *
 * Dual bound [D] (the inequality the verifier checks): for any Y with zero column sums and
 * y_{vj} <= 0 off support, every L in C has
 *     ||L||_* ||Y||_2 >= <Y, L> = sum_j sum_{v notin S_j} (-y_{vj}) (a_j - L_{vj})
 *                              >= sum_{v notin S_j} (-y_{vj}),
 * so ||L_mm||_* >= sum(-y_off) / ||Y||_2.
 */
#include <Eigen/Core>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ntp/claims.hpp"
#include "ntp/instance.hpp"
#include "ntp/optimize.hpp"
#include "ntp/scalar.hpp"

namespace ntp {

/** The support matrix and its repeated patterns (rows: tokens, columns: contexts). */
struct SupportPatterns {
  std::int64_t V = 0;
  std::int64_t m = 0;
  Eigen::MatrixXd S;                            ///< V x m, S_{vj} = 1 iff v in S_j
  std::vector<std::int64_t> context_pattern;    ///< pattern id of each context (first-seen order)
  std::vector<std::vector<std::int32_t>> sets;  ///< the distinct support sets (ascending tokens)
  std::vector<std::int64_t> pattern_count;      ///< contexts per pattern
  std::vector<std::int64_t> token_group;        ///< group of each token (equal rows of S)
  std::vector<std::int64_t> group_count;        ///< tokens per group
};

SupportPatterns support_patterns(const InstanceData& data);

/** L_in in double (theory.md §7b): centred in-support log-probabilities, 0 off support. */
Eigen::MatrixXd l_in_double(const InstanceData& data);

/** L_in in S from Instance<S>::log_prob. */
template <class S>
Matrix<S> l_in(const Instance<S>& inst) {
  Matrix<S> L = Matrix<S>::Zero(inst.V, inst.m);
  for (std::int64_t j = 0; j < inst.m; ++j) {
    const auto b = inst.offset[static_cast<std::size_t>(j)];
    const auto e = inst.offset[static_cast<std::size_t>(j) + 1];
    S mean(0);
    for (auto k = b; k < e; ++k) mean += inst.log_prob(k);
    mean /= S(static_cast<int>(e - b));
    for (auto k = b; k < e; ++k)
      L(inst.token[static_cast<std::size_t>(k)], j) = inst.log_prob(k) - mean;
  }
  return L;
}

/** The proxy (I - 11^T/V) S in double (entries rounded once: 1 - |S_j|/V and -|S_j|/V). */
Eigen::MatrixXd proxy_logits(const SupportPatterns& sp);

/** Rigorous upper bounds (under the IEEE standard error model, round to nearest, no contraction)
 * from a double SVD plus a bound on its residual computed in long double with gamma_n terms. */
double spectral_norm_upper(const Eigen::MatrixXd& A);
double nuclear_norm_upper(const Eigen::MatrixXd& A);

/** Nuclear norm in double (sum of the computed singular values; no guarantee). */
double nuclear_norm(const Eigen::MatrixXd& A);

/** A certificate for min ||L||_* over C: data, checked by verify_nuclear_certificate. */
struct NuclearCertificate {
  Eigen::MatrixXd L;  ///< primal, every entry on the 2^-40 grid; exactly in C
  Eigen::MatrixXd Y;  ///< dual, on the 2^-40 grid; exact zero column sums, <= 0 off support
};

/** What the independent verifier found (every number an upper or lower bound as named). */
struct NuclearCertificateCheck {
  bool primal_feasible = false;  ///< L in C, checked exactly in rationals
  bool dual_feasible = false;    ///< zero column sums and y_off <= 0, checked exactly
  std::string problem;           ///< first failing entry when not feasible
  double primal_upper = 0;       ///< >= ||L||_*
  double dual_value = 0;         ///< sum(-y_off), rounded down
  double dual_norm_upper = 0;    ///< >= ||Y||_2
  double lower = 0;              ///< <= min over C of ||.||_*
  double gap = 0;                ///< primal_upper - lower
  double relative_gap = 0;       ///< gap / lower
};

/** Verifies a certificate against the supports (exact feasibility, rigorous bounds). */
NuclearCertificateCheck verify_nuclear_certificate(const SupportPatterns& sp,
                                                   const NuclearCertificate& c);

/** Rounds a candidate dual into an exact one: entries to the 2^-40 grid (off-support entries
 * toward zero then clipped at 0), then one in-support entry per column set to minus the sum of
 * the others (exact on the grid). */
Eigen::MatrixXd repair_dual(const SupportPatterns& sp, const Eigen::MatrixXd& Y);

/** Rounds a candidate primal into C exactly: a_j = grid-rounded mean of the in-support entries,
 * off-support entries grid-rounded and clamped to <= a_j - 1 (exact on the grid). */
Eigen::MatrixXd repair_primal(const SupportPatterns& sp, const Eigen::MatrixXd& L);

/** The proxy and its sufficient optimality condition (theory.md §7b). */
struct ProxyResult {
  Eigen::MatrixXd P;               ///< (I - 11^T/V) S
  Eigen::MatrixXd Q;               ///< polar factor U V^T of P
  double max_off_support_q = 0;    ///< max over off-support entries of Q
  double condition_tolerance = 0;  ///< rounding allowance for "<= 0"
  bool polar_condition = false;    ///< max_off_support_q <= condition_tolerance
  NuclearCertificate certificate;  ///< P repaired onto the grid, with Y = repaired Q
  NuclearCertificateCheck check;
};

ProxyResult analyze_proxy(const SupportPatterns& sp);

struct NuclearSolverOptions {
  std::int64_t max_iterations = 20000;
  double target_relative_gap = 1e-6;  ///< stop when the verified relative gap is below this
  std::int64_t check_every = 50;      ///< verify a repaired certificate every so many iterations
  double max_seconds = 60;
};

/** L_mm by ADMM on min ||M||_* + indicator_C'(M) in the compressed coordinates (equal rows of S
 * and equal columns merged with sqrt-count weights, which preserves an optimum: averaging over
 * the permutations of equal rows/columns keeps feasibility and does not raise ||.||_*). */
struct NuclearSolverResult {
  NuclearCertificate certificate;  ///< best verified certificate
  NuclearCertificateCheck check;
  std::int64_t iterations = 0;
  double seconds = 0;
  bool converged = false;           ///< target_relative_gap reached
  std::int64_t rows = 0, cols = 0;  ///< compressed problem size
};

NuclearSolverResult solve_l_mm(const SupportPatterns& sp, const NuclearSolverOptions& opt = {});

/** Projection of x onto {l : l_z = a (z in S), l_v <= a - g (v not in S)} with weights c > 0
 * (minimises sum c_i (l_i - x_i)^2); exact by sorting the breakpoints. */
Eigen::VectorXd project_column(const Eigen::VectorXd& x, const std::vector<std::uint8_t>& in,
                               const Eigen::VectorXd& c, double g);

// ---------------------------------------------------------------------------------------------
// Training of L = W H.

struct GeometryTrainOptions {
  OptimizerKind kind = OptimizerKind::kGD;
  std::int64_t steps = 20000;
  Rational eta = Rational(1);
  Rational lambda = Rational(0);  ///< ridge (lambda/2)(||W||^2 + ||H||^2)
  std::int64_t dim = -1;          ///< d of the trained model; -1: min(V, m)
  std::uint64_t seed = 1;
  double init_scale = 0.1;  ///< W, H entries sigma * N(0, 1) (portable Rng), on the 2^-30 grid
  Rational beta1 = Rational(9, 10);
  Rational beta2 = Rational(99, 100);
  Rational adam_eps = Rational(1, 100000000);
  int points_per_decade = 10;
  double max_seconds = 0;  ///< 0: no limit
};

/** One recorded step (values rounded to double; text in the run's precision). */
struct GeometryPoint {
  std::int64_t step = 0;
  double ce = 0, excess = 0, objective = 0, norm_w = 0, norm_h = 0, norm_l = 0, grad_norm = 0,
         min_gap = 0;
  std::string excess_text;
};

struct GeometryTrainResult {
  PrecisionSpec precision;
  GeometryTrainOptions options;
  std::int64_t dim = 0;
  double entropy = 0;
  bool has_out_of_support = false;
  std::vector<GeometryPoint> points;
  std::vector<Eigen::MatrixXd> L, W, H;  ///< at each recorded step, rounded to double
  std::int64_t diverged_at_step = -1;
  bool stopped_by_time = false;
  double horizon = 0;  ///< -log(smallest normal) of the run's type: e^{-R} underflows beyond
  double seconds = 0;
};

/** Trains L = W H in `precision` (MPFR: sets the process-wide precision). */
GeometryTrainResult train_geometry(const InstanceData& data, const GeometryTrainOptions& opt,
                                   const PrecisionSpec& precision);

template <class S>
GeometryTrainResult train_geometry_typed(const InstanceData& data, const GeometryTrainOptions& opt);

/** The regularization path: for each lambda (descending), min CE(L) + lambda ||L||_* (the ridge
 * problem in convex form, equal to it when d >= rank) by accelerated proximal gradient,
 * warm-started from L = 0, in double; W = U Sigma^{1/2}, H = Sigma^{1/2} V^T. `seed` is unused
 * (kept for a random start); `dim` only decides rank_fits. */
struct RidgeGeometryPoint {
  double lambda = 0;
  double objective = 0, excess = 0, norm_l = 0;
  double grad_norm = 0;  ///< prox-gradient residual ||L - prox(L - t grad)|| / t
  std::int64_t iterations = 0;
  std::int64_t rank = 0;  ///< numerical rank of L_lambda
  bool rank_fits = true;  ///< rank <= d (else the factored problem with this d differs)
  Eigen::MatrixXd L, W, H;
};
std::vector<RidgeGeometryPoint> geometry_ridge_path(const InstanceData& data,
                                                    const std::vector<double>& lambdas,
                                                    std::int64_t dim, std::uint64_t seed,
                                                    std::int64_t max_iterations,
                                                    double max_seconds);

// ---------------------------------------------------------------------------------------------
// Claims (theory.md §7b) and the report.

struct GeometryOptions {
  GeometryTrainOptions train;
  PrecisionSpec precision;
  bool ridge_path = true;
  std::int64_t path_iterations = 10000;  ///< per lambda
  double path_seconds = 20;              ///< for the whole path
  NuclearSolverOptions solver;
};

struct GeometryReport {
  SupportPatterns sp;
  Eigen::MatrixXd L_in;
  ProxyResult proxy;
  bool solver_run = false;
  NuclearSolverResult solver;
  Eigen::MatrixXd L_mm;         ///< the certified primal (proxy when the polar condition holds)
  double l_mm_minus_proxy = 0;  ///< ||L_mm - P||_F (0 when the proxy is certified)
  GeometryTrainResult run;
  std::vector<RidgeGeometryPoint> path;
  std::vector<ClaimResult> claims;
  nlohmann::json curves;  ///< per recorded step: the convergence measures
};

/** Claim names, in order: proxy_optimality, l_mm_certified, ce_to_entropy, norms_grow,
 * in_support_to_l_in, direction_to_l_mm, gram_directions, subspace_collapse, ridge_minimizer
 * (only with lambda > 0), regularization_path (unless disabled). */
std::vector<std::string> geometry_claim_names();

GeometryReport run_geometry(const InstanceData& data, const GeometryOptions& opt);

nlohmann::json geometry_report_json(const GeometryReport& r);

/** Test instances with known structure (exact rationals; supports ascending; h_j = e_j).
 *  - balanced: K disjoint supports of size k covering V = K k, each repeated r times;
 *  - repeated: K random supports of size k in [V], each repeated r times;
 *  - overlap: m contexts with random supports of size k in [V]. */
InstanceData geometry_instance(const std::string& family, std::uint64_t seed);

/** "geometry-balanced", "geometry-repeated", "geometry-overlap". */
std::vector<std::string> geometry_families();

}  // namespace ntp

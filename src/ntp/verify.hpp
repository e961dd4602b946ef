#pragma once
/** @file verify.hpp
 * `ntpcheck verify`: regression-check another implementation's weights or trajectory against the
 * reference (docs/formats.md "ntp-verify").
 *
 * Point check (verify_weights): for one candidate W, CE and the excess loss evaluated in the truth
 * precision (the candidate's numbers are exact doubles, so this is the exact value to ~30 digits),
 * ||P_F(W) - W*||_F, cos(P_perp W, W^mm), the column sums of W - W0, the part of the rows of
 * W - W0 outside span{h_j}, the in-support log-odds error of every context (worst named), and
 * verdicts on the facts every GD/NGD iterate satisfies (theory.md §4):
 *   - finite: every entry of W is finite;
 *   - column_sums: 1^T (W - W0) = 0, since every gradient column sums to zero (softmax and p_j
 *     both sum to one);
 *   - row_span: the rows of W - W0 lie in span{h_1..h_m}, since grad CE = (S - P) diag(pi) Hbar^T;
 *   - reported_loss (when the candidate states its CE): |reported - CE(W)| within the rounding of
 *     a correct evaluation in the candidate's precision.
 * The bounds are in units of the candidate's unit roundoff u_c (2^-24 for float32, 2^-53 for
 * float64) times the scale of W and, when the step count k is known, times (k + 1).
 *
 * Trajectory check (verify_trajectory), a differential oracle: the same optimizer is replayed from
 * the same W0 in double and in a multiprecision rung (the "truth", default dd); at every
 * checkpoint k of the candidate
 *     e_c(k) = max_{v,i} |W_c(k) - W_t(k)|_{vi} / s_k,   e_d(k) = same for the double replay,
 *     s_k = max(max |W_t(k)|, max |W_t(1)|)          (W_t(1) covers k = 0 with W0 = 0),
 * and the checkpoint passes iff
 *     e_c(k) <= factor * (u_c / u_d) * e_d(k) + tolerance * u_c * (k + 1).
 * The first term gives the candidate as much room as double needs on this run (scaled to its own
 * epsilon); the second is the accumulated rounding of a correct run: the GD map is nonexpansive for
 * eta <= 2/L, so errors made at each step add at most linearly. For NGD and Adam, which normalise
 * the gradient, the second term is multiplied by the cancellation ratio
 *     kappa(k) = max_{j <= k} max|(S + P) diag(pi) |Hbar|^T| / max|grad CE(W_t(j))|
 * at the truth's checkpoints: a textbook kernel computes s - p by subtraction, so its gradient
 * carries a relative error u_c kappa that normalisation turns into a relative step error (our own
 * kernel avoids that cancellation, so the double replay alone would understate it). The allowance
 * is capped at max_allowed_relative: an error above the cap but within the allowance is
 * inconclusive. The first failing checkpoint and the worst entry there are reported.
 */
#include <Eigen/Core>
#include <cstdint>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ntp/errors.hpp"
#include "ntp/instance.hpp"
#include "ntp/npy.hpp"
#include "ntp/optimize.hpp"
#include "ntp/scalar.hpp"

namespace ntp {

/** Unit roundoff of a candidate's dtype: 2^-24 for kFloat32, 2^-53 for kFloat64. Throws
 * InvalidInput for other dtypes. */
double candidate_unit_roundoff(NpyDtype dtype);

/** A candidate's weights (V x d) with the dtype they came in (float32 values widened exactly). */
struct CandidateWeights {
  Eigen::MatrixXd W;
  NpyDtype dtype = NpyDtype::kFloat64;
};

/** A candidate trajectory: W after steps[k] updates (step 0 is W0), steps strictly increasing. */
struct CandidateTrajectory {
  std::vector<std::int64_t> steps;
  std::vector<Eigen::MatrixXd> weights;  ///< one V x d matrix per step
  NpyDtype dtype = NpyDtype::kFloat64;
  std::vector<double> loss;  ///< the candidate's own CE per step, or empty
};

/** Largest step number accepted in a candidate trajectory (the replay runs that many steps). */
inline constexpr std::int64_t kMaxVerifySteps = 100'000'000;

/**
 * Checks a read array as a candidate W (shape (V, d), float32 or float64) and converts it.
 * `what` prefixes messages ("npy file W.npy"). Throws InvalidInput.
 */
CandidateWeights candidate_weights_from_array(const NpyArray& array, std::int64_t V, std::int64_t d,
                                              const std::string& what);

/** Reads a .npy file as a candidate W (IoError / InvalidInput). */
CandidateWeights read_candidate_weights(const std::string& path, std::int64_t V, std::int64_t d);

/**
 * Checks the arrays of a .npz trajectory and converts them: `step` integer [K] (K >= 1,
 * non-negative, strictly increasing, <= kMaxVerifySteps), `W` float32/float64 [K, V, d], optional
 * `loss` (or `ce`) float [K]; other arrays are ignored. Throws InvalidInput naming the array.
 */
CandidateTrajectory candidate_trajectory_from_arrays(const std::map<std::string, NpyArray>& arrays,
                                                     std::int64_t V, std::int64_t d,
                                                     const std::string& what);

/** Reads a .npz trajectory (IoError / InvalidInput). */
CandidateTrajectory read_candidate_trajectory(const std::string& path, std::int64_t V,
                                              std::int64_t d);

struct VerifyOptions {
  /** The multiprecision rung that replays the truth (any precision; a rung well above double). */
  PrecisionSpec truth{Precision::kDD, 0};
  /** factor in the pass rule (room relative to the double replay's own error). */
  double factor = 16;
  /** tolerance in the pass rule, in units of u_c per step. */
  double tolerance = 16;
  /** The allowance is capped here (relative error): a checkpoint whose error exceeds the cap but
   * not the uncapped allowance is inconclusive (the run amplifies rounding so much in this
   * precision that it cannot be judged), never a silent pass. */
  double max_allowed_relative = 1e-3;
  /** Time budget of the replays in seconds (0: none). The truth replay runs first with the whole
   * budget; the double replay then only up to the step the truth reached. Checkpoints beyond are
   * not compared and the report is marked partial. */
  double max_seconds = 0;
  /** Compute W* and W^mm (certified; seconds on paper-main) for the point metrics. */
  bool reference_objects = true;
  /** Point check: the number of steps that produced W, if known (-1: unknown; the invariant
   * bounds then assume 10^4 steps and say so). */
  std::int64_t steps_taken = -1;
  /** Point check: W came from GD or NGD, so the column sums and the row span of W - W0 are
   * invariant; false for Adam (it scales each entry: both checks become not_applicable). */
  bool gd_invariants = true;
  /** Point check: the candidate's own CE at W, if it states one (NaN: none). */
  double reported_loss = std::numeric_limits<double>::quiet_NaN();
};

struct VerifyResult {
  nlohmann::json report;  ///< "ntp-verify" v1 (docs/formats.md)
  /** kAllHold: every check passes; kViolated: a check fails (the candidate is wrong);
   * kInconclusive: nothing failed but something could not be decided. */
  ExitCode exit = ExitCode::kAllHold;
};

/** The point check of one candidate W (W0: the initialisation, zero when null). */
VerifyResult verify_weights(const InstanceData& data, const CandidateWeights& candidate,
                            const Eigen::MatrixXd* W0 = nullptr, const VerifyOptions& options = {});

/**
 * The trajectory check: replays `opt` (eta must be set; steps are taken from the candidate) from
 * W0 (zero when null) in double and in options.truth, and compares every checkpoint. The report
 * also holds the point check of the last checkpoint. Throws InvalidInput when opt.eta is unset or
 * not positive.
 */
VerifyResult verify_trajectory(const InstanceData& data, const CandidateTrajectory& candidate,
                               const OptimizerOptions& opt, const Eigen::MatrixXd* W0 = nullptr,
                               const VerifyOptions& options = {}, const ProgressFn& progress = {});

/** The human-readable summary of a verify report (several lines, no trailing newline). */
std::string format_verify(const nlohmann::json& report);

}  // namespace ntp

#pragma once
/** @file precision_ladder.hpp
 * The precision ladder (issue 6; docs/precision.md): run the same optimizer recipe in several
 * scalar types ("rungs"), compare every rung with the top rung at every recorded step, and say
 * where each rung stops being evidence for the theory because of the floating-point horizons of
 * theory.md §6.
 *
 * Definitions (docs/precision.md):
 *  - digits agreed of x_r against the top's x_t: min(cap, -log10(||x_r - x_t|| / ||x_t||)),
 *    Frobenius norms, cap = the top rung's decimal digits; x_r == x_t (also both 0) gives the cap;
 *    x_t == 0 != x_r gives 0. For the direction of P_perp(W): min(cap, -log10 ||u_r - u_t||) with
 *    u = P_perp(W) / ||P_perp(W)||, undefined (null) when either P_perp(W) is exactly 0 (step 0).
 *    Every difference is formed in MPFR at the comparison precision (top digits + guard digits)
 *    from the exact rational value of each rung's numbers; P_F is computed there too.
 *  - horizons of a type S (theory.md §6), measured with S's own exp by bisection on R:
 *    (a) fl(1 + e^-R) == 1; (a') fl(4/3 + e^-R) == 4/3 (an operand using all of S's digits: for
 *    double-double and quad-double, which keep 1 + x as an unevaluated sum, only (a') reflects
 *    what an update W + delta loses); (b) e^-R below S's smallest normal; (c) e^-R == 0.
 *  - crossing step of a horizon during a run: the first recorded step whose top-rung min gap R_k
 *    (loss.hpp LossValue::min_gap) exceeds the rung's measured threshold.
 *  - evidence: a rung is evidence up to the last recorded step k such that at every recorded
 *    step k' <= k every defined digits-agreed value is >= min_digits, R_k' is at most the rung's
 *    evidence horizon (HorizonTable::evidence_horizon), the run has not diverged, and the top
 *    rung is itself still evidence.
 */
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "ntp/instance.hpp"
#include "ntp/optimize.hpp"

namespace ntp {

/** The horizons of theory.md §6 for one scalar type: predictions from ScalarTraits and values
 * measured with the type's own arithmetic. R values (e^-R); NaN where a threshold does not exist.
 */
struct HorizonTable {
  PrecisionSpec precision;
  double unit_roundoff_log = 0;  ///< ln(epsilon / 2) (ScalarTraits<S>::epsilon())
  /** (a) predicted -ln(epsilon / 2); measured: smallest R with fl(1 + e^-R) == 1. */
  double predicted_one_plus = 0, measured_one_plus = 0;
  /** (a') measured: smallest R with fl(4/3 + e^-R) == 4/3 (prediction as for (a)). */
  double measured_full_width = 0;
  /** (b) predicted -ln(min normal) (ScalarTraits::log_min_normal); measured: smallest R with
   * e^-R < the type's smallest normal (std::numeric_limits, QD's _min_normalized). */
  double predicted_subnormal = 0, measured_subnormal = 0;
  /** True when some e^-R lies strictly between 0 and the smallest normal (gradual underflow, or
   * for QD types a head double that is subnormal). */
  bool has_subnormals = false;
  /** (c) predicted -ln(min positive) (ScalarTraits::log_min_positive); measured: smallest R with
   * e^-R == 0. Round-to-nearest puts it up to ln 2 above the prediction. */
  double predicted_zero = 0, measured_zero = 0;
  /** The R past which an update loses the out-of-support part: min((a), (a')). */
  [[nodiscard]] double update_horizon() const;
  /**
   * The R past which optimizer `kind` in this type no longer follows the dynamics (evidence rule):
   * GD and Adam: update_horizon() (a step of size ~ eta e^-R is rounded away in W + delta; for Adam
   * this is conservative). NGD: its step has length eta whatever R is, but ||grad||^2 (a sum of
   * squares of entries ~ e^-R) underflows to 0 past R = (c) / 2, and the step stops.
   */
  [[nodiscard]] double evidence_horizon(OptimizerKind kind) const;
};

/** Measures the horizons of one type by bisection (sets the MPFR precision for mpfr:N). */
HorizonTable measure_horizons(const PrecisionSpec& p);

/** The rung names of the default ladder of `ntpcheck precision`. */
inline constexpr const char* kDefaultLadder =
    "float,double,long-double,dd,float128,qd,mp50,mpfr:200";

/** Parses "float,double,mpfr:200"; throws InvalidInput naming `field` (empty list, empty item,
 * unknown name, a rung listed twice, fewer than two rungs). */
std::vector<PrecisionSpec> parse_ladder(const std::string& text,
                                        const std::string& field = "--ladder");

/** The index of the top rung: most decimal digits (PrecisionSpec::decimal_digits), the later one
 * on a tie. */
std::size_t top_rung(const std::vector<PrecisionSpec>& ladder);

struct LadderOptions {
  std::vector<PrecisionSpec> ladder;
  OptimizerOptions optimizer;  ///< eta unset: default_eta
  double min_digits = 3;       ///< digits agreed a rung needs to be evidence
  double max_seconds = 0;      ///< budget for all runs (0: none); exceeded: partial
  /** Also run the top rung's computation at mpfr:ceil(1.5 * top digits) and compare the top
   * against it (the top cannot be compared with itself). */
  bool check_top = false;
};

/** Digits agreed at one recorded step (nullopt: undefined, see the file comment). */
struct DigitsAgreed {
  std::int64_t step = 0;
  double top_min_gap = 0;  ///< R_k of the reference run
  double rung_min_gap = 0;
  std::optional<double> excess, w, p_f, perp_direction;
};

/** One rung's result. */
struct RungResult {
  PrecisionSpec precision;
  OptimizerKind optimizer = OptimizerKind::kGD;
  bool is_top = false;
  /** Compared against: the top rung (or, for the top with check_top, the check run). */
  std::string reference;
  bool compared = false;
  bool stopped_early = false;
  std::int64_t diverged_at_step = -1;
  double seconds = 0;
  HorizonTable horizons;
  std::vector<DigitsAgreed> points;
  /** First recorded step with top R_k above (a), (a'), (b), (c); nullopt: not reached. */
  std::optional<std::int64_t> cross_one_plus, cross_full_width, cross_subnormal, cross_zero;
  /** Last recorded step at which the rung is still evidence (file comment), or -1 (none). */
  std::int64_t evidence_last_step = -1;
  std::string evidence_reason;  ///< why it ends there ("whole run" when it never ends)
};

struct LadderResult {
  std::string instance;
  OptimizerKind optimizer = OptimizerKind::kGD;
  Rational eta;
  std::int64_t steps = 0;
  double min_digits = 3;
  int cap_digits = 0;           ///< the top rung's decimal digits
  unsigned compare_digits = 0;  ///< MPFR digits of the comparisons
  std::int64_t dim_f = 0;       ///< exact dim F
  std::size_t top = 0;          ///< index into rungs
  std::vector<RungResult> rungs;
  std::optional<RungResult> top_check;  ///< the top against mpfr:1.5x (check_top)
  double max_top_min_gap = 0;           ///< max R_k of the top run
  bool partial = false;                 ///< stopped by max_seconds
  double seconds = 0;
};

/** Called with (rung name, step, total steps) during the runs; false stops (budget). */
using LadderProgressFn =
    std::function<bool(const std::string& rung, std::int64_t step, std::int64_t total)>;

/** Runs the ladder (LadderOptions) on data. Sets the process-wide MPFR precision. */
LadderResult run_ladder(const InstanceData& data, const LadderOptions& options,
                        const LadderProgressFn& progress = {});

/** The report `ntp-precision-ladder` (docs/precision.md). */
nlohmann::json ladder_json(const LadderResult& r, const std::vector<HorizonTable>& horizons);
nlohmann::json horizons_json(const std::vector<HorizonTable>& horizons);

/** The horizon table as text (one line per type). */
std::string horizons_text(const std::vector<HorizonTable>& horizons);
/** The ladder summary as text. */
std::string ladder_text(const LadderResult& r);
/** digits.csv: rung,step,top_min_gap,rung_min_gap,excess,w,p_f,perp_direction (NaN undefined). */
std::string ladder_csv(const LadderResult& r);
/** digits.gp: digits agreed vs iteration, one line per rung, horizon crossings marked. */
std::string ladder_gnuplot(const LadderResult& r);

/**
 * The orthogonal projection onto F (theory.md §2) in MPFR at the current precision, independent of
 * subspace.hpp's SVD: P_F(W) = A_S^T (A_S A_S^T)^{-1} A_S vec(W) with A_S rows of the anchor-form
 * generator matrix chosen by a pivoted Cholesky of the Gram matrix, stopped at the exact dim F.
 */
class ExactRankProjector {
 public:
  explicit ExactRankProjector(const InstanceData& data);
  [[nodiscard]] Matrix<Mpfr> project_f(const Matrix<Mpfr>& W) const;
  [[nodiscard]] std::int64_t rank() const { return rank_; }

 private:
  std::int64_t V_ = 0, d_ = 0, m_ = 0, rank_ = 0;
  Matrix<Mpfr> hbar_;                             ///< d x m
  std::vector<std::int64_t> ctx_, tok_, anchor_;  ///< selected rows, pivot order
  Matrix<Mpfr> chol_;                             ///< rank x rank lower triangular
};

}  // namespace ntp

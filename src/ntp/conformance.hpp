#pragma once
/** @file conformance.hpp
 * The conformance suite (issue 5): golden files with reference values at 100 significant digits
 * (precision/golden/, made by precision/make_golden.cpp) and the checker that runs our own
 * implementations against them in a chosen precision (`ntpcheck conformance DIR`).
 *
 * Golden file (JSON, "format": "ntp-golden", "version": 1; precision/golden/README.md has every
 * field): the instance itself ("instance", an ntp-instance object), its provenance (generator
 * options, seed, the generating command), and
 *  - "entropy": H;
 *  - "loss": a test point "w" (exact dyadic decimals), CE(w), the excess CE(w) - H and
 *    grad CE(w) (theory.md §1);
 *  - "conditions": the certified verdicts on (C) and (6);
 *  - "w_star" (when (C) holds): the centre of the certified enclosure of W* (w_star.hpp) rounded
 *    to 100 digits, and the enclosure's radius (Frobenius, hex float, rounded up);
 *  - "w_mm" (when (6) holds): W^mm to 100 digits, its exact entries ("p/q" strings) when their
 *    text is at most kGoldenMaxExactBytes (paper-main's is 4.6 MB: its file keeps the decimals),
 *    and always, exactly, ||W^mm||_F^2 and the fixed functional golden_functional(W^mm);
 *  - "gd": plain GD W_{k+1} = W_k - eta grad CE(W_k) from "w0" with a stated rational eta, and
 *    W_k, CE(W_k), CE(W_k) - H at the steps of "iterates" (1, 10, 100, 1000).
 * Matrices are V x d, row-major: an array of V rows of d strings. Real reference values are
 * decimal strings with 100 significant digits from an MPFR computation at 160 digits that agrees
 * with a second one at 130 digits to better than 1e-105 relative (make_golden checks it).
 *
 * Tolerances. Let u be the unit roundoff of the tested precision S and eps =
 * ScalarTraits<S>::epsilon() (= 2u for the IEEE, MPFR and cpp_bin_float types). Each bound below
 * is the first-order coefficient of u from a standard-model analysis (fl(a op b) = (a op b)(1 + d),
 * |d| <= u; dot products of length n err by at most n u sum |terms|) of the code that computes the
 * value, multiplied by eps instead of u: the factor 2 covers the second-order terms and elementary
 * functions (exp, log, expm1, log1p) accurate to 1 ulp. (dd and qd are not correctly rounded;
 * their epsilon, 2^-104 and 2^-209, is 4 and 8 times the unit roundoff of their 106 and 212 bits,
 * which covers their few-ulp operations.) Instance constants, from the exact instance:
 * s = max |S_j|, Lp = max |log p_{j,z}|, hmax = max |h_{j,i}|, hn = max ||h_j||_2; at a point W,
 * Lambda(W) = max_{j,v} sum_i |W_{v,i}| |h_{j,i}| (the GEMM's scale, >= every |logit|).
 *  - H, summed as sum_j pi_j (-sum_z p log p) (instance.cpp): each term p log p errs by at most
 *    p u (3 |log p| + 1) (rounding of p, log, product), the inner sum adds (s - 1) u, the weights
 *    2 u, the outer sum (m - 1) u, all over non-negative terms:
 *        |H^ - H| <= eps ((s + m + 3) H + 1).
 *  - The excess E = sum_j pi_j KL(p_j || s(W h_j)) (loss.hpp): the logits err by <= d u Lambda
 *    and each KL is 2-Lipschitz in the max norm of its logits (gradient s - p, ||s - p||_1 <= 2);
 *    the KL form then takes differences of logits (<= 2 Lambda), sums <= V exponentials and logs
 *    of sums, whose absolute errors are at most u (Lp + 6 Lambda + s + 2 ln V + 3) for each delta_z
 *    and u (V + s + 6 Lambda + 2 ln V + 4) for t = lse_out - lse_in; KL(p||q) has sensitivity
 *    sum |p - q| <= 2 to the deltas, log1p(e^t) sensitivity <= 1 to t; sums of non-negative terms
 *    add (s + m + 6) u E:
 *        |E^ - E| <= eps ((2d + 18) Lambda + 2 Lp + V + 3 s + 6 ln V + 10 + (s + m + 6) E).
 *  - CE = H + E:  |CE^ - CE| <= bound(H) + bound(E) + eps CE.
 *  - The gradient G = (S - P) diag(pi) Hbar^T: each coefficient pi_j (s - p)_{v,j} errs by at most
 *    pi_j (s + p)_{v,j} u Err(Lambda), Err(Lambda) = Lp + V + s + (2d + 8) Lambda + 2 ln V + 9
 *    (softmax Jacobian 2 s_v max|dl| on the GEMM error, plus the evaluation as above); the GEMM
 *    with Hbar^T (length m) adds m u sum_j |coef| |h|; with sum_j pi_j (s + p)_{v,j} <= 2:
 *        max_{v,i} |G^ - G| <= 2 eps hmax (Err(Lambda) + m).
 *  - GD iterates. For eta <= 2/L the exact map W -> W - eta grad CE(W) is non-expansive in the
 *    Frobenius norm (CE is convex and L-smooth, L = (1/2) lambda_max(sum_j pi_j h_j h_j^T),
 *    theory.md §1; a golden eta above 2/L is invalid input), so the computed iterates satisfy
 *    ||W^_k - W_k||_F <= sum_{i<k} delta_i with the local error of step i
 *        delta_i <= eps (||W^_{i+1}||_F + 2 eta ||G^_i||_F) + eta sqrt(V d) bound(G)(Lambda_i),
 *    Lambda_i = hn ||W^_i||_F (rounding of the update and of eta, and the gradient's own error;
 *    the norms are those of our run, recorded at every step). This B_k is the bound of
 *    ||W^_k - W_k||_F; it grows linearly in k (the "c u (k + 1)" rule with c from the instance).
 *    CE and E at W^_k: their bound at W^_k (Lambda = hn ||W^_k||_F) plus ||G^_k||_F B_k (CE is
 *    convex with gradient G: first order in ||W^_k - W_k||).
 *  Every bound also adds the reference's own rounding, kGoldenRelativeRounding times the
 *  reference's magnitude (|x| for a number; max |X| or ||X||_F for a matrix, as compared).
 *  - W* (precision independent): our enclosure W_mid, radius r (enclose_w_star at
 *    kGoldenWStarBits) must contain the golden centre G up to the golden's own error:
 *        ||G - W_mid||_F <= r + r_golden + kGoldenRelativeRounding ||G||_F.
 *  - W^mm (precision independent): our certified W^mm (compute_w_mm, status proven) must equal
 *    the golden rationals exactly, entry by entry where the file has them, and ||W^mm||_F^2 and
 *    golden_functional(W^mm) always (a different W^mm passes the functional with probability
 *    <= 2^-62); the golden decimals must lie within kGoldenRelativeRounding max |W^mm| of ours.
 *  - The verdicts on (C) and (6) must equal the golden ones (structural facts: exact).
 */
#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ntp/errors.hpp"
#include "ntp/rational.hpp"
#include "ntp/scalar.hpp"

namespace ntp {

/** The "format" of a golden file. */
inline constexpr const char* kGoldenFormat = "ntp-golden";
/** The golden schema version this code reads and writes. */
inline constexpr int kGoldenVersion = 1;
/** Significant digits of the golden reference values. */
inline constexpr int kGoldenDigits = 100;
/** The GD steps whose iterates a golden file stores. */
inline constexpr std::array<std::int64_t, 4> kGoldenGdSteps = {1, 10, 100, 1000};
/** A golden file stores W^mm entry by entry (exact "p/q") only when that text is at most this. */
inline constexpr std::size_t kGoldenMaxExactBytes = std::size_t{1} << 20;
/** The W* enclosures (golden and checker) aim for a radius of about 2^-this (1e-120). */
inline constexpr int kGoldenWStarBits = 400;
/**
 * Error of a golden decimal relative to its magnitude: rounding to 100 significant digits costs
 * at most half a unit in the 100th digit (5e-100 relative); the reference itself agrees with an
 * independent-precision run to better than 1e-105. Twice the rounding covers both.
 */
inline constexpr double kGoldenRelativeRounding = 1e-99;

/**
 * A fixed pseudo-random linear functional of a row-major matrix, computed exactly:
 *     f(W) = sum_k c_k W_k,   c_k = 1 + Rng(0x776d6d, 0).uniform_int(2^62), k = 0, 1, ...
 * For W != W' chosen independently of c, f(W) = f(W') has probability <= 2^-62 (one linear
 * equation in the c_k, Schwartz-Zippel): an exact fingerprint of W^mm when its entries are too
 * long to store.
 */
Rational golden_functional(const std::vector<Rational>& w);

/** What to test. */
struct ConformanceOptions {
  /** Which of our implementations to test: loss, gradient, entropy and GD in this precision. */
  PrecisionSpec precision{Precision::kDouble, 0};
  /** Also recompute the certified W* enclosure and W^mm (precision independent, exact). */
  bool certified_objects = true;
};

/** The report ("format": "ntp-conformance", "version": 1) and the exit code it implies. */
struct ConformanceResult {
  nlohmann::json report;
  ExitCode exit = ExitCode::kAllHold;  ///< kAllHold when every check passes, else kViolated
};

/**
 * Runs our implementations against every *.json golden file of `golden_dir` (in file-name order)
 * and compares each quantity with the bound stated in this file's comment. The report has, per
 * instance ("instances": [{"file", "name", "family", "V", "d", "m", "passed", "checks"}]) and per
 * quantity ("checks": [{"quantity", "step" (GD), "error", "bound", "relative_error",
 * "relative_bound", "pass", "note"}]), the measured error and its bound; then "checks", "failed",
 * "passed", "failures" (one line each) and "seconds".
 * Quantities: entropy, ce, excess, gradient (max |entry|), compatibility, separability, w_star
 * (Frobenius distance to our enclosure), w_mm (exact values differing from ours), w_mm_decimal
 * (max |entry|), gd_w (Frobenius), gd_ce, gd_excess.
 * Throws IoError when the folder cannot be read, InvalidInput when it has no *.json file or a
 * golden file is malformed ("invalid golden file <file>: <field> <problem>, got <value>").
 */
ConformanceResult run_conformance(const std::string& golden_dir,
                                  const ConformanceOptions& options = {});

/** The human summary of a report: one line per instance, the failures, a total line (no trailing
 * newline). */
std::string format_conformance(const nlohmann::json& report);

}  // namespace ntp

#pragma once
/** @file claims.hpp
 * The theory's claims (theory.md; issue 4) as functions returning a verdict with evidence.
 *
 * Verdicts: holds, violated, inconclusive (with the reason), not_applicable (a hypothesis of the
 * claim fails on this instance; the reason names it). Plain GD converges in direction like
 * 1/log k, so no check waits for it: claims 3-6 are decided from the trend of GD and normalized GD
 * on a log-spaced grid, from the regularization path (regpath.hpp: same limits, reached by Newton)
 * and from the certified objects of analyze.hpp. Each claim function states its decision rule.
 *
 * Names (stable, used by --claims and in JSON): entropy_attainment, log_odds_uniqueness,
 * gd_projection_to_w_star, gd_direction_to_w_mm, gd_norm_and_loss, regularization_path,
 * lemma1_overparameterized, gd_invariants.
 */
#include <Eigen/Core>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ntp/errors.hpp"
#include "ntp/instance.hpp"
#include "ntp/max_margin.hpp"
#include "ntp/optimize.hpp"
#include "ntp/regpath.hpp"
#include "ntp/scalar.hpp"
#include "ntp/separability.hpp"
#include "ntp/train.hpp"
#include "ntp/verdict.hpp"
#include "ntp/w_star.hpp"

namespace ntp {

struct ClaimResult {
  std::string name;
  std::string statement;  ///< the claim with its source, one line
  Verdict verdict = Verdict::kInconclusive;
  double measured = 0;  ///< the decisive measured value (see evidence for its definition)
  double bound = 0;     ///< what it was compared with
  std::string rule;     ///< the decision rule, one line
  nlohmann::json evidence = nlohmann::json::object();
  std::string reason;  ///< why inconclusive / not applicable (empty otherwise)
  double seconds = 0;
};

/**
 * Substitutes for the library's components, to run the claims against another (e.g. deliberately
 * wrong) implementation: the property suite shows that each claim catches an injected bug. Empty
 * functions mean the library's own.
 */
struct ClaimHooks {
  std::function<TrainResult(const InstanceData&, const OptimizerOptions&, const PrecisionSpec&,
                            const Eigen::MatrixXd* w0)>
      train;
  std::function<std::vector<RidgePoint>(const InstanceData&, const RidgePathOptions&)> ridge_path;
  std::function<void(WStarResult&)> alter_w_star;
  std::function<void(MaxMarginResult&)> alter_w_mm;
  std::function<void(SeparabilityResult&)> alter_separability;
};

struct CheckOptions {
  std::vector<std::string> claims;  ///< empty: all, in the documented order
  double budget_seconds = 10;       ///< soft budget for the optimizer runs and the path
  PrecisionSpec precision;          ///< arithmetic of the GD / NGD runs
  std::int64_t steps = 10000;       ///< GD and NGD iterations (log-spaced record grid)
  ClaimHooks hooks;                 ///< testing: substitute components
};

/** All claim names, in order. */
std::vector<std::string> claim_names();

/** Runs the selected claims; throws InvalidInput for an unknown claim name. */
std::vector<ClaimResult> check_claims(const InstanceData& data, const CheckOptions& options = {});

/** 1 if any claim is violated, else 2 if any is inconclusive, else 0 (not_applicable counts as
 * neither). */
ExitCode claims_exit_code(const std::vector<ClaimResult>& results);

nlohmann::json claim_to_json(const ClaimResult& r);

/** The claims of one instance, for reports. */
struct InstanceClaims {
  std::string instance;  ///< the FILE argument (or @FAMILY)
  std::string name;      ///< the instance's name
  std::vector<ClaimResult> claims;
};

/**
 * A JUnit XML report (one testsuite per instance, one testcase per claim): violated = <failure>,
 * inconclusive = <skipped> with the reason; holds and not_applicable pass (not_applicable says so
 * in <system-out> and in a "verdict" property). Text is XML-escaped.
 */
std::string claims_to_junit(const std::vector<InstanceClaims>& all);

}  // namespace ntp

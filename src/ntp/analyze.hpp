#pragma once
/** @file analyze.hpp
 * `ntpcheck analyze`: every certified object of theory.md §2, §3, §7 for one instance: H, the
 * subspace F, the verdicts on (C) and (6) with certificates, W* (enclosure), W^mm (exact, proved
 * optimal) and entropy attainment against bound (9). The JSON report is a stable interface
 * (docs/formats.md "ntp-analysis"); the certificates go to an "ntp-certificate" file that
 * `ntpcheck certify` re-verifies on its own (certificate.hpp).
 */
#include <nlohmann/json.hpp>
#include <string>

#include "ntp/attainment.hpp"
#include "ntp/certificate.hpp"
#include "ntp/errors.hpp"
#include "ntp/instance.hpp"
#include "ntp/scalar.hpp"

namespace ntp {

struct AnalyzeOptions {
  /** Precision of the floating companion of W* (an SVD solve of (C)), compared with the
   * certified enclosure: double, long-double, float128 or mpfr:N. */
  PrecisionSpec precision;
  int w_star_target_bits = 200;  ///< aim for a W* enclosure radius of about 2^-this
  AttainmentOptions attainment;
  MaxMarginOptions w_mm;
  /** W* is not attempted beyond this many (C) rows (its Gram matrix is rows^2 big integers and
   * the exact solve grows like rows^3; README "analyze" has the measured scaling). */
  std::int64_t max_exact_rows = 2000;
};

struct AnalyzeResult {
  nlohmann::json report;  ///< the stable JSON report
  CertificateBundle certificates;
  ExitCode exit = ExitCode::kAllHold;
};

/**
 * Runs the analysis. Exit code: kAllHold (0) when both verdicts are proved (holds or violated),
 * the objects that exist are certified and every checked claim (bound (9), CE > H) holds;
 * kViolated (1) when a checked claim is proved false; kInconclusive (2) otherwise.
 * Throws InvalidInput for an unsupported precision.
 */
AnalyzeResult analyze(const InstanceData& data, const AnalyzeOptions& options = {});

/** The human-readable summary of a report (several lines, no trailing newline). */
std::string format_analysis(const nlohmann::json& report);

}  // namespace ntp

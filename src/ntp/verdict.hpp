#pragma once
/** @file verdict.hpp
 * The one verdict type of ntpcheck (design.md "Results, verdicts, errors"): what a check found,
 * kept apart from whether it ran. Stored by name in JSON (append-only).
 */
#include <string>

namespace ntp {

enum class Verdict {
  kHolds,         ///< "holds": proved or decided by the stated rule
  kViolated,      ///< "violated": proved false or decided false by the stated rule
  kInconclusive,  ///< "inconclusive": not decided (the result carries the reason)
  kNotApplicable  ///< "not_applicable": a hypothesis fails (the result names it)
};

/** "holds", "violated", "inconclusive", "not_applicable". */
std::string to_string(Verdict v);

}  // namespace ntp

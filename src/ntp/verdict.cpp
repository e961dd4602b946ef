#include "ntp/verdict.hpp"

namespace ntp {

std::string to_string(Verdict v) {
  switch (v) {
    case Verdict::kHolds:
      return "holds";
    case Verdict::kViolated:
      return "violated";
    case Verdict::kInconclusive:
      return "inconclusive";
    case Verdict::kNotApplicable:
      return "not_applicable";
  }
  return "inconclusive";
}

}  // namespace ntp

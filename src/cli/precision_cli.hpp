#pragma once
/** @file precision_cli.hpp
 * `ntpcheck precision` (issue 6; docs/precision.md): the precision ladder and the horizon table.
 */
#include <cstdint>
#include <string>

#include "ntp/precision_ladder.hpp"

namespace ntpcli {

struct PrecisionArgs {
  std::string file;  ///< FILE, -, @FAMILY[:SEED]; empty with --horizons only
  std::string ladder;
  std::string optimizer = "gd";
  std::int64_t steps = 0;  ///< 0: the default (kDefaultPrecisionSteps)
  bool steps_given = false;
  std::string eta;  ///< exact decimal or rational; empty: default_eta
  std::string out;  ///< output directory (ladder.json, digits.csv, digits.gp, pictures)
  bool json = false;
  bool horizons = false;  ///< print the horizon table (no FILE needed)
  double min_digits = 3;
  double max_seconds = 0;
  int points_per_decade = 10;
  bool check_top = false;
  bool plots = true;
  bool quiet = false;
};

/** Default --steps: the full default ladder on @paper-main stays under 5 minutes
 * (docs/precision.md).
 */
inline constexpr std::int64_t kDefaultPrecisionSteps = 1000;

/** Runs the command; returns the exit code (0 ok, 2 partial, 3 invalid input via exceptions). */
int run_precision(const PrecisionArgs& args);

}  // namespace ntpcli

#pragma once
/** @file geometry_cli.hpp
 * `ntpcheck geometry` (issue 9; docs/geometry.md): the reference objects of theory.md §7b
 * (L_in, the proxy, a certified L_mm), training of L = W H, the claims table, and plots.
 */
#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

namespace ntpcli {

struct GeometryArgs {
  std::string file;  ///< FILE, -, @FAMILY[:SEED] (also @geometry-balanced|repeated|overlap)
  std::string optimizer = "gd";
  std::int64_t steps = 100000;
  std::string eta = "1";
  std::string lambda = "0";
  std::int64_t dim = -1;
  std::string precision = "double";
  std::string seed = "1";
  std::string out;
  bool json = false;
  bool no_plots = false;
  bool no_path = false;
  bool trajectory = false;  ///< also write DIR/trajectory.npz (W, H, L at each recorded step)
  double max_seconds = 0;
  double solver_seconds = 60;
};

/** Registers the subcommand on app (options bound to args). */
CLI::App* add_geometry_subcommand(CLI::App& app, GeometryArgs& args);

/** Runs it; returns the exit code (0 all hold, 1 violated, 2 inconclusive). Throws
 * ntp::InvalidInput / IoError for bad input (exit 3 in main). */
int run_geometry_command(const GeometryArgs& args);

}  // namespace ntpcli

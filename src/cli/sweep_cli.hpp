#pragma once
/** @file sweep_cli.hpp
 * `ntpcheck sweep` (issue 11; docs/sweep.md): the single-process driver, the MPI driver
 * (sweep_mpi.cpp, compiled with MPI only when NTPCHECK_MPI is enabled) and what both share.
 */
#include <cstdint>
#include <string>

#include "ntp/sweep.hpp"

namespace ntpcli {

struct SweepArgs {
  std::string spec;  ///< SPEC.json
  std::string out;   ///< DIR
  bool json = false;
  bool quiet = false;
  bool plots = true;
  double max_seconds = 0;  ///< stop starting points after this (0: no limit)
};

/** How the points were run, for the summary. */
struct SweepRunInfo {
  std::string mode = "single-process";  ///< or "mpi"
  int ranks = 1;
  int workers = 1;  ///< processes that computed points
  std::int64_t reused = 0;
  std::int64_t computed = 0;
  std::int64_t truncated_bytes = 0;
  std::int64_t duplicates = 0;
  bool stopped_by_budget = false;
  double seconds = 0;
};

/** Runs the sweep command: in this process, or on MPI when launched by an MPI launcher with
 * more than one process (and built with MPI). Returns the exit code. */
int run_sweep(const SweepArgs& args);

/** Merges, writes the phase diagram of a conditions sweep, prints the summary; returns the exit
 * code (merge_sweep's). Called by the single process or by rank 0. */
int finish_sweep(const ntp::SweepSpec& spec, const SweepArgs& args, const SweepRunInfo& info);

/** Progress on standard error ("sweep: 120/800 points (15%), 12.3 s"), at most every 0.25 s on
 * a terminal and every 5 s otherwise; silent for the first second and when quiet. */
class SweepProgress {
 public:
  SweepProgress(bool quiet, std::int64_t total);
  ~SweepProgress();
  SweepProgress(const SweepProgress&) = delete;
  SweepProgress& operator=(const SweepProgress&) = delete;
  void operator()(std::int64_t done);

 private:
  bool quiet_;
  std::int64_t total_;
  double start_;
  double last_ = 0;
  bool tty_;
  bool shown_ = false;
};

// ---- MPI (sweep_mpi.cpp) ----

/** True when this binary was built with MPI (NTPCHECK_MPI). */
bool mpi_built();

/** The number of processes of the MPI job this process was started in, read from the launcher's
 * environment (OMPI_COMM_WORLD_SIZE, PMI_SIZE); -1 when launched by an MPI launcher that does
 * not say (only PMIX_RANK or PMI_RANK set); 0 when not launched by one. */
int mpi_launch_size();

/** This process's rank from the launcher's environment (0 when unknown). */
int mpi_launch_rank();

/** The MPI driver: MPI_Init, rank 0 coordinates (hands out point indices on request, merges),
 * ranks 1.. compute. Only when mpi_built(). */
int run_sweep_mpi(const SweepArgs& args);

}  // namespace ntpcli

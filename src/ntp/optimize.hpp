#pragma once
/** @file optimize.hpp
 * Gradient descent, normalized GD and Adam on CE(W) (theory.md §4), in any supported precision,
 * recording a trajectory on a log-spaced iteration grid.
 */
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ntp/instance.hpp"
#include "ntp/loss.hpp"

namespace ntp {

enum class OptimizerKind { kGD, kNGD, kAdam };

/** "gd", "ngd", "adam". */
std::string optimizer_name(OptimizerKind k);
OptimizerKind parse_optimizer(const std::string& text);

/**
 * Hyperparameters are exact rationals so that every precision runs exactly the same recipe (each
 * rung rounds them once to its own type).
 */
struct OptimizerOptions {
  OptimizerKind kind = OptimizerKind::kGD;
  std::int64_t steps = 1000;
  /** Step size. Unset: GD uses 1/(2L) (theory.md §1), NGD and Adam use 0.01 (the paper's). */
  std::optional<Rational> eta;
  Rational beta1 = Rational(9, 10);            ///< Adam
  Rational beta2 = Rational(99, 100);          ///< Adam (the paper's 0.99)
  Rational adam_eps = Rational(1, 100000000);  ///< Adam's epsilon, 1e-8
  /** Grid points per decade of the log-spaced record grid (0..10 always recorded, and the last). */
  int points_per_decade = 10;
  /** Extra steps to record. */
  std::vector<std::int64_t> extra_record_steps;
  bool record_weights = true;  ///< keep W at every recorded step
};

/** The recorded steps: 0, 1, ..., min(10, N), then points_per_decade per decade, and N. */
std::vector<std::int64_t> log_grid(std::int64_t steps, int points_per_decade,
                                   const std::vector<std::int64_t>& extra = {});

/** One recorded point of a trajectory. */
template <class S>
struct TrajectoryPoint {
  std::int64_t step = 0;
  LossValue<S> loss;
  S norm;       ///< ||W_k||_F
  S grad_norm;  ///< ||grad CE(W_k)||_F
};

template <class S>
struct Trajectory {
  std::vector<TrajectoryPoint<S>> points;
  std::vector<Matrix<S>> weights;  ///< W_k at each point when record_weights
  Matrix<S> final_weights;
  Rational eta;                ///< the step size used (exact)
  bool stopped_early = false;  ///< ended by the callback before `steps`
  /** First step whose loss or weights are not finite (the run stops there and records it), or -1.
   * Diverging is a finding about the run (e.g. a step size far above 2/L), not an error. */
  std::int64_t diverged_at_step = -1;
};

/**
 * Called every few steps with the current step; returning false stops the run (a budget). The
 * library never prints: the CLI shows progress from here.
 */
using ProgressFn = std::function<bool(std::int64_t step, std::int64_t total)>;

/** Runs the optimizer from W0 (V x d). */
template <class S>
Trajectory<S> run_optimizer(const Instance<S>& inst, const OptimizerOptions& opt,
                            const Matrix<S>& W0, const ProgressFn& progress = {});

/** The default step size for an optimizer on this instance (exact rational of the double). */
Rational default_eta(OptimizerKind kind, const InstanceSummary& summary);

}  // namespace ntp

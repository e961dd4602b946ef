/** @file direction_bench.cpp
 * Issue 6, "direction at extreme norms": the time to reach 1 - cos(W_B, W^mm) <= 1e-12 on
 * paper-main along the regularization path, solved in double in log form on F^perp
 * (ntp::direction_path, deep.hpp). Counters: the final 1 - cos, its error bound, B = ||W_B||, the
 * smallest gap R, the fitted rate 1 - cos ~ C B^slope, and the path points.
 *
 * Baseline in the same run: `ridge_path_full/...`, the full-space ridge path of regpath.hpp (dense
 * Newton in double, no log form) given 5 s: how far in B and 1 - cos the ordinary computation gets
 * before e^{-R} leaves double's range (theory.md §6).
 */
#include <benchmark/benchmark.h>

#include <cmath>

#include "ntp/deep.hpp"
#include "ntp/generators.hpp"
#include "ntp/regpath.hpp"

namespace {

const ntp::InstanceData& paper_main() {
  static const ntp::InstanceData data = [] {
    ntp::GeneratorOptions o;
    o.family = "paper-main";
    o.seed = 1;
    return ntp::generate(o);
  }();
  return data;
}

const ntp::DeepReference& reference() {
  static const ntp::DeepReference ref = ntp::deep_reference(paper_main());
  return ref;
}

void BM_direction_path_1e12(benchmark::State& state) {
  const auto& ref = reference();
  ntp::DirectionPath path;
  for (auto _ : state) {
    path = ntp::direction_path(paper_main(), ref);
    benchmark::DoNotOptimize(path.points.data());
  }
  const auto& last = path.points.back();
  state.counters["one_minus_cos"] = last.one_minus_cos;
  state.counters["error_bound"] = last.error_bound;
  state.counters["B"] = last.norm;
  state.counters["R"] = last.min_gap;
  state.counters["rate_slope"] = path.rate_slope;
  state.counters["rate_C"] = path.rate_constant;
  state.counters["points"] = static_cast<double>(path.points.size());
  state.counters["reached"] = path.reached_target ? 1 : 0;
}
BENCHMARK(BM_direction_path_1e12)->Unit(benchmark::kSecond)->Iterations(1);

void BM_ridge_path_full(benchmark::State& state) {
  ntp::RidgePathOptions o;
  o.lambda_max = 1;
  o.lambda_min = 1e-300;
  o.per_decade = 1;
  o.max_seconds = 5;
  std::vector<ntp::RidgePoint> path;
  for (auto _ : state) {
    path = ntp::ridge_path(paper_main(), o);
    benchmark::DoNotOptimize(path.data());
  }
  // The last converged point: the furthest the full double path gets.
  const auto& mm = reference().w_mm_double;
  double best = 1;
  double B = 0;
  for (const auto& p : path) {
    if (!p.converged) break;
    const double c = 0.5 * (p.W / p.W.norm() - mm / mm.norm()).squaredNorm();
    if (c < best) {
      best = c;
      B = p.B;
    }
  }
  state.counters["one_minus_cos"] = best;
  state.counters["B"] = B;
  state.counters["points"] = static_cast<double>(path.size());
}
BENCHMARK(BM_ridge_path_full)->Unit(benchmark::kSecond)->Iterations(1);

}  // namespace

BENCHMARK_MAIN();

/** @file analyze_bench.cpp
 * Google Benchmark suite for `ntpcheck analyze` (issue 3): the full certified analysis
 * (ntp::analyze: H, (C) and (6) with exact certificates, the W* enclosure, W^mm proved optimal by
 * exact KKT, bound (9) on a grid) on paper-main, its stages one by one, and its scaling with V*d on
 * `overparameterized` instances (|S_j| = 6, m = 5 d / 6).
 *
 * Baseline in the same run: `analyze_stage/double_svd_w_star` (the floating W* alone, an SVD solve
 * of (C) in double, what an uncertified tool would compute) and the counters qp_s / exact_s of the
 * W^mm stage (the float QP against the exact KKT solve and its verification).
 */
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <string>

#include "ntp/analyze.hpp"
#include "ntp/attainment.hpp"
#include "ntp/compatibility.hpp"
#include "ntp/generators.hpp"
#include "ntp/max_margin.hpp"
#include "ntp/separability.hpp"
#include "ntp/subspace.hpp"
#include "ntp/w_star.hpp"

namespace {

ntp::InstanceData paper_main() {
  ntp::GeneratorOptions o;
  o.family = "paper-main";
  o.seed = 1;
  return ntp::generate(o);
}

ntp::InstanceData overparameterized(std::int64_t V, std::int64_t d, std::int64_t m = 0) {
  ntp::GeneratorOptions o;
  o.family = "overparameterized";
  o.seed = 1;
  o.vocab_size = V;
  o.embedding_dim = d;
  o.num_contexts = m > 0 ? m : 5 * d / 6;
  o.support_size = 6;
  return ntp::generate(o);
}

void BM_analyze_paper_main(benchmark::State& state) {
  const ntp::InstanceData data = paper_main();
  for (auto _ : state) {
    const ntp::AnalyzeResult r = ntp::analyze(data);
    if (r.exit != ntp::ExitCode::kAllHold) state.SkipWithError("analyze did not decide everything");
    benchmark::DoNotOptimize(r.report);
  }
  state.counters["unknowns"] = static_cast<double>(data.vocab_size * data.embedding_dim);
}
BENCHMARK(BM_analyze_paper_main)
    ->Name("analyze/paper-main")
    ->Unit(benchmark::kSecond)
    ->Iterations(3);

void BM_stage(benchmark::State& state, const std::string& stage) {
  const ntp::InstanceData data = paper_main();
  ntp::CompatibilityOptions copt;
  copt.compute_w_star = false;
  const ntp::CompatibilityResult comp = ntp::check_compatibility(data, copt);
  const ntp::SeparabilityResult sep = ntp::decide_separability(data);
  const ntp::WStarResult ws = ntp::enclose_w_star(data, comp.verdict, 200, comp.rank);
  const ntp::MaxMarginResult mm = ntp::compute_w_mm(data, sep.verdict);
  double qp = 0;
  double exact = 0;
  for (auto _ : state) {
    if (stage == "compatibility") {
      benchmark::DoNotOptimize(ntp::check_compatibility(data, copt).verdict);
    } else if (stage == "separability") {
      benchmark::DoNotOptimize(ntp::decide_separability(data).verdict);
    } else if (stage == "w_star") {
      benchmark::DoNotOptimize(ntp::enclose_w_star(data, comp.verdict, 200, comp.rank).radius);
    } else if (stage == "w_mm") {
      const ntp::MaxMarginResult r = ntp::compute_w_mm(data, sep.verdict);
      qp += r.seconds_qp;
      exact += r.seconds_exact + r.seconds_verify;
      benchmark::DoNotOptimize(r.norm);
    } else if (stage == "attainment") {
      benchmark::DoNotOptimize(ntp::check_attainment(data, ws, mm).r_certified);
    } else {  // double_svd_w_star: the uncertified baseline
      ntp::CompatibilityOptions o;
      o.compute_w_star = true;
      benchmark::DoNotOptimize(ntp::check_compatibility(data, o).w_star.data());
    }
  }
  if (stage == "w_mm") {
    const auto n = static_cast<double>(state.iterations());
    state.counters["qp_s"] = qp / n;
    state.counters["exact_s"] = exact / n;
  }
}
BENCHMARK_CAPTURE(BM_stage, compatibility, std::string("compatibility"))
    ->Name("analyze_stage/compatibility")
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_stage, separability, std::string("separability"))
    ->Name("analyze_stage/separability")
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_stage, w_star, std::string("w_star"))
    ->Name("analyze_stage/w_star")
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_stage, w_mm, std::string("w_mm"))
    ->Name("analyze_stage/w_mm")
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_stage, attainment, std::string("attainment"))
    ->Name("analyze_stage/attainment")
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_stage, double_svd_w_star, std::string("double_svd_w_star"))
    ->Name("analyze_stage/double_svd_w_star")
    ->Unit(benchmark::kMillisecond);

void BM_analyze_scaling(benchmark::State& state) {
  const ntp::InstanceData data = overparameterized(state.range(0), state.range(1));
  ntp::AnalyzeResult last;
  for (auto _ : state) {
    last = ntp::analyze(data);
    benchmark::DoNotOptimize(last.report);
  }
  state.counters["Vd"] = static_cast<double>(data.vocab_size * data.embedding_dim);
  state.counters["m"] = static_cast<double>(data.num_contexts());
  for (const char* k : {"separability", "w_star", "w_mm"}) {
    state.counters[std::string(k) + "_s"] = last.report["timings"][k].get<double>();
  }
}
BENCHMARK(BM_analyze_scaling)
    ->Name("analyze/overparameterized")
    ->ArgNames({"V", "d"})
    ->Args({10, 60})
    ->Args({20, 60})
    ->Args({10, 120})
    ->Args({20, 120})
    ->Args({40, 120})
    ->Unit(benchmark::kSecond)
    ->Iterations(1);

/** Target 5: analyze's cost along one dimension at a time (|S_j| = 6, V = 10, d = 48, m = 30 held),
 * with Complexity(oAuto) (Google Benchmark fits 1, N, N log N, N^2, N^3 and reports the best). */
void BM_analyze_complexity(benchmark::State& state, int which) {
  std::int64_t V = 10, d = 48, m = 30;
  (which == 0 ? V : which == 1 ? d : m) = state.range(0);
  const ntp::InstanceData data = overparameterized(V, d, m);
  for (auto _ : state) {
    const ntp::AnalyzeResult r = ntp::analyze(data);
    if (r.exit != ntp::ExitCode::kAllHold) state.SkipWithError("analyze did not decide everything");
    benchmark::DoNotOptimize(r.report);
  }
  state.SetComplexityN(state.range(0));
}
BENCHMARK_CAPTURE(BM_analyze_complexity, V, 0)
    ->Name("analyze_complexity/V")
    ->DenseRange(8, 32, 8)
    ->Complexity(benchmark::oAuto)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);
BENCHMARK_CAPTURE(BM_analyze_complexity, d, 1)
    ->Name("analyze_complexity/d")
    ->DenseRange(36, 96, 20)
    ->Complexity(benchmark::oAuto)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);
BENCHMARK_CAPTURE(BM_analyze_complexity, m, 2)
    ->Name("analyze_complexity/m")
    ->DenseRange(15, 45, 10)
    ->Complexity(benchmark::oAuto)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

}  // namespace

BENCHMARK_MAIN();

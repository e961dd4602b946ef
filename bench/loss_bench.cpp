/** @file loss_bench.cpp
 * Google Benchmark suite for the hot loop: ntp::loss_and_gradient (loss + gradient) in every scalar
 * type, next to the plain Eigen GEMM pair it contains (logits = W Hbar, grad = C Hbar^T), so the
 * ratio loss/GEMM and the slowdown of each precision against double can be read off one run.
 *
 * Flop count: 4 V d m per evaluation (the two GEMMs; the softmax is not counted), reported as the
 * rate counter GFLOP (printed as GFLOP=x/s). The counter "support" is |S_j| (every context).
 *
 * Instances are built directly as InstanceData (any (V, d, m) shape): Gaussian embeddings
 * N(0, I/d) on the 2^-16 grid, weights 1/m, supports of min(6, V/2) distinct random tokens with
 * random positive integer counts as probabilities, and W with N(0, 0.1^2) entries on the 2^-10 grid
 * (exact in every type, so W is the same matrix in every precision). Seeded std::mt19937_64 with
 * the shape as seed: every type sees the same instance at a given shape.
 */
#include <benchmark/benchmark.h>
#include <mpfr.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "ntp/fast_kernels.hpp"
#include "ntp/generators.hpp"
#include "ntp/train.hpp"

namespace {

struct Shape {
  std::int64_t V, d, m;
};

// The shapes of the issue. Multiprecision types run only the two small ones.
constexpr Shape kAllShapes[] = {{10, 60, 50}, {64, 32, 32}, {256, 128, 128}, {1024, 256, 256}};
constexpr Shape kSmallShapes[] = {{10, 60, 50}, {64, 32, 32}};
constexpr Shape kTarget3Shapes[] = {{10, 60, 50}, {64, 32, 32}, {256, 128, 128}};

/** The exact instance and the weight matrix (in double, exact on a coarse grid) of one shape. */
struct Problem {
  ntp::InstanceData data;
  Eigen::MatrixXd W;
  std::int64_t support = 0;
};

double OnGrid(double x, double grid) { return std::round(x / grid) * grid; }

Problem MakeProblem(const Shape& s) {
  std::mt19937_64 rng(static_cast<std::uint64_t>(s.V * 1'000'003 + s.d * 1'009 + s.m));
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_int_distribution<int> count(1, 100);
  Problem p;
  p.support = std::min<std::int64_t>(6, s.V / 2);
  p.data.vocab_size = s.V;
  p.data.embedding_dim = s.d;
  p.data.name = "bench";
  const double h_scale = 1.0 / std::sqrt(static_cast<double>(s.d));
  std::vector<std::int32_t> ids(static_cast<std::size_t>(s.V));
  std::iota(ids.begin(), ids.end(), 0);
  for (std::int64_t j = 0; j < s.m; ++j) {
    ntp::ContextData c;
    for (std::int64_t i = 0; i < s.d; ++i) {
      c.embedding.push_back(
          ntp::rational_from_double(OnGrid(h_scale * normal(rng), ntp::kEmbeddingGrid)));
    }
    c.weight = ntp::Rational(1, s.m);
    std::shuffle(ids.begin(), ids.end(), rng);
    c.tokens.assign(ids.begin(), ids.begin() + p.support);
    std::vector<int> counts(static_cast<std::size_t>(p.support));
    for (auto& n : counts) n = count(rng);
    const int total = std::accumulate(counts.begin(), counts.end(), 0);
    for (int n : counts) c.probabilities.push_back(ntp::Rational(n, total));
    p.data.contexts.push_back(std::move(c));
  }
  ntp::validate_and_normalise(p.data);
  p.W.resize(s.V, s.d);
  for (Eigen::Index i = 0; i < p.W.size(); ++i) p.W(i) = OnGrid(0.1 * normal(rng), 0x1.0p-10);
  return p;
}

/** Problems are built once per shape (the rational conversions are not what we measure). */
const Problem& GetProblem(const Shape& s) {
  static std::map<std::tuple<std::int64_t, std::int64_t, std::int64_t>, Problem> cache;
  const auto key = std::make_tuple(s.V, s.d, s.m);
  auto it = cache.find(key);
  if (it == cache.end()) it = cache.emplace(key, MakeProblem(s)).first;
  return it->second;
}

/** Everything one benchmark needs in scalar type S (MPFR precision set before any conversion). */
template <class S>
struct Setup {
  Setup(const Shape& s, unsigned mpfr_digits) {
    if (mpfr_digits != 0) ntp::set_mpfr_digits(mpfr_digits);
    const Problem& p = GetProblem(s);
    support = p.support;
    inst = ntp::to_scalar<S>(p.data);
    W.resize(s.V, s.d);
    for (Eigen::Index i = 0; i < W.size(); ++i) W(i) = ntp::from_double<S>(p.W(i));
    grad.resize(s.V, s.d);
  }
  ntp::Instance<S> inst;
  ntp::Matrix<S> W;
  ntp::Matrix<S> grad;
  std::int64_t support = 0;
};

void SetCounters(benchmark::State& state, const Shape& s, std::int64_t support) {
  const double flops = 4.0 * static_cast<double>(s.V * s.d * s.m);
  state.counters["GFLOP"] = benchmark::Counter(
      flops * 1e-9 * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["support"] = static_cast<double>(support);
}

/** loss_and_gradient: CE, excess, min gap and the V x d gradient. */
template <class S>
void BmLossGrad(benchmark::State& state, Shape s, unsigned mpfr_digits) {
  Setup<S> st(s, mpfr_digits);
  ntp::LossWorkspace<S> ws(st.inst);
  const ntp::LossValue<S> check = ntp::loss_and_gradient(st.inst, st.W, ws, &st.grad);
  if (!ntp::is_finite_s(check.excess)) {
    state.SkipWithError("non-finite excess loss");
    return;
  }
  for (auto _ : state) {
    ntp::LossValue<S> v = ntp::loss_and_gradient(st.inst, st.W, ws, &st.grad);
    benchmark::DoNotOptimize(v);
    benchmark::DoNotOptimize(st.grad.data());
    benchmark::ClobberMemory();
  }
  SetCounters(state, s, st.support);
}

/** Item 6: loss+grad with OpenBLAS on two threads (same results bit for bit; see fast_kernels). */
void BmLossGradTwoThreads(benchmark::State& state, Shape s) {
  const int before = ntp::fast::blas_threads();
  ntp::fast::set_blas_threads(2);
  BmLossGrad<double>(state, s, 0);
  ntp::fast::set_blas_threads(before);
}

/** The two products of the kernel alone, same shapes and type: W Hbar (V x m), C Hbar^T (V x d). */
template <class S>
void BmGemmPair(benchmark::State& state, Shape s, unsigned mpfr_digits) {
  Setup<S> st(s, mpfr_digits);
  ntp::LossWorkspace<S> ws(st.inst);
  ntp::loss_and_gradient(st.inst, st.W, ws, &st.grad);  // realistic coefficients C in ws.coef
  ntp::Matrix<S> logits(s.V, s.m);
  for (auto _ : state) {
    logits.noalias() = st.W * st.inst.Hbar;
    st.grad.noalias() = ws.coef * st.inst.Hbar.transpose();
    benchmark::DoNotOptimize(logits.data());
    benchmark::DoNotOptimize(st.grad.data());
    benchmark::ClobberMemory();
  }
  SetCounters(state, s, st.support);
}

/** The same two products through ntp::fast::gemm (OpenBLAS when linked): the kernel's own GEMMs. */
template <class S>
void BmFastGemmPair(benchmark::State& state, Shape s) {
  Setup<S> st(s, 0);
  ntp::LossWorkspace<S> ws(st.inst);
  ntp::loss_and_gradient(st.inst, st.W, ws, &st.grad);
  ntp::Matrix<S> logits(s.V, s.m);
  for (auto _ : state) {
    ntp::fast::gemm(st.W.data(), st.inst.Hbar.data(), logits.data(), s.V, s.m, s.d, false);
    ntp::fast::gemm(ws.coef.data(), st.inst.Hbar.data(), st.grad.data(), s.V, s.d, s.m, true);
    benchmark::DoNotOptimize(logits.data());
    benchmark::DoNotOptimize(st.grad.data());
    benchmark::ClobberMemory();
  }
  SetCounters(state, s, st.support);
  state.SetLabel(ntp::fast::backend_description());
}

/** Target 1's baseline: one plain GEMM with the same 4 V d m flops, (V x 2d) (2d x m), through the
 * fastest GEMM this binary has (ntp::fast::gemm: OpenBLAS when linked, else Eigen). */
template <class S>
void BmSameFlopsGemm(benchmark::State& state, Shape s) {
  ntp::Matrix<S> A = ntp::Matrix<S>::Random(s.V, 2 * s.d);
  ntp::Matrix<S> B = ntp::Matrix<S>::Random(2 * s.d, s.m);
  ntp::Matrix<S> C(s.V, s.m);
  for (auto _ : state) {
    ntp::fast::gemm(A.data(), B.data(), C.data(), s.V, s.m, 2 * s.d, false);
    benchmark::DoNotOptimize(C.data());
    benchmark::ClobberMemory();
  }
  SetCounters(state, s, 0);
}

/**
 * Target 3's floor for MPFR: the kernel's 2 V d m multiply-adds and nothing else, on the kernel's
 * own preallocated operands (W, Hbar and the coefficients C of one evaluation, same layout and
 * loop order), each as mpfr_mul into a preallocated number then mpfr_add (fused = false) or as
 * one mpfr_fma (fused = true). The floor is the faster of the two (bench/compare.py).
 */
void BmMpfrFloor(benchmark::State& state, Shape s, unsigned mpfr_digits, bool fused) {
  Setup<ntp::Mpfr> st(s, mpfr_digits);
  ntp::LossWorkspace<ntp::Mpfr> ws(st.inst);
  ntp::loss_and_gradient(st.inst, st.W, ws, &st.grad);  // realistic coefficients C in ws.coef
  const auto raw = [](const ntp::Mpfr& x) { return x.backend().data(); };
  ntp::Mpfr prod_holder;
  mpfr_ptr prod = prod_holder.backend().data();
  const ntp::Mpfr* W = st.W.data();
  const ntp::Mpfr* H = st.inst.Hbar.data();
  const ntp::Mpfr* C = ws.coef.data();
  ntp::Mpfr* L = ws.logits.data();
  ntp::Mpfr* G = st.grad.data();
  for (auto _ : state) {
    for (std::int64_t j = 0; j < s.m; ++j) {
      for (std::int64_t v = 0; v < s.V; ++v) {
        mpfr_ptr acc = L[v + j * s.V].backend().data();
        mpfr_set_zero(acc, 1);
        for (std::int64_t k = 0; k < s.d; ++k) {
          if (fused) {
            mpfr_fma(acc, raw(W[v + k * s.V]), raw(H[k + j * s.d]), acc, MPFR_RNDN);
          } else {
            mpfr_mul(prod, raw(W[v + k * s.V]), raw(H[k + j * s.d]), MPFR_RNDN);
            mpfr_add(acc, acc, prod, MPFR_RNDN);
          }
        }
      }
    }
    for (std::int64_t k = 0; k < s.d; ++k) {
      for (std::int64_t v = 0; v < s.V; ++v) {
        mpfr_ptr acc = G[v + k * s.V].backend().data();
        mpfr_set_zero(acc, 1);
        for (std::int64_t j = 0; j < s.m; ++j) {
          if (fused) {
            mpfr_fma(acc, raw(C[v + j * s.V]), raw(H[k + j * s.d]), acc, MPFR_RNDN);
          } else {
            mpfr_mul(prod, raw(C[v + j * s.V]), raw(H[k + j * s.d]), MPFR_RNDN);
            mpfr_add(acc, acc, prod, MPFR_RNDN);
          }
        }
      }
    }
    benchmark::DoNotOptimize(L);
    benchmark::DoNotOptimize(G);
    benchmark::ClobberMemory();
  }
  SetCounters(state, s, st.support);
}

/** Target 3's floor for double-double: the 2 V d m multiply-adds acc += a * b on the kernel's
 * operands in plain loops (the Eigen GEMM pair, gemm_pair/dd, is the other candidate). */
void BmDdFloor(benchmark::State& state, Shape s) {
  Setup<dd_real> st(s, 0);
  ntp::LossWorkspace<dd_real> ws(st.inst);
  ntp::loss_and_gradient(st.inst, st.W, ws, &st.grad);
  const dd_real* W = st.W.data();
  const dd_real* H = st.inst.Hbar.data();
  const dd_real* C = ws.coef.data();
  dd_real* L = ws.logits.data();
  dd_real* G = st.grad.data();
  for (auto _ : state) {
    for (std::int64_t j = 0; j < s.m; ++j) {
      for (std::int64_t v = 0; v < s.V; ++v) {
        dd_real acc = 0.0;
        for (std::int64_t k = 0; k < s.d; ++k) acc += W[v + k * s.V] * H[k + j * s.d];
        L[v + j * s.V] = acc;
      }
    }
    for (std::int64_t k = 0; k < s.d; ++k) {
      for (std::int64_t v = 0; v < s.V; ++v) {
        dd_real acc = 0.0;
        for (std::int64_t j = 0; j < s.m; ++j) acc += C[v + j * s.V] * H[k + j * s.d];
        G[v + k * s.V] = acc;
      }
    }
    benchmark::DoNotOptimize(L);
    benchmark::DoNotOptimize(G);
    benchmark::ClobberMemory();
  }
  SetCounters(state, s, st.support);
}

/** Complexity in one dimension: loss+grad in double with the other two held fixed. */
void BmLossGradScaling(benchmark::State& state, int which) {
  Shape s{256, 64, 256};
  const std::int64_t n = state.range(0);
  (which == 0 ? s.V : which == 1 ? s.d : s.m) = n;
  Setup<double> st(s, 0);
  ntp::LossWorkspace<double> ws(st.inst);
  for (auto _ : state) {
    ntp::LossValue<double> v = ntp::loss_and_gradient(st.inst, st.W, ws, &st.grad);
    benchmark::DoNotOptimize(v);
    benchmark::ClobberMemory();
  }
  state.SetComplexityN(n);
  SetCounters(state, s, st.support);
}

std::string ShapeName(const Shape& s) {
  return "/V:" + std::to_string(s.V) + "/d:" + std::to_string(s.d) + "/m:" + std::to_string(s.m);
}

template <class S, std::size_t N>
void RegisterType(const std::string& type_name, const Shape (&shapes)[N],
                  unsigned mpfr_digits = 0) {
  for (const Shape& s : shapes) {
    benchmark::RegisterBenchmark(("loss_grad/" + type_name + ShapeName(s)).c_str(), BmLossGrad<S>,
                                 s, mpfr_digits)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("gemm_pair/" + type_name + ShapeName(s)).c_str(), BmGemmPair<S>,
                                 s, mpfr_digits)
        ->Unit(benchmark::kMicrosecond);
  }
}

}  // namespace

int main(int argc, char** argv) {
  for (const Shape& s : kAllShapes) {
    benchmark::RegisterBenchmark(("fast_gemm_pair/double" + ShapeName(s)).c_str(),
                                 BmFastGemmPair<double>, s)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("same_flops_gemm/double" + ShapeName(s)).c_str(),
                                 BmSameFlopsGemm<double>, s)
        ->Unit(benchmark::kMicrosecond);
  }
  for (const Shape& s : kAllShapes) {
    benchmark::RegisterBenchmark(("loss_grad_2threads/double" + ShapeName(s)).c_str(),
                                 BmLossGradTwoThreads, s)
        ->Unit(benchmark::kMicrosecond)
        ->UseRealTime();
  }
  // Complexity over V, d and m around (V, d, m) = (256, 64, 256) (bench/README.md "Scaling").
  const char* dims[] = {"V", "d", "m"};
  for (int which = 0; which < 3; ++which) {
    benchmark::RegisterBenchmark((std::string("scaling/double/") + dims[which]).c_str(),
                                 BmLossGradScaling, which)
        ->RangeMultiplier(2)
        ->Range(32, 2048)
        ->Complexity(benchmark::oN)
        ->Unit(benchmark::kMicrosecond);
  }
  RegisterType<double>("double", kAllShapes);
  RegisterType<float>("float", kAllShapes);
  RegisterType<long double>("long_double", kAllShapes);
  RegisterType<dd_real>("dd", kSmallShapes);
  RegisterType<qd_real>("qd", kSmallShapes);
  RegisterType<ntp::Float128>("float128", kSmallShapes);
  RegisterType<ntp::Mp50>("mp50", kSmallShapes);
  RegisterType<ntp::Mpfr>("mpfr:50", kSmallShapes, 50);
  RegisterType<ntp::Mpfr>("mpfr:100", kSmallShapes, 100);
  RegisterType<ntp::Mpfr>("mpfr:300", kSmallShapes, 300);
  // Target 3 (bench/compare.py): MPFR at 50 and 200 digits and dd against their multiply-add
  // floors, at the two small shapes and (256,128,128).
  RegisterType<ntp::Mpfr>("mpfr:200", kSmallShapes, 200);
  for (const Shape& s : kTarget3Shapes) {
    for (unsigned digits : {50U, 200U}) {
      const std::string type = "mpfr:" + std::to_string(digits);
      if (s.V == 256) {
        benchmark::RegisterBenchmark(("loss_grad/" + type + ShapeName(s)).c_str(),
                                     BmLossGrad<ntp::Mpfr>, s, digits)
            ->Unit(benchmark::kMillisecond);
      }
      benchmark::RegisterBenchmark(("mpfr_floor_muladd/" + type + ShapeName(s)).c_str(),
                                   BmMpfrFloor, s, digits, false)
          ->Unit(benchmark::kMicrosecond);
      benchmark::RegisterBenchmark(("mpfr_floor_fma/" + type + ShapeName(s)).c_str(), BmMpfrFloor,
                                   s, digits, true)
          ->Unit(benchmark::kMicrosecond);
    }
    if (s.V == 256) {
      benchmark::RegisterBenchmark(("loss_grad/dd" + ShapeName(s)).c_str(), BmLossGrad<dd_real>, s,
                                   0U)
          ->Unit(benchmark::kMicrosecond);
      benchmark::RegisterBenchmark(("gemm_pair/dd" + ShapeName(s)).c_str(), BmGemmPair<dd_real>, s,
                                   0U)
          ->Unit(benchmark::kMicrosecond);
    }
    benchmark::RegisterBenchmark(("dd_floor/dd" + ShapeName(s)).c_str(), BmDdFloor, s)
        ->Unit(benchmark::kMicrosecond);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

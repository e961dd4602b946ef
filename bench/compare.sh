#!/usr/bin/env bash
# Issue 7's comparison in one command: builds loss_bench (Release, the portable reference build that
# users get), runs the double rows and the GEMM baselines, then NumPy and PyTorch on the same
# shapes in the same session, and prints the table of ratios against the targets (bench/README.md).
# Usage: bench/compare.sh [BUILD_DIR]   (default build-bench; needs /usr/bin/python3 with NumPy,
# and PyTorch for its columns: ci/install-deps.sh --with-python)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-bench}
out=${NTP_BENCH_OUT:-$build/compare}
mkdir -p "$out"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DNTPCHECK_BUILD_BENCHMARKS=ON >/dev/null
cmake --build "$build" -j"$(nproc)" --target loss_bench ntpcheck >/dev/null
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
"$build"/bench/loss_bench \
  --benchmark_filter='^(loss_grad|gemm_pair|fast_gemm_pair|same_flops_gemm)/double/' \
  --benchmark_min_time=0.2 --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
  --benchmark_out="$out/loss_bench.json" --benchmark_out_format=json >/dev/null 2>"$out/loss_bench.err"
# Target 3: MPFR (50, 200 digits) and dd against their multiply-add floors (about 2 minutes).
"$build"/bench/loss_bench \
  --benchmark_filter='^(loss_grad/(mpfr:(50|200)|dd)|mpfr_floor_(muladd|fma)/mpfr:(50|200)|dd_floor/dd|gemm_pair/dd)/V:(10|64|256)/' \
  --benchmark_min_time=0.2 --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
  --benchmark_out="$out/loss_bench_mp.json" --benchmark_out_format=json >/dev/null 2>>"$out/loss_bench.err"
/usr/bin/python3 bench/peers.py --repeat 5 >"$out/peers.jsonl"
# Target 4: check and analyze on paper-main end to end, with their phase breakdowns.
/usr/bin/python3 bench/e2e.py "$build"/ntpcheck >"$out/e2e.jsonl"
/usr/bin/python3 bench/compare.py "$out/loss_bench.json" "$out/peers.jsonl" "$out/loss_bench_mp.json" \
  "$out/e2e.jsonl" | tee "$out/table.md"

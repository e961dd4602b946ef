#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ (clang, ASan + UBSan) in build-fuzz/, replays every input
# of fuzz/regressions/<target>/ and fuzz/corpus/<target>/ once, then fuzzes each target for
# SECONDS_PER_TARGET seconds (one process, one core) from its seed corpus and regressions.
# Fails on any finding: a crash, an exception other than ntp::Error, a leak, a sanitizer report,
# a broken round-trip invariant, an input slower than NTP_FUZZ_TIMEOUT seconds, or over 2 GB.
#
# Usage: ci/fuzz.sh [SECONDS_PER_TARGET]      (default 10: a minute for the six targets)
#   NTP_FUZZ_TARGETS="npy npz"   only these targets (default: all six)
#   NTP_FUZZ_BUILD=DIR           build directory (default build-fuzz)
#   NTP_FUZZ_TIMEOUT=S           per-input time limit (default 20)
# The grown corpus stays in DIR/corpus/<target>/ (the next run continues from it); a finding is
# written to DIR/artifacts/<target>/ and the command that reproduces it is printed.
# Long campaign (fuzz/README.md): ci/fuzz.sh 600
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seconds="${1:-10}"
build="${NTP_FUZZ_BUILD:-build-fuzz}"
timeout_s="${NTP_FUZZ_TIMEOUT:-20}"
read -r -a targets <<<"${NTP_FUZZ_TARGETS:-instance_json npy npz npz_trajectory certificate corpus}"

# clang 14, its fuzzer runtime and the library's dependencies are Debian packages
# (ci/install-deps.sh); nothing is installed here.
ci/install-deps.sh
if ! command -v clang++ >/dev/null; then
  echo "ci/fuzz.sh: clang++ not found (Debian packages clang and libclang-rt-14-dev)" >&2
  exit 2
fi

cmake -S fuzz -B "$build" -DCMAKE_CXX_COMPILER=clang++ >/dev/null
cmake --build "$build" -j "${NTP_JOBS:-$(nproc 2>/dev/null || echo 2)}"

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"

max_len() {
  case "$1" in
    npy | corpus) echo 4096 ;;
    *) echo 16384 ;;
  esac
}

failed=()
for t in "${targets[@]}"; do
  bin="$root/$build/fuzz_$t"
  [[ -x "$bin" ]] || { echo "ci/fuzz.sh: no target fuzz_$t" >&2; exit 2; }
  dict=()
  case "$t" in instance_json | certificate) dict=(-dict="$root/fuzz/json.dict") ;; esac
  artifacts="$root/$build/artifacts/$t"
  work="$root/$build/corpus/$t"
  mkdir -p "$artifacts" "$work" "fuzz/regressions/$t"

  # 1. Replay: every regression and seed input once (a file argument runs just that input).
  mapfile -t inputs < <(find "fuzz/regressions/$t" "fuzz/corpus/$t" -type f ! -name 'README*' | sort)
  echo "== fuzz_$t: replaying ${#inputs[@]} regression and seed inputs"
  if ((${#inputs[@]} > 0)) &&
    ! "$bin" -timeout="$timeout_s" -rss_limit_mb=2048 -artifact_prefix="$artifacts/" \
      "${inputs[@]}" >"$artifacts/replay.log" 2>&1; then
    tail -n 40 "$artifacts/replay.log"
    echo "FAIL fuzz_$t: a regression or seed input fails (log: $artifacts/replay.log)"
    failed+=("$t")
    continue
  fi

  # 2. Fuzz: new inputs go to the first corpus directory ($work), never into the repository.
  if ((seconds > 0)); then
    echo "== fuzz_$t: fuzzing for $seconds s"
    if ! "$bin" "${dict[@]}" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len="$(max_len "$t")" \
      -timeout="$timeout_s" -print_final_stats=1 -artifact_prefix="$artifacts/" \
      "$work" "fuzz/corpus/$t" "fuzz/regressions/$t" >"$artifacts/fuzz.log" 2>&1; then
      tail -n 60 "$artifacts/fuzz.log"
      echo "FAIL fuzz_$t: finding saved in $artifacts/ (reproduce: $build/fuzz_$t FILE)"
      failed+=("$t")
      continue
    fi
    grep -E '^(#[0-9]+\s+DONE|stat::number_of_executed_units|stat::peak_rss_mb)' "$artifacts/fuzz.log" || true
  fi
done

if ((${#failed[@]} > 0)); then
  echo "ci/fuzz.sh: FAILED: ${failed[*]}"
  exit 1
fi
echo "ci/fuzz.sh: ${#targets[@]} targets clean (${seconds} s each)"

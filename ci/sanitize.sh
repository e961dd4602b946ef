#!/usr/bin/env bash
# ASan + UBSan build of the unit suite and the CLI, then the unit-labelled tests.
# Usage: ci/sanitize.sh   (build dir: build-asan)
set -euo pipefail
cd "$(dirname "$0")/.."
ci/install-deps.sh --with-python
ci/build.sh build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNTPCHECK_SANITIZE=ON \
  -DNTPCHECK_BUILD_TESTS=ON -DNTPCHECK_BUILD_PROPERTIES=OFF -DNTPCHECK_BUILD_BENCHMARKS=OFF \
  -DNTPCHECK_BUILD_PYTHON=OFF -DNTPCHECK_MPI=OFF
# NTPCHECK_MPI=OFF: LeakSanitizer reports Open MPI's own allocations; the sanitized build checks the
# MPI-free code (sweep_mpi is skipped, sweep_local runs), the normal build runs the MPI tests.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export NTP_SLOW_BUILD=1  # tests/cli_test.sh: larger time budgets under the sanitizers
cd build-asan
ctest -L unit --output-on-failure -j "${NTP_JOBS:-2}" --timeout 900

#!/usr/bin/env bash
# Configure and build ntpcheck. Usage: ci/build.sh [BUILD_DIR] [extra cmake -D options...]
# Defaults: build/, Release, reference build (-ffp-contract=off, single thread), tests on.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${1:-build}"
shift || true
jobs="${NTP_JOBS:-$(nproc 2>/dev/null || echo 2)}"
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DNTPCHECK_REFERENCE=ON "$@" >/dev/null
cmake --build "$build_dir" -j "$jobs"

#!/usr/bin/env bash
# The test command of README.md: installs what is missing, builds, runs ctest.
# Default: unit + property + short precision suites. NTP_TEST_LABELS overrides the label regex,
# e.g. NTP_TEST_LABELS=slow ci/test.sh runs the long sweeps.
set -euo pipefail
cd "$(dirname "$0")/.."
ci/install-deps.sh --with-python
# Benchmarks are built (not run) so that they keep compiling.
ci/build.sh build -DNTPCHECK_BUILD_TESTS=ON -DNTPCHECK_BUILD_PROPERTIES=ON -DNTPCHECK_BUILD_BENCHMARKS=ON
labels="${NTP_TEST_LABELS:-unit|property|precision}"
cd build
ctest -L "$labels" -LE "${NTP_TEST_EXCLUDE:-^slow$}" --output-on-failure -j "${NTP_JOBS:-2}" --timeout 900

# Reliability (issue 8): the unit suite under ASan + UBSan, then the fuzz smoke run (about a
# minute of fuzzing). NTP_SKIP_RELIABILITY=1 skips both (a quick local run).
if [[ "${NTP_SKIP_RELIABILITY:-0}" != 1 ]]; then
  cd ..
  ci/sanitize.sh
  ci/fuzz.sh "${NTP_FUZZ_SECONDS:-10}"
fi

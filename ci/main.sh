#!/usr/bin/env bash
# The main job of README.md: installs what is missing, builds Release, and runs ntpcheck on the
# paper's main instance (generated from seed 1; no file needed). Extra arguments go to `ntpcheck run`.
set -euo pipefail
cd "$(dirname "$0")/.."
ci/install-deps.sh
ci/build.sh build -DNTPCHECK_BUILD_TESTS=OFF -DNTPCHECK_BUILD_PROPERTIES=OFF >&2
exec build/ntpcheck run "$@"

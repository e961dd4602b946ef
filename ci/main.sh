#!/usr/bin/env bash
# The main job of README.md: installs what is missing, builds Release, and decides the theory's
# claims on the paper's main instance (generated from seed 1; no file needed): `ntpcheck check
# @paper-main`. Extra arguments go to `ntpcheck check` (e.g. --json, --junit report.xml).
set -euo pipefail
cd "$(dirname "$0")/.."
ci/install-deps.sh
ci/build.sh build -DNTPCHECK_BUILD_TESTS=OFF -DNTPCHECK_BUILD_PROPERTIES=OFF >&2
exec build/ntpcheck check @paper-main "$@"

#!/usr/bin/env bash
# Install every Debian package ntpcheck needs. Idempotent: skips what is installed.
# Usage: ci/install-deps.sh [--with-python]   (python3-numpy/torch for examples and bench comparisons)
set -euo pipefail

pkgs=(
  build-essential cmake pkg-config
  libeigen3-dev libboost-dev libmpfr-dev libgmp-dev libmpfi-dev libqd-dev
  libgtest-dev libgmock-dev librapidcheck-dev libbenchmark-dev
  nlohmann-json3-dev libcli11-dev libfmt-dev libglpk-dev libflint-dev libzip-dev zlib1g-dev
  gnuplot-nox libopenblas-dev
  openmpi-bin libopenmpi-dev
  clang lld libclang-rt-14-dev
)
if [[ "${1:-}" == "--with-python" ]]; then
  pkgs+=(python3 python3-dev pybind11-dev python3-numpy python3-torch)
fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "ci/install-deps.sh: all ${#pkgs[@]} packages already installed"
  exit 0
fi

echo "ci/install-deps.sh: installing ${missing[*]}"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "ci/install-deps.sh: done"

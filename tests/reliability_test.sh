#!/usr/bin/env bash
# Reliability tests of issue 8: atomic outputs under kills, and byte-identical reruns.
#
# Usage: tests/reliability_test.sh PATH/TO/ntpcheck     (exit 0 on success; "FAIL ..." lines)
#
# (a) Atomic outputs (atomic_file.hpp): every output goes to a hidden temporary
#     ".<name>.tmp.<pid>.<random>" next to the target and is renamed over it when complete, so a
#     kill leaves either no file or the complete one under the final name, never a partial one.
#     - killed mid-run (about 1 s into `train --steps 100000000` with .npz and .json outputs, and
#       into `analyze --certificates`) by SIGKILL, SIGTERM and SIGINT: no file under the final name;
#     - killed mid-write (the moment the temporary file has bytes, on an instance whose trajectory
#       takes tens of MB) by SIGKILL and SIGTERM: no file under the final name (a complete one if
#       the rename won the race); a file that appears under the final name while ntpcheck runs
#       must be complete (this catches a writer that is not atomic: checked against a fake);
#     - a normal run leaves no temporary file.
#     ntpcheck installs no signal handler, so SIGTERM and SIGINT end it like SIGKILL: a temporary
#     file caught mid-write is left behind (reported, not a failure).
# (b) Determinism: `train` (double and mpfr:30; .npz and .json) and `analyze --json --certificates`
#     run twice give byte-identical files (the analysis report without its "timings" block).
set -uo pipefail

if [[ $# -ne 1 || ! -x "$1" ]]; then
  echo "usage: $0 PATH/TO/ntpcheck" >&2
  exit 2
fi
ntp="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failures=0
fail() {
  echo "FAIL $*"
  failures=$((failures + 1))
}
note() { echo "  note: $*"; }

# Runs ntpcheck in the background with SIGINT and SIGTERM at their default action (a non-interactive
# shell starts background jobs with SIGINT ignored). Sets $pid.
start() {
  env --default-signal=INT,TERM "$ntp" "$@" >/dev/null 2>&1 &
  pid=$!
}

# Temporary files of output $1 in the current directory (AtomicOutput's, and libzip's own
# "<temporary>.XXXXXX" for .npz).
temps_of() { find . -maxdepth 1 -name ".$1.tmp.*" -printf '%f\n'; }

# Whether $1 is a complete output file: a .npz ends with the zip end-of-central-directory record
# (22 bytes, "PK\5\6", no archive comment), a .json with its closing brace.
complete() {
  case "$1" in
    *.npz) [[ "$(tail -c 22 "$1" | head -c 4 | od -An -tx1 | tr -d ' \n')" == "504b0506" ]] ;;
    *.json) [[ "$(tail -c 2 "$1" | tr -d '\n')" == "}" ]] ;;
    *) return 1 ;;
  esac
}

# --- (a) kills mid-run -------------------------------------------------------------------------
# kill_mid_run SIGNAL OUTPUT ARGS...: start ntpcheck ARGS (which write OUTPUT), signal it after 1 s.
kill_mid_run() {
  local sig=$1 out=$2
  shift 2
  local dir="$work/run_${sig}_${out}"
  mkdir -p "$dir" && cd "$dir" || return
  start "$@"
  sleep 1
  if ! kill -0 "$pid" 2>/dev/null; then
    wait "$pid"
    fail "kill $sig mid-run: ntpcheck $* ended within 1 s (exit $?), nothing to kill"
    return
  fi
  kill "-$sig" "$pid"
  wait "$pid" 2>/dev/null
  local status=$?
  if [[ $status -lt 128 ]]; then
    fail "kill $sig mid-run: ntpcheck $* exited $status, expected death by the signal"
  fi
  local left
  left=$(temps_of "$out" | tr '\n' ' ')
  if [[ -e "$out" ]]; then
    fail "kill $sig mid-run: ntpcheck $* left $out under its final name"
  else
    echo "  SIG$sig mid-run of $1 -> $out: no final file; temporary left: ${left:-none}"
  fi
  cd "$work" || return
}

for sig in KILL TERM INT; do
  kill_mid_run "$sig" big.npz train @paper-main --steps 100000000 --out big.npz --quiet
  kill_mid_run "$sig" big.json train @paper-main --steps 100000000 --out big.json --quiet
  kill_mid_run "$sig" cert.json analyze @paper-main --certificates cert.json
done

# --- (a) kills mid-write -----------------------------------------------------------------------
# An instance whose trajectory is large (V d = 240000: about 30 MB of .npz, 75 MB of .json), so the
# write of the output takes long enough to be caught.
"$ntp" generate overparameterized -V 300 -d 800 -m 50 -k 6 --seed 1 -o "$work/large.json" ||
  fail "generate of the large instance failed"

# kill_mid_write SIGNAL OUTPUT: train on the large instance, signal it as soon as a temporary file
# of OUTPUT holds bytes (or, for a writer that is not atomic, as soon as OUTPUT itself appears).
kill_mid_write() {
  local sig=$1 out=$2
  local dir="$work/write_${sig}_${out}"
  mkdir -p "$dir" && cd "$dir" || return
  start train "$work/large.json" --steps 20 --out "$out" --quiet
  local caught=none f
  while kill -0 "$pid" 2>/dev/null; do
    if [[ -e "$out" ]]; then
      caught=final
      break
    fi
    for f in ."$out".tmp.*; do
      if [[ -s "$f" ]]; then
        caught=temporary
        break 2
      fi
    done
  done
  kill "-$sig" "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  local status=$?
  local left
  left=$(temps_of "$out" | tr '\n' ' ')
  case "$caught" in
    temporary)
      if [[ -e "$out" ]] && ! complete "$out"; then
        fail "kill $sig mid-write of $out: a partial file exists under the final name"
      elif [[ -e "$out" ]]; then
        note "SIG$sig mid-write of $out: the rename won the race (complete file)"
      else
        echo "  SIG$sig mid-write of $out: no final file; temporary left: ${left:-none}"
      fi
      ;;
    final)
      # The final name appeared while ntpcheck ran: only a complete file may appear there.
      complete "$out" || fail "kill $sig mid-write of $out: a partial file appeared under the final name"
      ;;
    none)
      if [[ $status -ne 0 || ! -e "$out" ]] || ! complete "$out"; then
        fail "kill $sig mid-write of $out: the run ended (exit $status) without a complete $out"
      else
        note "SIG$sig mid-write of $out: the write completed before the poll saw it (not tested)"
      fi
      ;;
  esac
  cd "$work" || return
}

for sig in KILL TERM; do
  kill_mid_write "$sig" big.npz
  kill_mid_write "$sig" big.json
done

# A normal run: the output is complete and no temporary file is left.
mkdir -p "$work/normal" && cd "$work/normal" || exit 1
for out in t.npz t.json; do
  "$ntp" train @paper-toy --steps 5 --out "$out" --quiet >/dev/null 2>&1 ||
    fail "train --out $out exited $?"
  if [[ ! -e "$out" ]] || ! complete "$out"; then fail "train --out $out: no complete output"; fi
  [[ -z "$(temps_of "$out")" ]] || fail "train --out $out left a temporary file: $(temps_of "$out")"
done
cd "$work" || exit 1

# --- (b) determinism ---------------------------------------------------------------------------
# same_twice NAME ARGS...: run ntpcheck ARGS twice, in det1/ and det2/, and compare the file NAME.
same_twice() {
  local name=$1
  shift
  local k
  for k in 1 2; do
    mkdir -p "$work/det$k" && cd "$work/det$k" || return
    "$ntp" "$@" >/dev/null 2>&1 || fail "determinism: ntpcheck $* exited $? (run $k)"
  done
  cd "$work" || return
  cmp -s "det1/$name" "det2/$name" || fail "determinism: ntpcheck $* gives different $name"
}

for out in d.npz d.json; do
  same_twice "$out" train @paper-main --steps 500 --out "$out" --quiet
  same_twice "$out" train @paper-main --steps 50 --precision mpfr:30 --out "$out" --quiet
done

# analyze: the certificate file byte for byte; the report (stdout) without "timings".
for k in 1 2; do
  mkdir -p "$work/an$k" && cd "$work/an$k" || exit 1
  "$ntp" analyze @paper-main --json --certificates cert.json >report.json 2>/dev/null ||
    fail "determinism: analyze @paper-main exited $? (run $k)"
  sed '/"timings": {/,/}/d' report.json >report_no_timings.json
  grep -q '"timings"' report_no_timings.json && fail "determinism: cannot strip the timings block"
done
cd "$work" || exit 1
cmp -s an1/cert.json an2/cert.json || fail "determinism: analyze --certificates files differ"
cmp -s an1/report_no_timings.json an2/report_no_timings.json ||
  fail "determinism: analyze --json reports differ (beyond timings)"
[[ -s an1/cert.json ]] || fail "determinism: analyze wrote no certificate file"

if [[ $failures -gt 0 ]]; then
  echo "reliability_test: $failures failure(s)"
  exit 1
fi
echo "reliability_test: all passed"

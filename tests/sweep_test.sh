#!/usr/bin/env bash
# Integration tests of `ntpcheck sweep` (issue 11; docs/sweep.md).
#
#   tests/sweep_test.sh NTPCHECK local
#   tests/sweep_test.sh NTPCHECK mpi MPI_BUILT(ON|OFF) MPIEXEC
#
# local: a sweep and its rerun (nothing recomputed, same table), a sweep killed with SIGKILL
#   mid-run plus a cut last line, resumed: every point exactly once and the same merged table as
#   an uninterrupted run; --max-seconds partial then resume; bad specs (exit 3, one line naming
#   the field, no directory left); the phase-diagram pictures; an MPI launcher environment
#   without MPI support.
# mpi: skipped (exit 77) unless ntpcheck was built with MPI and MPIEXEC runs. The same sweep
#   single-process, with mpirun -n 2 and -n 3 (loopback TCP): byte-identical merged tables; an
#   MPI sweep stopped by SIGTERM to mpirun, resumed with -n 2: every point once, same table.
# Prints "FAIL <what>: <why>" per failure; exit 1 if any failed.
set -u
set -o pipefail

if [[ $# -lt 2 ]]; then
  echo "usage: $0 NTPCHECK local|mpi [MPI_BUILT MPIEXEC]" >&2
  exit 2
fi
NTP=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
MODE=$2
PY=/usr/bin/python3
[[ -x $PY ]] || PY=python3
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ntpcheck-sweep.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
cd "$TMP" || exit 2
failures=0
fail() {
  echo "FAIL $1: ${2//$'\n'/ }"
  failures=$((failures + 1))
}

# The number of records (complete lines) in a directory's shards, and of distinct points.
records() { cat "$1"/shard-*.jsonl 2>/dev/null | wc -l; }
distinct() {
  cat "$1"/shard-*.jsonl | "$PY" -c '
import json, sys
print(len({json.dumps([r["params"], r["task"]], sort_keys=True) for r in map(json.loads, sys.stdin)}))'
}
field() { "$PY" -c "import json,sys; print(json.load(open('$1'))['$2'])"; }

# A small conditions sweep: one-hot (Cover's setting, about 1 ms a point) and gaussian instances
# with |S_j| = 2 (5-30 ms a point), 84 points.
cat >small.json <<'EOF'
{"format": "ntp-sweep-spec", "version": 1, "task": "conditions",
 "grid": [{"family": "one-hot", "V": 2, "m": 12, "d": {"from": 2, "to": 12, "step": 2},
           "seeds": {"from": 1, "to": 10}},
          {"family": "gaussian", "V": 5, "support": 2, "m": 12, "d": [3, 6, 9, 12],
           "seeds": [1, 2, 3, 4, 5, 6]}]}
EOF
SMALL=84
# A longer one for the kills: 600 gaussian points, about 10 s on one core.
cat >long.json <<'EOF'
{"task": "conditions",
 "grid": {"family": "gaussian", "V": 8, "support": 3, "m": 16, "d": [4, 8, 12, 16],
          "seeds": {"from": 1, "to": 150}}}
EOF
LONG=600

# wait_for DIR N PID: waits until DIR's shards hold >= N records (or PID ended); 60 s at most.
wait_for() {
  local i
  for ((i = 0; i < 600; i++)); do
    [[ $(records "$1") -ge $2 ]] && return 0
    kill -0 "$3" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

if [[ $MODE == local ]]; then
  # --- a sweep, its rerun
  "$NTP" sweep small.json --out A --json --no-plots >a.json 2>a.err
  rc=$?
  [[ $rc == 0 ]] || fail "sweep" "exit $rc: $(head -c 400 a.err)"
  [[ $(wc -l <A/results.jsonl) == "$SMALL" ]] || fail "sweep" "results.jsonl has $(wc -l <A/results.jsonl) lines, expected $SMALL"
  [[ $(field a.json computed) == "$SMALL" && $(field a.json complete) == True ]] ||
    fail "sweep" "summary: $(head -c 300 a.json)"
  for f in spec.json shard-0.jsonl phase.csv phase.json phase.gp; do
    [[ -s A/$f ]] || fail "sweep" "no $f"
  done
  cp A/results.jsonl ref_small.jsonl
  "$NTP" sweep small.json --out A --json --no-plots >a2.json 2>/dev/null
  rc=$?
  [[ $rc == 0 && $(field a2.json computed) == 0 && $(field a2.json reused) == "$SMALL" ]] ||
    fail "rerun" "exit $rc, summary $(head -c 300 a2.json)"
  cmp -s A/results.jsonl ref_small.jsonl || fail "rerun" "results.jsonl changed"
  [[ $(records A) == "$SMALL" ]] || fail "rerun" "$(records A) records, expected $SMALL"
  # Each record names the command that re-runs its point alone; run one.
  cmd=$(sed -n 5p A/results.jsonl | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["reproduce"])')
  want=$(sed -n 5p A/results.jsonl | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["result"]["separability"]["verdict"])')
  got=$(eval "${cmd//ntpcheck/$NTP}" --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["separability"]["verdict"])')
  [[ -n $want && $got == "$want" ]] || fail "reproduce command" "'$cmd' gave '$got', the sweep '$want'"

  # --- killed mid-run (SIGKILL), a cut last line, resumed
  "$NTP" sweep long.json --out R --quiet --no-plots >/dev/null 2>&1 &
  pid=$!
  wait_for R 40 $pid || fail "kill" "the sweep did not reach 40 points"
  kill -KILL $pid 2>/dev/null
  wait $pid 2>/dev/null
  before=$(records R)
  if [[ $before -ge $LONG ]]; then
    fail "kill" "the sweep finished before the kill ($before records): make long.json longer"
  fi
  printf '{"index":999,"params":{"family":"gauss' >>R/shard-0.jsonl  # a line cut mid-write
  "$NTP" sweep long.json --out R --json --no-plots >r.json 2>r.err
  rc=$?
  [[ $rc == 0 ]] || fail "resume" "exit $rc: $(head -c 400 r.err)"
  [[ $(field r.json reused) == "$before" && $(field r.json computed) == $((LONG - before)) ]] ||
    fail "resume" "reused $(field r.json reused), computed $(field r.json computed); $before were finished"
  [[ $(field r.json truncated_bytes) -gt 0 ]] || fail "resume" "the cut line was not removed"
  [[ $(records R) == "$LONG" && $(distinct R) == "$LONG" ]] ||
    fail "resume" "$(records R) records, $(distinct R) distinct points, expected $LONG each"
  [[ $(tail -c 1 R/shard-0.jsonl | od -An -c | tr -d ' ') == '\n' ]] || fail "resume" "shard does not end with a newline"
  "$NTP" sweep long.json --out U --quiet --no-plots >/dev/null 2>&1 || fail "uninterrupted" "exit $?"
  cmp -s R/results.jsonl U/results.jsonl || fail "resume" "merged table differs from an uninterrupted run"

  # --- --max-seconds: partial (exit 2), then resume
  "$NTP" sweep long.json --out P --max-seconds 0.5 --json --quiet --no-plots >p.json 2>p.err
  rc=$?
  [[ $rc == 2 && $(field p.json complete) == False && $(field p.json stopped_by_budget) == True ]] ||
    fail "--max-seconds" "exit $rc, $(head -c 300 p.json)"
  grep -q "rerun to resume" p.err || fail "--max-seconds" "stderr: $(head -c 300 p.err)"
  "$NTP" sweep long.json --out P --quiet --no-plots >/dev/null 2>&1 || fail "--max-seconds resume" "exit $?"
  cmp -s P/results.jsonl U/results.jsonl || fail "--max-seconds resume" "merged table differs"

  # --- bad specs: exit 3, one line naming the field and value, nothing created
  bad() {  # LABEL SPEC_TEXT WORDS...
    local label=$1 text=$2
    shift 2
    printf '%s\n' "$text" >bad.json
    rm -rf B
    "$NTP" sweep bad.json --out B >/dev/null 2>bad.err
    local rc=$? w
    [[ $rc == 3 ]] || fail "bad spec $label" "exit $rc, expected 3: $(head -c 300 bad.err)"
    [[ $(wc -l <bad.err) == 1 ]] || fail "bad spec $label" "$(wc -l <bad.err) lines on stderr"
    for w in "$@"; do
      grep -qF -- "$w" bad.err || fail "bad spec $label" "stderr lacks \"$w\": $(head -c 300 bad.err)"
    done
    [[ ! -e B ]] || fail "bad spec $label" "created the output directory"
  }
  bad syntax '{"task": "conditions",' "JSON syntax error"
  bad step '{"task": "conditions", "grid": {"family": "one-hot", "V": 2, "m": 4, "d": {"from": 1, "to": 3, "step": 0}, "seeds": 1}}' "grid.d.step" "got 0"
  bad support '{"task": "conditions", "grid": {"family": "gaussian", "V": 3, "m": 4, "d": 2, "support": 3, "seeds": 1}}' "grid point gaussian V=3" "support_size"
  bad task '{"task": "prove", "grid": {"family": "one-hot", "V": 2, "m": 4, "d": 2, "seeds": 1}}' "task.name" "prove"
  "$NTP" sweep no_such_spec.json --out B >/dev/null 2>bad.err
  rc=$?
  [[ $rc == 3 ]] && grep -q "no_such_spec.json" bad.err || fail "missing spec" "exit $rc: $(head -c 200 bad.err)"
  "$NTP" sweep small.json --out B --max-seconds -1 >/dev/null 2>bad.err
  rc=$?
  [[ $rc == 3 ]] && grep -q -- "--max-seconds" bad.err || fail "--max-seconds -1" "exit $rc"

  # --- the pictures (gnuplot-nox; without it the scripts only)
  if command -v gnuplot >/dev/null; then
    "$NTP" sweep small.json --out A --quiet >plots.out 2>&1 || fail "plots" "exit $?"
    [[ -s A/phase.svg ]] && grep -q "<svg" A/phase.svg || fail "plots" "no phase.svg: $(tail -c 300 plots.out)"
    grep -q "plots: ok" plots.out || fail "plots" "$(grep plots plots.out)"
  fi

  # --- launched by an MPI launcher without MPI support: refused, not K copies of the sweep
  if [[ ${3:-OFF} != ON ]]; then
    OMPI_COMM_WORLD_SIZE=2 OMPI_COMM_WORLD_RANK=0 "$NTP" sweep small.json --out M >/dev/null 2>m.err
    rc=$?
    [[ $rc == 3 ]] && grep -q "built without MPI" m.err || fail "no MPI" "exit $rc: $(head -c 300 m.err)"
  fi
elif [[ $MODE == mpi ]]; then
  MPI_BUILT=${3:-OFF}
  MPIEXEC=${4:-}
  if [[ $MPI_BUILT != ON ]]; then
    echo "SKIP: ntpcheck was built without MPI (NTPCHECK_MPI)"
    exit 77
  fi
  if [[ -z $MPIEXEC || $MPIEXEC == *NOTFOUND* ]] || ! command -v "$MPIEXEC" >/dev/null; then
    echo "SKIP: no mpiexec/mpirun"
    exit 77
  fi
  if [[ $(id -u) == 0 ]]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  fi
  # Loopback only; more ranks than cores is fine (the coordinator polls, it does not spin).
  MPIRUN=("$MPIEXEC" --oversubscribe --mca btl self,tcp --mca btl_tcp_if_include lo)
  if ! timeout 60 "${MPIRUN[@]}" -n 2 true >mpi_probe.out 2>&1; then
    echo "SKIP: $MPIEXEC -n 2 does not run here: $(head -c 300 mpi_probe.out)"
    exit 77
  fi
  "$NTP" sweep small.json --out S --quiet --no-plots >/dev/null 2>s.err || fail "single" "exit $?: $(head -c 300 s.err)"
  for n in 2 3; do
    timeout 300 "${MPIRUN[@]}" -n $n "$NTP" sweep small.json --out M$n --json --quiet --no-plots \
      >m$n.json 2>m$n.err
    rc=$?
    [[ $rc == 0 ]] || fail "mpirun -n $n" "exit $rc: $(head -c 400 m$n.err)"
    [[ $(field m$n.json mode) == mpi && $(field m$n.json ranks) == "$n" ]] ||
      fail "mpirun -n $n" "summary: $(head -c 300 m$n.json)"
    cmp -s S/results.jsonl M$n/results.jsonl || fail "mpirun -n $n" "merged table differs from the single-process run"
    [[ ! -e M$n/shard-0.jsonl ]] || fail "mpirun -n $n" "rank 0 (the coordinator) wrote a shard"
    [[ $(records M$n) == "$SMALL" && $(distinct M$n) == "$SMALL" ]] ||
      fail "mpirun -n $n" "$(records M$n) records, $(distinct M$n) distinct, expected $SMALL"
  done
  [[ -s M3/shard-1.jsonl && -s M3/shard-2.jsonl ]] || fail "mpirun -n 3" "a worker computed nothing"

  # Stopped mid-run (SIGTERM to mpirun, which forwards it), resumed on 2 ranks.
  "${MPIRUN[@]}" -n 3 "$NTP" sweep long.json --out K --quiet --no-plots >/dev/null 2>&1 &
  pid=$!
  wait_for K 40 $pid || fail "mpi kill" "the sweep did not reach 40 points"
  kill -TERM $pid 2>/dev/null
  wait $pid 2>/dev/null
  sleep 1
  before=$(records K)
  [[ $before -lt $LONG ]] || fail "mpi kill" "finished before the kill ($before records)"
  timeout 300 "${MPIRUN[@]}" -n 2 "$NTP" sweep long.json --out K --json --quiet --no-plots >k.json 2>k.err
  rc=$?
  [[ $rc == 0 ]] || fail "mpi resume" "exit $rc: $(head -c 400 k.err)"
  [[ $(field k.json reused) == "$before" && $(field k.json computed) == $((LONG - before)) ]] ||
    fail "mpi resume" "reused $(field k.json reused), computed $(field k.json computed); $before were finished"
  [[ $(records K) == "$LONG" && $(distinct K) == "$LONG" ]] ||
    fail "mpi resume" "$(records K) records, $(distinct K) distinct points, expected $LONG"
  "$NTP" sweep long.json --out U --quiet --no-plots >/dev/null 2>&1 || fail "uninterrupted" "exit $?"
  cmp -s K/results.jsonl U/results.jsonl || fail "mpi resume" "merged table differs from an uninterrupted single-process run"

  # A bad spec under mpirun: exit 3, reported once.
  printf '{"task": "conditions", "grid": {"family": "one-hot", "V": 2, "m": 4, "d": 0, "seeds": 1}}\n' >bad.json
  timeout 120 "${MPIRUN[@]}" -n 2 "$NTP" sweep bad.json --out B >/dev/null 2>bad.err
  rc=$?
  [[ $rc == 3 ]] || fail "mpi bad spec" "exit $rc: $(head -c 300 bad.err)"
  [[ $(grep -c "invalid sweep spec: grid.d" bad.err) == 1 ]] || fail "mpi bad spec" "stderr: $(head -c 400 bad.err)"
else
  echo "$0: unknown mode $MODE" >&2
  exit 2
fi

if [[ $failures -gt 0 ]]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "sweep_test.sh $MODE: all checks passed"
exit 0

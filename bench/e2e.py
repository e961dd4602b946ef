#!/usr/bin/python3
"""Target 4 of issue 7: times `ntpcheck check` and `ntpcheck analyze` on paper-main end to end
(wall clock, one process each, the machine's default single-threaded reference build) and writes
one JSON line per command: seconds, exit code, and the phase breakdown the command reports in its
--json output (analyze: "timings" per stage; check: "seconds" per claim).
Usage: e2e.py NTPCHECK > e2e.jsonl"""
import json
import subprocess
import sys
import time

LIMITS = {"check": 10.0, "analyze": 5.0}


def main():
    if len(sys.argv) != 2:
        print("usage: e2e.py NTPCHECK", file=sys.stderr)
        return 2
    for cmd in ("check", "analyze"):
        t0 = time.perf_counter()
        p = subprocess.run([sys.argv[1], cmd, "@paper-main", "--json"], capture_output=True, text=True)
        seconds = time.perf_counter() - t0
        breakdown = {}
        try:
            report = json.loads(p.stdout)
            if cmd == "analyze":
                breakdown = report.get("timings", {})
            else:
                for inst in report.get("instances", []):
                    for c in inst.get("claims", []):
                        breakdown[c["name"]] = c.get("seconds")
        except (ValueError, KeyError) as e:
            breakdown = {"error": "unreadable --json output: %s" % e}
        print(json.dumps({"command": cmd, "seconds": seconds, "exit": p.returncode,
                          "limit": LIMITS[cmd], "breakdown": breakdown}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""The verifier tested by mutation, through the real PyTorch client examples/pytorch_gd.py.

    mutants.py CASE [--work DIR]

Correct runs (must pass: exit 0 of the example, no failing checkpoint):
  gd-float32, gd-float64, adam-float32, adam-float64   on @paper-main from W = 0.
Mutants (must be flagged: exit 1, with the first failing checkpoint named and equal to the step
where the mutation first changes W). Where a mutant needs a special setup, the correct run with
the same setup must pass first (the "control"), so the flag is due to the mutation alone:
  naive-softmax    float32 GD from a scaled random W0 whose logits reach ~+-136: exp overflows
                   past 88.7 (and underflows below -103), so the loss reported at W0 is already
                   NaN (first failing step 0, by the reported loss: W_0 itself is right) and W
                   is NaN from step 1 (asserted too). From W = 0 the logits stay small and the
                   naive softmax is as accurate as the shifted one: nothing to flag. Control: the
                   correct float32 run from the same W0.
  no-pi            F.cross_entropy's default mean over contexts instead of the weights pi_j. On
                   @paper-main pi_j = 1/m exactly, so the mutant computes the same function: it
                   runs on paper-main with weights pi_j = (j+1)/(m(m+1)/2) instead. Control: the
                   correct run on that instance. float32.
  swapped-probs    one context's largest and smallest in-support probabilities swapped: the sign
                   of that log-odds flips. float32, @paper-main.
  off-by-one       W_{k+1} recorded as step k for k >= 1 (W_0 is right). float64, @paper-main.
  drop-small-grad  gradient entries below 1e-8 of the largest set to zero. On @paper-main no
                   entry of the gradient is ever that small in 200 GD steps (the example counts
                   them: 0), so the trajectories coincide bit for bit and passing is correct. It
                   runs on paper-main with embedding coordinate 0 scaled by 2^-30 (a feature that
                   is nearly constant, as a badly scaled input column): that gradient column is
                   ~1e-9 of the rest and is dropped at every step, and column 0 of W then misses
                   ~1e-9 of the scale of W: a deviation a float64 run must not have (its allowed
                   error is 16 u_c (k+1) = 3.6e-15 (k+1)), invisible at float32's u_c = 6e-8 (so
                   float64). Control: the correct float64 run on that instance.
  wrong-eta        the GD step taken with 1.01 eta, the check told eta. float32, @paper-main.
Exit 0 when the expectation holds, 1 otherwise, 77 (skipped) without torch.
"""

import argparse
import importlib.util
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLE = os.path.join(HERE, "..", "..", "examples", "pytorch_gd.py")

# The step count of the mutant runs: enough for a few decades of checkpoints, and short.
MUTANT_STEPS = "200"


def load_example():
    spec = importlib.util.spec_from_file_location("pytorch_gd", EXAMPLE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def write_variant(ntpcheck, work, kind):
    """paper-main with non-uniform weights ("weights") or a tiny embedding coordinate ("tiny")."""
    doc = json.loads(ntpcheck.load("@paper-main").to_json())
    ctx = doc["contexts"]
    m = len(ctx)
    if kind == "weights":
        # pi_j = (j + 1) / (m (m + 1) / 2), exact rationals.
        total = m * (m + 1) // 2
        for j, c in enumerate(ctx):
            if "counts" in c:
                c["counts"] = [n * (j + 1) * total // sum(c["counts"]) or 1 for n in c["counts"]]
            else:
                c["weight"] = "%d/%d" % (j + 1, total)
        doc["name"] = "paper-main-nonuniform-pi"
    else:
        # Coordinate 0 of every embedding times 2^-30 (exact: the entries are dyadic).
        for c in ctx:
            c["embedding"][0] = c["embedding"][0] * 2.0 ** -30
        doc["name"] = "paper-main-tiny-coordinate"
    doc["description"] = "tests/python/mutants.py: " + doc["name"]
    path = os.path.join(work, doc["name"] + ".json")
    with open(path, "w") as f:
        json.dump(doc, f)
    inst = ntpcheck.load(path)
    if kind == "weights":
        assert np.ptp(inst.pi) > 0, "the weights did not become non-uniform"
    return path


def write_big_init(ntpcheck, work):
    """A seeded W0 (float32 values) whose logits W0 h_j reach well beyond 88.7."""
    inst = ntpcheck.load("@paper-main")
    rng = np.random.default_rng(12345)
    W0 = (40.0 * rng.standard_normal((inst.V, inst.d))).astype(np.float32)
    logits = W0.astype(np.float64) @ inst.H
    assert np.abs(logits).max() > 100, np.abs(logits).max()
    path = os.path.join(work, "W0_big.npy")
    np.save(path, W0)
    return path, float(np.abs(logits).max())


def run_example(example, args, label):
    t0 = time.perf_counter()
    print("=== %s: pytorch_gd.py %s" % (label, " ".join(args)), flush=True)
    code, res = example.run(args)
    print("=== %s: exit %d (%.1f s)" % (label, code, time.perf_counter() - t0), flush=True)
    return code, res


def expect_pass(example, args, label):
    code, res = run_example(example, args, label)
    tr = res["trajectory"]["report"]["trajectory"]
    ok = code == 0 and tr["first_failing_step"] is None and tr["compared"] == len(res["steps"])
    if not ok:
        print("FAIL: %s should pass, got exit %d, first failing step %s"
              % (label, code, tr["first_failing_step"]))
    return ok


def first_w_failure(res):
    """The first checkpoint whose W (not only its reported loss) is outside the allowed error."""
    for c in res["trajectory"]["report"]["trajectory"]["checkpoints"]:
        e = c.get("error_candidate")
        if c.get("status") == "fail" and not (isinstance(e, float) and e <= c["allowed"]):
            return c["step"]
    return None


def expect_flagged(example, args, label, first_step, first_w_step=None):
    """The run is flagged (exit 1), its first failing checkpoint is first_step, and the first
    checkpoint whose W fails is first_w_step (default: the same)."""
    code, res = run_example(example, args, label)
    got = res["trajectory"]["first_failing_step"]
    got_w = first_w_failure(res)
    want_w = first_step if first_w_step is None else first_w_step
    ok = code == 1 and got == first_step and got_w == want_w
    if not ok:
        print("FAIL: %s should be flagged (exit 1) at step %s (W at step %s), got exit %d, first "
              "failing step %s (W at step %s)" % (label, first_step, want_w, code, got, got_w))
    return ok, res


def main():
    p = argparse.ArgumentParser()
    p.add_argument("case")
    p.add_argument("--work", default=None, help="folder for the files (default: a temp folder)")
    a = p.parse_args()
    if importlib.util.find_spec("torch") is None:
        print("SKIP: PyTorch (python3-torch) is not installed")
        return 77
    import ntpcheck
    work = a.work
    if work is None:
        import tempfile
        work = tempfile.mkdtemp(prefix="ntp_mutants_")
    os.makedirs(work, exist_ok=True)
    example = load_example()
    out = ["--out", os.path.join(work, "traj.npz"), "--report", os.path.join(work, "report.json")]
    fast = out + ["--steps", MUTANT_STEPS, "--no-reference-objects"]
    case = a.case
    ok = True
    if case in ("gd-float32", "gd-float64", "adam-float32", "adam-float64"):
        opt, dtype = case.split("-")
        # GD float32: the paper's 10^4 steps. Adam: 300 steps, where the check is still sharp (on
        # paper-main, from ~600 steps on Adam amplifies rounding so much that the double replay
        # itself errs by 1e-4..1e-2 and the allowed float32 error becomes vacuous).
        steps = {"gd-float32": "10000", "gd-float64": "1000"}.get(case, "300")
        extra = [] if case == "gd-float64" else ["--no-reference-objects"]
        ok = expect_pass(example, ["@paper-main", "--optimizer", opt, "--dtype", dtype, "--steps",
                                   steps] + out + extra, case)
    elif case == "naive-softmax":
        init, top = write_big_init(ntpcheck, work)
        print("W0: seeded N(0, 40^2) entries, max |logit| = %.1f" % top)
        common = ["@paper-main", "--dtype", "float32", "--init", init] + fast
        ok = expect_pass(example, common, "control (correct float32 from the same W0)")
        ok = expect_flagged(example, common + ["--mutant", case], case, 0, 1)[0] and ok
    elif case == "no-pi":
        inst = write_variant(ntpcheck, work, "weights")
        common = [inst, "--dtype", "float32"] + fast
        ok = expect_pass(example, common, "control (correct float32, non-uniform pi)")
        ok = expect_flagged(example, common + ["--mutant", case], case, 1)[0] and ok
    elif case == "swapped-probs":
        ok = expect_flagged(example, ["@paper-main", "--dtype", "float32", "--mutant", case] + fast,
                            case, 1)[0]
    elif case == "off-by-one":
        ok = expect_flagged(example, ["@paper-main", "--dtype", "float64", "--mutant", case] + fast,
                            case, 1)[0]
    elif case == "drop-small-grad":
        # On paper-main the mutant never drops anything: it must then coincide with (and pass as)
        # the correct run.
        code, res = run_example(example, ["@paper-main", "--dtype", "float64", "--mutant", case]
                                + fast, "drop-small-grad on paper-main (nothing to drop)")
        dropped = res["notes"][-1]
        if dropped.startswith("0 "):
            ok = code == 0
            if not ok:
                print("FAIL: nothing was dropped, so the run is correct, yet it was flagged")
        else:
            print("note: on paper-main the mutant dropped entries (%s), exit %d" % (dropped, code))
        inst = write_variant(ntpcheck, work, "tiny")
        common = [inst, "--dtype", "float64"] + fast
        ok = expect_pass(example, common, "control (correct float64, tiny coordinate)") and ok
        ok = expect_flagged(example, common + ["--mutant", case], case, 1)[0] and ok
    elif case == "wrong-eta":
        ok = expect_flagged(example, ["@paper-main", "--dtype", "float32", "--mutant", case] + fast,
                            case, 1)[0]
    else:
        print("unknown case " + case)
        return 2
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

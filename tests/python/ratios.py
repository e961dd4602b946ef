#!/usr/bin/python3
"""Measures, for correct PyTorch runs (examples/pytorch_gd.py), the two ratios of the pass rule of
ntpcheck.verify_trajectory at every checkpoint:

    r_eps(k) = e_c(k) / (u_c (k + 1))            (the tolerance term: must stay below `tolerance`)
    r_dbl(k) = e_c(k) / ((u_c / u_d) e_d(k))     (the factor term: must stay below `factor`)

A checkpoint passes when e_c <= factor (u_c/u_d) e_d + tolerance u_c (k + 1), so it passes when
r_eps <= tolerance or r_dbl <= factor (and in between). Not a CTest test: a measurement for choosing
the defaults (16 and 16). Usage:

    PYTHONPATH=<build>/python /usr/bin/python3 tests/python/ratios.py [--steps N] [--quick]

Prints one line per run: the maxima of r_eps and r_dbl, where they occur, the smallest margin
min over k of allowed(k) / e_c(k), and whether the run passes with the defaults.
"""

import argparse
import importlib.util
import os
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "pytorch_gd", os.path.join(HERE, "..", "..", "examples", "pytorch_gd.py"))
example = importlib.util.module_from_spec(spec)
spec.loader.exec_module(example)
import ntpcheck  # noqa: E402  (after the example, which says how to get it)


def big_init(work, sigma=40.0, seed=12345):
    inst = ntpcheck.load("@paper-main")
    W0 = (sigma * np.random.default_rng(seed).standard_normal((inst.V, inst.d))).astype(np.float32)
    path = os.path.join(work, "W0_big.npy")
    np.save(path, W0)
    return path


def measure(label, args):
    import contextlib
    import io
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code, res = example.run(args)
    tr = res["trajectory"]["report"]["trajectory"]
    cps = tr["checkpoints"]
    r_eps = [(c["ratio_to_eps_steps"], c["step"]) for c in cps
             if isinstance(c.get("ratio_to_eps_steps"), float)]
    r_dbl = [(c["ratio_to_double"], c["step"]) for c in cps
             if isinstance(c.get("ratio_to_double"), float)]
    margin = min((c["allowed"] / c["error_candidate"], c["step"]) for c in cps
                 if isinstance(c.get("error_candidate"), float) and c["error_candidate"] > 0)
    me, ke = max(r_eps)
    md, kd = max(r_dbl) if r_dbl else (float("nan"), -1)
    print("%-44s %-9s exit %d  max r_eps %8.3g @%-6d max r_dbl %8.3g @%-6d min allowed/e_c %8.3g "
          "@%-6d first fail %s" % (label, tr["optimizer"], code, me, ke, md, kd, margin[0],
                                   margin[1], tr["first_failing_step"]), flush=True)
    # Per checkpoint, the smaller of the two ratios: what the pass rule needs to cover.
    both = [min(c["ratio_to_eps_steps"], c.get("ratio_to_double", float("inf"))) for c in cps
            if isinstance(c.get("ratio_to_eps_steps"), float)]
    return {"label": label, "optimizer": tr["optimizer"], "r_eps": r_eps, "r_dbl": r_dbl,
            "both": both, "exit": code}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--steps", default="10000")
    p.add_argument("--quick", action="store_true", help="1000 steps, fewer instances")
    a = p.parse_args()
    steps = "1000" if a.quick else a.steps
    work = tempfile.mkdtemp(prefix="ntp_ratios_")
    out = ["--out", os.path.join(work, "t.npz"), "--no-reference-objects", "--steps", steps]
    instances = ["@paper-main", "@paper-toy:4", "@overparameterized:1", "@underparameterized:1",
                 "@one-hot:1", "@incompatible:1"]
    if a.quick:
        instances = instances[:3]
    rows = []
    for inst in instances:
        for opt in ("gd", "adam"):
            for dt in ("float32", "float64"):
                rows.append(measure("%s %s" % (inst, dt), [inst, "--optimizer", opt, "--dtype", dt]
                                    + out))
    # The paper's GD step, and the large-logit start of the naive-softmax mutant.
    for dt in ("float32", "float64"):
        rows.append(measure("@paper-main %s eta 0.5" % dt,
                            ["@paper-main", "--dtype", dt, "--eta", "0.5"] + out))
        rows.append(measure("@paper-main %s big W0" % dt,
                            ["@paper-main", "--dtype", dt, "--init", big_init(work)] + out))
        rows.append(measure("@paper-main %s big W0" % dt,
                            ["@paper-main", "--dtype", dt, "--optimizer", "adam", "--init",
                             big_init(work)] + out))
        rows.append(measure("@paper-main %s 300 steps" % dt,
                            ["@paper-main", "--dtype", dt, "--optimizer", "adam"] + out[:-1]
                            + ["300"]))
    print("maxima over the runs (r_eps, r_dbl, and per checkpoint min(r_eps, r_dbl): the rule "
          "passes a checkpoint when that is <= 16 with the defaults):")
    for opt in ("gd", "adam"):
        for dt in ("float32", "float64"):
            sel = [r for r in rows if r["optimizer"] == opt and " %s" % dt in r["label"]
                   and r["exit"] == 0]
            if not sel:
                continue
            me = max(max(x for x, _ in r["r_eps"]) for r in sel)
            md = max(max((x for x, _ in r["r_dbl"]), default=0) for r in sel)
            both = max(max(r["both"]) for r in sel)
            print("  %-4s %s (%d passing runs): max r_eps %.3g, max r_dbl %.3g, max min(r_eps, "
                  "r_dbl) %.3g" % (opt, dt, len(sel), me, md, both))
    failed = [r["label"] + " " + r["optimizer"] for r in rows if r["exit"] != 0]
    print("runs flagged: " + (", ".join(failed) if failed else "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

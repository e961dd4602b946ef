#!/usr/bin/python3
"""Independent check of the golden files (not part of CI): recomputes H, CE, CE - H, the gradient
and the GD iterates with mpmath at 120 digits, from the formulas of theory.md section 1 written
directly (plain softmax, no KL form, no shared code with ntpcheck), and compares every stored
value to 1e-95 relative to its magnitude.

    /usr/bin/python3 precision/golden/check_independent.py [--max-step N] [FILE.json ...]

With no files it checks every precision/golden/*.json. GD is replayed up to --max-step (default
1000; each step of paper-main takes about 0.3 s here, so 1000 steps of all files take minutes).
"""
import glob
import json
import os
import sys
from fractions import Fraction

import mpmath as mp

mp.mp.dps = 120
TOL = mp.mpf("1e-95")


def mpf(x):
    q = Fraction(x)  # JSON numbers (exact doubles), "p/q" and decimal strings alike
    return mp.mpf(q.numerator) / q.denominator


def load(path):
    g = json.load(open(path))
    inst = g["instance"]
    V, d = inst["vocab_size"], inst["embedding_dim"]
    ctx = []
    counts = "counts" in inst["contexts"][0]
    n = sum(sum(c["counts"]) for c in inst["contexts"]) if counts else None
    for c in inst["contexts"]:
        h = [mpf(x) for x in c["embedding"]]
        if counts:
            tot = sum(c["counts"])
            pi = mp.mpf(tot) / n
            p = [mp.mpf(k) / tot for k in c["counts"]]
        else:
            pi = mpf(c["weight"])
            p = [mpf(x) for x in c["probabilities"]]
        ctx.append((h, pi, dict(zip(c["next_tokens"], p))))
    # The file normalises weights and probabilities exactly; so does this.
    spi = sum(pi for _, pi, _ in ctx)
    ctx = [(h, pi / spi, {z: q / sum(p.values()) for z, q in p.items()}) for h, pi, p in ctx]
    return g, V, d, ctx


def matrix(rows):
    return [[mpf(x) for x in r] for r in rows]


def loss_grad(W, V, d, ctx):
    ce = mp.mpf(0)
    G = [[mp.mpf(0)] * d for _ in range(V)]
    for h, pi, p in ctx:
        logit = [mp.fsum(W[v][i] * h[i] for i in range(d)) for v in range(V)]
        mx = max(logit)
        e = [mp.exp(x - mx) for x in logit]
        tot = mp.fsum(e)
        s = [x / tot for x in e]
        ce -= pi * mp.fsum(q * mp.log(s[z]) for z, q in p.items())
        for v in range(V):
            c = pi * (s[v] - p.get(v, 0))
            for i in range(d):
                G[v][i] += c * h[i]
    return ce, G


def close(a, b, scale):
    return abs(a - b) <= TOL * max(scale, mp.mpf("1e-300"))


def check(path, max_step):
    g, V, d, ctx = load(path)
    bad = []
    H = -mp.fsum(pi * mp.fsum(q * mp.log(q) for q in p.values()) for _, pi, p in ctx)
    if not close(H, mpf(g["entropy"]), abs(H)):
        bad.append("entropy")
    W = matrix(g["loss"]["w"])
    ce, G = loss_grad(W, V, d, ctx)
    if not close(ce, mpf(g["loss"]["ce"]), ce):
        bad.append("ce")
    if not close(ce - H, mpf(g["loss"]["excess"]), ce - H):
        bad.append("excess")
    gref = matrix(g["loss"]["gradient"])
    gmax = max(abs(x) for r in G for x in r)
    if any(not close(G[v][i], gref[v][i], gmax) for v in range(V) for i in range(d)):
        bad.append("gradient")
    eta = mpf(g["gd"]["eta"])
    W = matrix(g["gd"]["w0"])
    its = {it["step"]: it for it in g["gd"]["iterates"]}
    done = 0
    for k in range(1, max_step + 1):
        _, G = loss_grad(W, V, d, ctx)
        W = [[W[v][i] - eta * G[v][i] for i in range(d)] for v in range(V)]
        done = k
        if k in its:
            it = its[k]
            ref = matrix(it["w"])
            wmax = max(abs(x) for r in W for x in r)
            if any(not close(W[v][i], ref[v][i], wmax) for v in range(V) for i in range(d)):
                bad.append("gd_w step %d" % k)
            cek, _ = loss_grad(W, V, d, ctx)
            if not close(cek, mpf(it["ce"]), cek):
                bad.append("gd_ce step %d" % k)
            if not close(cek - H, mpf(it["excess"]), cek - H):
                bad.append("gd_excess step %d" % k)
        if k >= max(its):
            break
    return bad, done


def main(argv):
    max_step = 1000
    if "--max-step" in argv:
        i = argv.index("--max-step")
        max_step = int(argv[i + 1])
        argv = argv[:i] + argv[i + 2:]
    here = os.path.dirname(os.path.abspath(__file__))
    files = argv or sorted(glob.glob(os.path.join(here, "*.json")))
    failed = 0
    for f in files:
        bad, done = check(f, max_step)
        print("%-36s %s (GD replayed to step %d)" % (os.path.basename(f),
                                                    "ok" if not bad else "FAIL " + ", ".join(bad),
                                                    done), flush=True)
        failed += bool(bad)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

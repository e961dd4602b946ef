#!/usr/bin/python3
"""What users would pick instead of ntpcheck's kernel: the same loss + gradient in NumPy and in
PyTorch (CPU, float64, one thread), timed on the shapes of loss_bench (issue 7, target 2).

Each peer computes, for logits L = W Hbar (V x m), the cross-entropy
CE = -sum_j pi_j sum_z p_{j,z} log softmax(L)_{z,j} and the gradient (softmax(L) - P) diag(pi) Hbar^T,
written the way a careful user would (max-shifted log-softmax, in-place updates, dense P).
ntpcheck's kernel computes more (the excess loss in KL form and the gap R as well).
"torch_autograd" (F.cross_entropy with probability targets + backward) is reported for information.

Instances: Gaussian Hbar N(0, I/d), W N(0, 0.1^2), supports of min(6, V/2) random tokens with random
integer counts, pi = 1/m: the construction of loss_bench (its own seeded draw; cost depends on the
shape only). Output: one JSON object per line {"impl", "V", "d", "m", "seconds"}; seconds is the
median over --repeat repetitions of the mean per call.

Usage: OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/peers.py [--repeat 7] [--min-time 0.2]
"""
import argparse
import json
import os
import statistics
import sys
import timeit

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np  # noqa: E402

SHAPES = [(10, 60, 50), (64, 32, 32), (256, 128, 128), (1024, 256, 256)]


def make(V, d, m, seed=1):
    rng = np.random.default_rng(seed)
    H = rng.standard_normal((d, m)) / np.sqrt(d)
    W = 0.1 * rng.standard_normal((V, d))
    P = np.zeros((V, m))
    k = min(6, V // 2)
    for j in range(m):
        z = rng.choice(V, k, replace=False)
        c = rng.integers(1, 101, k)
        P[z, j] = c / c.sum()
    pi = np.full(m, 1.0 / m)
    return np.asfortranarray(W), np.asfortranarray(H), P, pi


def numpy_impl(W, H, P, pi):
    def f():
        L = W @ H
        L -= L.max(axis=0)
        E = np.exp(L)
        s = E.sum(axis=0)
        L -= np.log(s)
        ce = -(pi * (P * L).sum(axis=0)).sum()
        E /= s
        E -= P
        E *= pi
        return ce, E @ H.T
    return f


def torch_impls(W, H, P, pi):
    import torch
    torch.set_num_threads(1)
    Wt, Ht, Pt, pit = (torch.from_numpy(np.ascontiguousarray(a)) for a in (W, H, P, pi))

    def manual():
        with torch.no_grad():
            Z = torch.log_softmax(Wt @ Ht, dim=0)
            ce = -(pit * (Pt * Z).sum(dim=0)).sum()
            C = (torch.exp(Z) - Pt) * pit
            return ce, C @ Ht.T

    Wg = Wt.clone().requires_grad_(True)
    HtT = Ht.T.contiguous()
    PtT = Pt.T.contiguous()

    def autograd():
        Wg.grad = None
        logits = HtT @ Wg.T  # m x V
        ce = (pit * torch.nn.functional.cross_entropy(logits, PtT, reduction="none")).sum()
        ce.backward()
        return ce, Wg.grad

    return manual, autograd


def time_call(f, repeat, min_time):
    f()
    n = 1
    while True:
        t = timeit.timeit(f, number=n)
        if t >= min_time:
            break
        n *= 2 if t <= 0 else max(2, int(min_time / t * 1.2))
    runs = [timeit.timeit(f, number=n) / n for _ in range(repeat)]
    return statistics.median(runs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--min-time", type=float, default=0.2)
    ap.add_argument("--no-torch", action="store_true")
    args = ap.parse_args()
    have_torch = not args.no_torch
    if have_torch:
        try:
            import torch  # noqa: F401
        except ImportError:
            print("peers.py: PyTorch not importable, timing NumPy only", file=sys.stderr)
            have_torch = False
    for V, d, m in SHAPES:
        W, H, P, pi = make(V, d, m)
        impls = [("numpy", numpy_impl(W, H, P, pi))]
        if have_torch:
            manual, autograd = torch_impls(W, H, P, pi)
            impls += [("torch", manual), ("torch_autograd", autograd)]
        # The implementations agree (a check that the peers compute the same thing).
        ce0, g0 = impls[0][1]()
        for name, f in impls[1:]:
            ce, g = f()
            g = g.detach().numpy() if hasattr(g, "detach") else g
            if abs(float(ce) - ce0) > 1e-12 * abs(ce0) or np.max(np.abs(g - g0)) > 1e-12 * np.max(np.abs(g0)):
                print(f"peers.py: {name} disagrees with numpy at {(V, d, m)}", file=sys.stderr)
                sys.exit(4)
        for name, f in impls:
            secs = time_call(f, args.repeat, args.min_time)
            print(json.dumps({"impl": name, "V": V, "d": d, "m": m, "seconds": secs}), flush=True)


if __name__ == "__main__":
    main()

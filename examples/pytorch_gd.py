#!/usr/bin/python3
"""Train the linear next-token predictor with PyTorch and check the run with ntpcheck.

The model of theory.md §1: logits l_j = W h_j (W is V x d), loss
    CE(W) = sum_j pi_j sum_z p_jz (-log softmax(W h_j)_z),
trained by plain gradient descent (torch.optim.SGD without momentum: W <- W - eta grad) or Adam
(torch.optim.Adam, betas (0.9, 0.99), eps 1e-8: ntpcheck's Adam) in float32 or float64, on one core.
The weights are recorded on ntpcheck's log grid (0..10, then 10 per decade, and the last step),
saved as a .npz trajectory (step int64 [K], W [K, V, d] in the run's dtype, loss [K]) and checked:
  - ntpcheck.verify_trajectory replays the same optimizer in double and in double-double and
    compares every checkpoint (the differential oracle of src/ntp/verify.hpp);
  - ntpcheck.verify_weights checks the last W (invariants, reported loss, position relative to
    W* and W^mm).
Exit 0 when both checks pass, 1 when the run is flagged, 2 inconclusive, 3 invalid input.

--mutant NAME trains a deliberately wrong implementation instead (tests/python/mutants.py runs
each one and expects it to be flagged):
  naive-softmax    softmax as exp(l) / sum exp(l), no max shift (overflows past l ~ 88 in float32)
  no-pi            the context weights pi dropped: mean over contexts (F.cross_entropy's default)
  swapped-probs    one context's two in-support probabilities swapped (wrong sign of a log-odds)
  off-by-one       W_{k+1} recorded as step k (k >= 1)
  drop-small-grad  gradient entries below 1e-8 of the largest set to zero (as fused kernels do)
  wrong-eta        the step taken with eta * 1.01 (the check is told eta)

Run (after building the module, see python/README.md):
  PYTHONPATH=build/python /usr/bin/python3 examples/pytorch_gd.py @paper-main --dtype float32
"""

import argparse
import json
import os
import sys
import time

import numpy as np

try:
    import ntpcheck
except ImportError:
    # Not on PYTHONPATH: the module of the default build folder (ci/build.sh writes build/).
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build",
                                    "python"))
    try:
        import ntpcheck
    except ImportError as e:  # say how to get the module rather than a bare traceback
        sys.exit("pytorch_gd.py: cannot import ntpcheck (%s): build it (python/README.md) and run "
                 "with /usr/bin/python3 (Debian's NumPy and PyTorch), PYTHONPATH=<build>/python"
                 % e)

MUTANTS = ("naive-softmax", "no-pi", "swapped-probs", "off-by-one", "drop-small-grad", "wrong-eta")
DROP_RELATIVE = 1e-8  # drop-small-grad: entries below this times the largest |entry|
WRONG_ETA_FACTOR = 1.01  # wrong-eta: the step actually taken


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Train the linear NTP model with PyTorch and verify the run with ntpcheck.")
    p.add_argument("instance", nargs="?", default="@paper-main",
                   help="instance file or @FAMILY[:SEED] (default @paper-main)")
    p.add_argument("--optimizer", choices=("gd", "adam"), default="gd")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    p.add_argument("--steps", type=int, default=1000, help="iterations (default 1000)")
    p.add_argument("--eta", type=float, default=None,
                   help="step size (default: ntpcheck's, 1/(2L) for GD and 0.01 for Adam)")
    p.add_argument("--init", metavar="W0.npy", default=None,
                   help="initial W (V x d .npy); default zero")
    p.add_argument("--out", metavar="TRAJ.npz", default="pytorch_trajectory.npz",
                   help="where the trajectory is saved (default pytorch_trajectory.npz)")
    p.add_argument("--points-per-decade", type=int, default=10)
    p.add_argument("--truth", default="dd", help="ntpcheck's truth precision (default dd)")
    p.add_argument("--factor", type=float, default=None, help="pass-rule factor (default 16)")
    p.add_argument("--tolerance", type=float, default=None,
                   help="pass-rule tolerance in u_c per step (default 16)")
    p.add_argument("--mutant", choices=MUTANTS, default=None,
                   help="train a deliberately wrong implementation (the check must flag it)")
    p.add_argument("--no-reference-objects", action="store_true",
                   help="skip W* and W^mm in the point check of the last W (saves seconds)")
    p.add_argument("--report", metavar="FILE.json", default=None,
                   help="write both ntpcheck reports to this file")
    p.add_argument("--verbose", action="store_true", help="print ntpcheck's full summaries")
    return p.parse_args(argv)


def train(inst, args, torch, W0):
    """Runs the optimizer; returns (steps, weights, losses, eta_used, notes)."""
    F = torch.nn.functional
    dt = {"float32": torch.float32, "float64": torch.float64}[args.dtype]
    H = torch.from_numpy(inst.H).to(dt)   # d x m
    P = torch.from_numpy(inst.P).to(dt)   # m x V
    pi = torch.from_numpy(inst.pi).to(dt)  # m
    notes = []
    if args.mutant == "swapped-probs":
        # The first context with two different in-support probabilities: swap its largest and
        # smallest, so the log-odds log(p_a / p_b) of that pair changes sign.
        Pn = inst.P
        for j, S in enumerate(inst.supports):
            vals = Pn[j, S]
            if len(S) >= 2 and vals.max() > vals.min():
                a, b = S[int(vals.argmax())], S[int(vals.argmin())]
                P = P.clone()
                P[j, a], P[j, b] = P[j, b].clone(), P[j, a].clone()
                notes.append("context %d: p[%d] = %.4g and p[%d] = %.4g swapped"
                             % (j, a, Pn[j, a], b, Pn[j, b]))
                break

    def loss_fn(W):
        logits = (W @ H).T  # m x V: row j is W h_j
        if args.mutant == "naive-softmax":
            e = torch.exp(logits)  # no max shift: exp overflows past 88.7 in float32
            rows = -(P * torch.log(e / e.sum(dim=1, keepdim=True))).sum(dim=1)
        else:
            rows = F.cross_entropy(logits, P, reduction="none")  # -sum_z p_jz log softmax_z
        if args.mutant == "no-pi":
            return rows.mean()  # uniform weights 1/m instead of pi_j
        return (pi * rows).sum()

    eta = args.eta if args.eta is not None else ntpcheck_default_eta(inst, args.optimizer)
    if args.optimizer == "gd" and args.dtype == "float32":
        # SGD scales the gradient by lr in the tensor's dtype: the step actually used is
        # fl32(eta), and that exact value is what the check must replay.
        eta = float(np.float32(eta))
    lr = eta * WRONG_ETA_FACTOR if args.mutant == "wrong-eta" else eta
    # torch.tensor copies: the optimizer updates W in place, and W0 must stay what it was.
    W = torch.zeros(inst.V, inst.d, dtype=dt) if W0 is None else torch.tensor(W0, dtype=dt)
    W.requires_grad_(True)
    if args.optimizer == "gd":
        opt = torch.optim.SGD([W], lr=lr, momentum=0.0)
    else:
        opt = torch.optim.Adam([W], lr=lr, betas=(0.9, 0.99), eps=1e-8)
    grid = set(int(k) for k in ntpcheck.log_grid(args.steps, args.points_per_decade))
    steps, weights, losses = [], [], []
    dropped = 0

    def record(k, loss_value):
        steps.append(k)
        weights.append(W.detach().numpy().copy())
        losses.append(loss_value)

    for k in range(args.steps + 1):
        opt.zero_grad()
        loss = loss_fn(W)
        if k in grid and not (args.mutant == "off-by-one" and k > 0):
            record(k, loss.item())
        if k == args.steps:
            break
        loss.backward()
        if args.mutant == "drop-small-grad":
            g = W.grad
            small = g.abs() < DROP_RELATIVE * g.abs().max()
            dropped += int(small.sum())
            g[small] = 0
        opt.step()
        if args.mutant == "off-by-one" and k in grid and k > 0:
            record(k, loss.item())  # W is W_{k+1} here
    if args.mutant == "drop-small-grad":
        notes.append("%d gradient entries dropped over the run" % dropped)
    return (np.asarray(steps, dtype=np.int64), np.stack(weights),
            np.asarray(losses, dtype=np.float64), eta, notes)


def ntpcheck_default_eta(inst, optimizer):
    return ntpcheck.default_eta(inst, optimizer)


def fmt(x):
    return "none" if x is None else ("%.4g" % x if isinstance(x, float) else str(x))


def describe_trajectory(res):
    tr = res["report"]["trajectory"]
    cand = res["report"]["candidate"]
    lines = ["verify_trajectory: %s (%d of %d checkpoints compared, truth %s)"
             % (res["verdict"], tr["compared"], cand["checkpoints"], tr["truth"]),
             "  rule: %s" % tr["rule"],
             "  factor %s, tolerance %s, cap %s, u_c = %.3g (%s)%s"
             % (fmt(tr["factor"]), fmt(tr["tolerance"]), fmt(tr["max_allowed_relative"]),
                cand["unit_roundoff"], cand["dtype"],
                ", kappa %s" % fmt(tr["kappa"]) if "kappa" in tr else "")]
    if tr["first_failing_step"] is None:
        lines.append("  first failing step: none")
    else:
        f = tr["first_failure"]
        w = f["worst_entry"]
        e, allowed = f["error_candidate"], f["allowed"]
        w_fails = not (isinstance(e, float) and e <= allowed)  # "inf" / "nan" are strings
        lines.append("  first failing step: %d (%s: e_c = %s %s allowed %s; worst entry "
                     "W[%d][%d] = %s, truth %s)"
                     % (tr["first_failing_step"], "W" if w_fails else "W passes", fmt(e),
                        ">" if w_fails else "<=", fmt(allowed), w["row"], w["col"],
                        fmt(w["candidate"]), fmt(w["truth"])))
        if "loss" in f and f["loss"]["status"] == "fail":
            lines.append("  reported loss %s errs by %s > allowed %s"
                         % (fmt(f["loss"]["reported"]), fmt(f["loss"]["error"]),
                            fmt(f["loss"]["allowed"])))
    w = tr["worst_checkpoint"]
    if w:
        e = w["worst_entry"]
        lines.append("  worst checkpoint: step %d, e_c = %s (allowed %s), worst entry W[%d][%d] = "
                     "%s vs truth %s" % (w["step"], fmt(w["error_candidate"]), fmt(w["allowed"]),
                                         e["row"], e["col"], fmt(e["candidate"]), fmt(e["truth"])))
    lines.append("  max e_c/(u_c (k+1)) = %.3g, max e_c/((u_c/u_d) e_d) = %.3g"
                 % (tr["max_ratio_to_eps_steps"], tr["max_ratio_to_double"]))
    if "inconclusive_reason" in tr:
        lines.append("  not compared: " + tr["inconclusive_reason"])
    return lines


def describe_point(res):
    p = res["report"]["point"]
    lines = ["verify_weights (last W): %s" % res["verdict"]]
    for name, v in p["verdicts"].items():
        lines.append("  %s: %s (measured %s, bound %s)"
                     % (name, v["verdict"], fmt(v["measured"]), fmt(v["bound"])))
    th = p.get("theory", {})
    if th.get("distance_P_F_W_to_W_star") is not None or th.get("cos_P_perp_W_W_mm") is not None:
        lines.append("  ||P_F W - W*|| = %s, cos(P_perp W, W^mm) = %s"
                     % (fmt(th.get("distance_P_F_W_to_W_star")), fmt(th.get("cos_P_perp_W_W_mm"))))
    return lines


def run(argv):
    """Trains, saves and verifies; returns (exit code, results dict)."""
    args = parse_args(argv)
    import torch
    torch.set_num_threads(1)  # two threads oversubscribe a 2-core machine (toolchain.md)
    inst = ntpcheck.load(args.instance)
    W0 = None
    if args.init is not None:
        W0 = np.load(args.init)
        if W0.shape != (inst.V, inst.d):
            raise ntpcheck.InvalidInput("npy file %s: shape must be (%d, %d), got %s"
                                        % (args.init, inst.V, inst.d, W0.shape))
        # The run starts from W0 rounded to its dtype; the check replays from that exact value.
        W0 = W0.astype(args.dtype).astype(np.float64)
    t0 = time.perf_counter()
    steps, Ws, losses, eta, notes = train(inst, args, torch, W0)
    seconds = time.perf_counter() - t0
    np.savez_compressed(args.out, step=steps, W=Ws, loss=losses)
    print("instance %s (V=%d, d=%d, m=%d), H = %.6g" % (inst.name, inst.V, inst.d, inst.m,
                                                        inst.entropy))
    print("torch %s %s, %s eta = %r, %d steps%s%s: %.2f s; %d checkpoints -> %s"
          % (torch.__version__, args.dtype, args.optimizer.upper(), eta, args.steps,
             "" if W0 is None else " from " + args.init,
             "" if args.mutant is None else ", MUTANT " + args.mutant, seconds, len(steps),
             args.out))
    for n in notes:
        print("  mutant: " + n)

    t = np.load(args.out)  # check what was saved, as another program would
    t0 = time.perf_counter()
    traj = ntpcheck.verify_trajectory(inst, t["step"], t["W"], optimizer=args.optimizer, eta=eta,
                                      W0=W0, loss=t["loss"], truth=args.truth,
                                      factor=args.factor, tolerance=args.tolerance,
                                      reference_objects=False)
    point = ntpcheck.verify_weights(inst, t["W"][-1], W0=W0, steps_taken=int(t["step"][-1]),
                                    reported_loss=float(t["loss"][-1]), truth=args.truth,
                                    reference_objects=not args.no_reference_objects,
                                    optimizer=args.optimizer)
    check_seconds = time.perf_counter() - t0
    for line in describe_trajectory(traj) + describe_point(point):
        print(line)
    if args.verbose:
        print(traj["summary"])
        print(point["summary"])
    codes = (traj["exit_code"], point["exit_code"])
    code = 1 if 1 in codes else (2 if 2 in codes else 0)
    print("%s (ntpcheck: %.2f s)" % ({0: "PASS", 1: "FLAGGED", 2: "INCONCLUSIVE"}[code],
                                     check_seconds))
    if args.report:
        with open(args.report, "w") as f:
            json.dump({"trajectory": traj["report"], "weights": point["report"]}, f, indent=1)
    return code, {"trajectory": traj, "weights": point, "eta": eta, "steps": steps,
                  "train_seconds": seconds, "check_seconds": check_seconds, "notes": notes}


def main(argv=None):
    try:
        return run(sys.argv[1:] if argv is None else argv)[0]
    except ntpcheck.InvalidInput as e:
        print("pytorch_gd.py: " + str(e), file=sys.stderr)
        return 3
    except (ntpcheck.Error, OSError) as e:
        print("pytorch_gd.py: " + str(e), file=sys.stderr)
        return 4



if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Prints issue 7's ratio table from one loss_bench JSON file and one peers.py JSON-lines file
measured in the same session (bench/compare.sh runs both), and optionally a second loss_bench JSON
file with target 3's multiprecision rows and bench/e2e.py's output (target 4). Exit status 0 when every target with a
measurement is met, 1 otherwise (2 when an input is missing rows)."""
import json
import sys

SHAPES = [(10, 60, 50), (64, 32, 32), (256, 128, 128), (1024, 256, 256)]
TARGET1_SHAPES = [(256, 128, 128), (1024, 256, 256)]
TARGET3_SHAPES = [(10, 60, 50), (64, 32, 32), (256, 128, 128)]


def shape_name(s):
    return "V:%d/d:%d/m:%d" % s


def load_cpp(path):
    rows = {}
    with open(path) as f:
        data = json.load(f)
    for b in data["benchmarks"]:
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        name = b.get("run_name", b["name"])
        scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b.get("time_unit", "ns")]
        rows[name] = b["real_time"] * scale
    return rows, data.get("context", {})


def load_peers(path):
    rows = {}
    with open(path) as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                rows[(r["impl"], r["V"], r["d"], r["m"])] = r["seconds"]
    return rows


def fmt(t):
    return "%.3g ms" % (t * 1e3) if t >= 1e-3 else "%.3g µs" % (t * 1e6)


def main():
    if len(sys.argv) not in (3, 4, 5):
        print("usage: compare.py LOSS_BENCH.json PEERS.jsonl [LOSS_BENCH_MP.json [E2E.jsonl]]",
              file=sys.stderr)
        return 2
    cpp, ctx = load_cpp(sys.argv[1])
    peers = load_peers(sys.argv[2])
    if len(sys.argv) >= 4:  # target 3's rows, from a second run of loss_bench in the same session
        cpp.update(load_cpp(sys.argv[3])[0])
    ok = True
    missing = False
    print("machine: %s, %s CPUs at %s MHz, load average %s" % (
        ctx.get("host_name", "?"), ctx.get("num_cpus", "?"), ctx.get("mhz_per_cpu", "?"),
        ctx.get("load_avg", "?")))
    print()
    print("Target 1: double loss+grad throughput / same-flops GEMM throughput >= 0.70")
    print("| (V,d,m) | loss+grad | same-flops GEMM | kernel's GEMM pair | Eigen GEMM pair | ratio | target |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for s in TARGET1_SHAPES:
        n = shape_name(s)
        try:
            lg = cpp["loss_grad/double/" + n]
            sf = cpp["same_flops_gemm/double/" + n]
            fp = cpp["fast_gemm_pair/double/" + n]
            ep = cpp["gemm_pair/double/" + n]
        except KeyError as e:
            print("| %s | missing %s |" % (s, e))
            missing = True
            continue
        r = sf / lg
        met = r >= 0.70
        ok &= met
        print("| %s | %s | %s | %s | %s | %.2f | %s |" % (
            s, fmt(lg), fmt(sf), fmt(fp), fmt(ep), r, "met" if met else "NOT met"))
    print()
    print("Target 2: ntpcheck faster than NumPy by >= 1.2x and than PyTorch by >= 1.5x (float64, 1 thread)")
    print("x: peer time / ntpcheck time. ceiling: peer time / the kernel's two GEMMs alone, the largest")
    print("ratio possible when both sides call the same BLAS for the two products.")
    print("| (V,d,m) | ntpcheck | NumPy | x | PyTorch | x | PyTorch autograd | x | ceiling NumPy / PyTorch | target |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for s in SHAPES:
        n = shape_name(s)
        lg = cpp.get("loss_grad/double/" + n)
        npy = peers.get(("numpy",) + s)
        tor = peers.get(("torch",) + s)
        aut = peers.get(("torch_autograd",) + s)
        if lg is None or npy is None:
            print("| %s | missing |" % (s,))
            missing = True
            continue
        met = npy / lg >= 1.2 and (tor is None or tor / lg >= 1.5)
        ok &= met
        cell = lambda t: ("%s | %.2f" % (fmt(t), t / lg)) if t is not None else "- | -"
        fp = cpp.get("fast_gemm_pair/double/" + n)
        ceiling = "-" if fp is None else "%.2f / %s" % (npy / fp, "-" if tor is None else "%.2f" % (tor / fp))
        print("| %s | %s | %s | %s | %s | %s | %s |" % (
            s, fmt(lg), cell(npy), cell(tor), cell(aut), ceiling,
            ("met" if met else "NOT met") + ("" if tor is not None else " (no PyTorch)")))
    print()
    print("Target 3: MPFR at 50 and 200 digits and double-double within 1.5x of their multiply-add floor")
    print("floor: the kernel's 2 V d m multiply-adds alone on its own preallocated operands, the faster of")
    print("mul+add and fma (MPFR), of a plain loop and Eigen's GEMM pair (dd); same binary, same run.")
    print("| type | (V,d,m) | loss+grad | floor | how | ratio | target |")
    print("|---|---|---:|---:|---|---:|---|")
    for typ in ["mpfr:50", "mpfr:200", "dd"]:
        for s in TARGET3_SHAPES:
            n = shape_name(s)
            lg = cpp.get("loss_grad/%s/%s" % (typ, n))
            if typ == "dd":
                cands = {"loop": cpp.get("dd_floor/dd/" + n), "Eigen": cpp.get("gemm_pair/dd/" + n)}
            else:
                cands = {"mul+add": cpp.get("mpfr_floor_muladd/%s/%s" % (typ, n)),
                         "fma": cpp.get("mpfr_floor_fma/%s/%s" % (typ, n))}
            cands = {k: v for k, v in cands.items() if v is not None}
            if lg is None or not cands:
                print("| %s | %s | missing |" % (typ, s))
                missing = True
                continue
            how, floor = min(cands.items(), key=lambda kv: kv[1])
            r = lg / floor
            met = r <= 1.5
            ok &= met
            print("| %s | %s | %s | %s | %s | %.2f | %s |" % (
                typ, s, fmt(lg), fmt(floor), how, r, "met" if met else "NOT met"))
    print()
    if len(sys.argv) == 5:
        print("Target 4: end to end on paper-main (wall clock; breakdown from the command's --json)")
        print("| command | time | limit | exit | slowest phases | target |")
        print("|---|---:|---:|---:|---|---|")
        with open(sys.argv[4]) as f:
            for line in f:
                if not line.strip():
                    continue
                r = json.loads(line)
                phases = sorted(((v, k) for k, v in r["breakdown"].items()
                                 if isinstance(v, (int, float)) and k != "total"), reverse=True)
                top = ", ".join("%s %.2f s" % (k, v) for v, k in phases[:3])
                met = r["exit"] == 0 and r["seconds"] < r["limit"]
                ok &= met
                print("| ntpcheck %s @paper-main | %.2f s | %.0f s | %d | %s | %s |" % (
                    r["command"], r["seconds"], r["limit"], r["exit"], top,
                    "met" if met else "NOT met"))
        print()
    print("all measured targets met" if ok and not missing else "some targets NOT met" if not ok else "rows missing")
    return 0 if ok and not missing else (1 if not ok else 2)


if __name__ == "__main__":
    sys.exit(main())

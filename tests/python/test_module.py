#!/usr/bin/python3
"""Unit tests of the Python module ntpcheck (no pytest needed): instances, analyze, loss, the
verifiers, round trips, and the exact one-line messages of bad input (the CLI's).

    PYTHONPATH=<build>/python /usr/bin/python3 tests/python/test_module.py [-k NAME]
"""

import json
import sys
import threading
import time
import traceback

try:
    import numpy as np
except ImportError:
    print("SKIP: NumPy (python3-numpy) is not installed")
    sys.exit(77)

import ntpcheck

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def raises(cls, message, fn, *args, **kwargs):
    """fn(*args, **kwargs) raises cls with exactly `message` (or, for a callable, a match)."""
    try:
        fn(*args, **kwargs)
    except cls as e:
        got = str(e)
        if callable(message):
            assert message(got), "unexpected message: %r" % got
        else:
            assert got == message, "message\n  got      %r\n  expected %r" % (got, message)
        return e
    except Exception as e:  # noqa: BLE001
        raise AssertionError("expected %s(%r), got %s(%r)" % (cls.__name__, message,
                                                              type(e).__name__, str(e)))
    raise AssertionError("expected %s(%r), nothing raised" % (cls.__name__, message))


def gd_numpy(inst, eta, steps, W0=None, dtype=np.float64):
    """Plain GD in NumPy (another client: a stable softmax, the gradient (S - P) diag(pi) H^T)."""
    H, P, pi = inst.H.astype(dtype), inst.P.astype(dtype), inst.pi.astype(dtype)
    W = np.zeros((inst.V, inst.d), dtype) if W0 is None else W0.astype(dtype)
    eta = dtype(eta)
    out = [W.copy()]
    for _ in range(steps):
        L = (W @ H).T
        L = L - L.max(axis=1, keepdims=True)
        S = np.exp(L)
        S /= S.sum(axis=1, keepdims=True)
        W = W - eta * (((S - P) * pi[:, None]).T @ H.T)
        out.append(W.copy())
    return np.stack(out)


PAPER_MAIN = ntpcheck.load("@paper-main")
PRECISION_MESSAGE = ('invalid precision: %s must be one of float, double, long-double, dd, qd, '
                     'float128, mp50, mpfr:DIGITS (10..10000), got "bogus"')
TOY = ntpcheck.load("@paper-toy")


# --- instances -------------------------------------------------------------------------------


@test
def instance_properties():
    i = PAPER_MAIN
    assert (i.V, i.d, i.m) == (10, 60, 50)
    assert i.name == "paper-main", i.name
    assert i.H.shape == (60, 50) and i.H.dtype == np.float64
    assert i.pi.shape == (50,) and abs(i.pi.sum() - 1) < 1e-15
    assert i.P.shape == (50, 10) and np.allclose(i.P.sum(axis=1), 1, atol=1e-15)
    assert len(i.supports) == 50 and all(len(s) == 6 for s in i.supports)
    for j, S in enumerate(i.supports):
        assert S == sorted(S)
        assert set(np.nonzero(i.P[j])[0]) == set(S)
    # H = -sum pi p log p, from the arrays.
    P = i.P
    h = -np.sum(i.pi[:, None] * np.where(P > 0, P * np.log(np.where(P > 0, P, 1)), 0))
    assert abs(h - i.entropy) < 1e-13, (h, i.entropy)
    assert 1.3 < i.entropy < 1.6
    # Embeddings are on the 2^-16 grid (exact doubles).
    assert np.all(i.H * 65536 == np.round(i.H * 65536))
    s = i.summary()
    assert s["V"] == 10 and s["default_gd_eta"] == ntpcheck.default_eta(i, "gd")
    # 1/(2L), shaved by 1e-9 relative so that rounding never puts it above the bound.
    assert 0 < 1 / (2 * s["smoothness_L"]) - s["default_gd_eta"] < 2e-9 * s["default_gd_eta"]
    assert ntpcheck.default_eta(i, "adam") == 0.01
    assert repr(i) == "<ntpcheck.Instance name='paper-main' V=10 d=60 m=50>"


@test
def generate_load_json_round_trip():
    a = ntpcheck.generate("paper-main", seed=1)
    assert a.to_json() == PAPER_MAIN.to_json()
    b = ntpcheck.from_json(a.to_json())
    assert b.to_json() == a.to_json()
    for name in ("H", "pi", "P"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
    assert a.supports == b.supports
    c = ntpcheck.load("@paper-toy:7")
    assert c.to_json() == ntpcheck.generate("paper-toy", seed=7).to_json()
    assert c.to_json() != TOY.to_json()
    g = ntpcheck.generate("overparameterized", seed=3, V=6, d=8, m=5, support_size=2)
    assert (g.V, g.d, g.m) == (6, 8, 5) and all(len(s) == 2 for s in g.supports)
    assert json.loads(g.to_json())["extra"]["seed"] == 3


@test
def instance_file_round_trip(tmp=None):
    import os
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "toy.json")
        with open(path, "w") as f:
            f.write(TOY.to_json())
        assert ntpcheck.load(path).to_json() == TOY.to_json()


@test
def errors_are_python_exceptions():
    assert issubclass(ntpcheck.InvalidInput, ValueError)
    assert issubclass(ntpcheck.InvalidInput, ntpcheck.Error)
    assert issubclass(ntpcheck.Error, RuntimeError)
    e = raises(ntpcheck.InvalidInput,
               'invalid option: --seed must be an integer in [0, 2^64), got "-1"',
               ntpcheck.generate, "paper-main", seed=-1)
    assert e.exit_code == 3
    raises(ntpcheck.InvalidInput,
           'invalid option: --seed must be an integer in [0, 2^64), got "18446744073709551616"',
           ntpcheck.generate, "paper-main", seed=2 ** 64)
    raises(ntpcheck.InvalidInput,
           'invalid option: --seed must be an integer in [0, 2^64), got "1.5"',
           ntpcheck.generate, "paper-main", seed=1.5)
    raises(ntpcheck.InvalidInput, lambda m: m.startswith("invalid generator option: family"),
           ntpcheck.generate, "nope")
    raises(ntpcheck.InvalidInput, lambda m: m.startswith("invalid generator option: family"),
           ntpcheck.load, "@nope")
    raises(ntpcheck.InvalidInput,
           "invalid generator option: vocab_size must be 10 (or -1) for family paper-main, got 5",
           ntpcheck.generate, "paper-main", V=5)
    e = raises(ntpcheck.Error, lambda m: "/nonexistent/x.json" in m, ntpcheck.load,
               "/nonexistent/x.json")
    assert not isinstance(e, ntpcheck.InvalidInput) and e.exit_code == 3
    raises(ntpcheck.InvalidInput,
           lambda m: m.startswith("instance file <string>: JSON syntax error"),
           ntpcheck.from_json, "{")
    # NaN in an instance: refused with its JSON path, every problem listed.
    doc = json.loads(TOY.to_json())
    doc["contexts"][1]["embedding"][0] = "nan"
    doc["contexts"][2]["weight"] = -1
    e = raises(ntpcheck.InvalidInput,
               'invalid instance file <string>: contexts[1].embedding[0] must be a number or a '
               'string holding a decimal or a rational ("0.1", "1/3"), got "nan"',
               ntpcheck.from_json, json.dumps(doc))
    assert len(e.problems) >= 1 and all(len(p) == 2 for p in e.problems)
    doc["contexts"][1]["embedding"][0] = 0.5
    e = raises(ntpcheck.InvalidInput, lambda m: m.startswith("invalid instance file <string>: "
                                                             "contexts[2].weight"),
               ntpcheck.from_json, json.dumps(doc))
    assert e.problems[0][0] == "contexts[2].weight", e.problems


# --- analyze and loss ------------------------------------------------------------------------


@test
def analyze_report():
    r = ntpcheck.analyze(ntpcheck.load("@paper-toy:4"))
    assert r["status"] == "decided", r["status"]
    assert r["compatibility"]["verdict"] == "holds"
    assert r["separability"]["verdict"] == "holds"
    assert r["instance"]["V"] == 5
    assert isinstance(r["entropy"]["value"], float)
    raises(ntpcheck.InvalidInput, PRECISION_MESSAGE % "--precision", ntpcheck.analyze, TOY,
           precision="bogus")
    raises(ntpcheck.InvalidInput, "invalid option: --excess must be finite and > 0, got -1",
           ntpcheck.analyze, TOY, excess=-1.0)


@test
def loss_matches_formula():
    i = PAPER_MAIN
    r = ntpcheck.loss(i, np.zeros((i.V, i.d)))
    assert abs(r["ce"] - np.log(i.V)) < 1e-14
    assert abs(r["excess"] - (np.log(i.V) - i.entropy)) < 1e-14
    rng = np.random.default_rng(1)
    W = rng.standard_normal((i.V, i.d))
    r = ntpcheck.loss(i, W)
    L = (W @ i.H).T
    L -= L.max(axis=1, keepdims=True)
    S = np.exp(L)
    S /= S.sum(axis=1, keepdims=True)
    G = ((S - i.P) * i.pi[:, None]).T @ i.H.T
    assert r["grad"].shape == (10, 60)
    assert np.abs(r["grad"] - G).max() < 1e-14, np.abs(r["grad"] - G).max()
    ce = -np.sum(i.pi[:, None] * i.P * np.log(np.maximum(S, 1e-300)))
    assert abs(r["ce"] - ce) < 1e-12
    # Fortran order and float32 are accepted; the values are the same.
    assert ntpcheck.loss(i, np.asfortranarray(W))["ce"] == r["ce"]
    assert abs(ntpcheck.loss(i, W.astype(np.float32))["ce"] - r["ce"]) < 1e-5


@test
def log_grid():
    g = ntpcheck.log_grid(1000)
    assert g.dtype == np.int64
    assert list(g[:11]) == list(range(11)) and g[-1] == 1000
    assert np.all(np.diff(g) > 0) and 25 <= len(g) <= 45
    assert list(ntpcheck.log_grid(3)) == [0, 1, 2, 3]


# --- verify_weights ------------------------------------------------------------------------


@test
def verify_weights_point():
    i = PAPER_MAIN
    traj = gd_numpy(i, 0.5, 50)
    r = ntpcheck.verify_weights(i, traj[-1], steps_taken=50, reference_objects=False)
    assert r["passed"] and r["exit_code"] == 0 and r["verdict"] == "holds", r["summary"]
    rep = r["report"]
    assert rep["format"] == "ntp-verify" and rep["mode"] == "weights"
    assert rep["candidate"]["dtype"] == "f8"
    assert rep["point"]["verdicts"]["column_sums"]["verdict"] == "holds"
    assert "verdict: holds" in r["summary"]
    r32 = ntpcheck.verify_weights(i, traj[-1].astype(np.float32), steps_taken=50,
                                  reference_objects=False)
    assert r32["report"]["candidate"]["dtype"] == "f4" and r32["passed"], r32["summary"]
    assert r32["report"]["candidate"]["unit_roundoff"] == 2.0 ** -24
    # A reported loss: the right one passes, a wrong one is flagged.
    ce = ntpcheck.loss(i, traj[-1])["ce"]
    assert ntpcheck.verify_weights(i, traj[-1], reported_loss=ce, reference_objects=False)["passed"]
    bad = ntpcheck.verify_weights(i, traj[-1], reported_loss=ce * 1.001, reference_objects=False)
    assert bad["exit_code"] == 1 and bad["report"]["point"]["verdicts"]["reported_loss"][
        "verdict"] == "violated"
    # Broken invariant: a column sum moved.
    W = traj[-1].copy()
    W[3, 7] += 1e-3
    bad = ntpcheck.verify_weights(i, W, steps_taken=50, reference_objects=False)
    assert bad["exit_code"] == 1, bad["summary"]
    assert bad["report"]["point"]["verdicts"]["column_sums"]["verdict"] == "violated"
    # The same W from Adam: the invariants are not applicable.
    adam = ntpcheck.verify_weights(i, W, steps_taken=50, reference_objects=False, optimizer="adam")
    assert adam["report"]["point"]["verdicts"]["column_sums"]["verdict"] == "not_applicable"
    # NaN in W: flagged, not a crash.
    W[0, 0] = np.nan
    bad = ntpcheck.verify_weights(i, W, reference_objects=False)
    assert bad["exit_code"] == 1
    assert bad["report"]["point"]["verdicts"]["finite"]["verdict"] == "violated"
    # With the reference objects: W* and W^mm are used.
    full = ntpcheck.verify_weights(TOY, np.zeros((TOY.V, TOY.d)))
    assert "theory" in full["report"]["point"]


@test
def verify_weights_bad_arrays():
    i = PAPER_MAIN
    Z = np.zeros((10, 60))
    E = ntpcheck.InvalidInput
    raises(E, "array W: dtype must be float32 or float64, got i8", ntpcheck.verify_weights, i,
           np.zeros((10, 60), dtype=np.int64))
    raises(E, "array W: dtype must be float32 or float64, got c16", ntpcheck.verify_weights, i,
           np.zeros((10, 60), dtype=np.complex128))
    raises(E, "array W: dtype must be float32 or float64, got f2", ntpcheck.verify_weights, i,
           np.zeros((10, 60), dtype=np.float16))
    raises(E, "array W: dtype must be float32 or float64, got b1", ntpcheck.verify_weights, i,
           np.zeros((10, 60), dtype=bool))
    raises(E, lambda m: m.startswith("array W: dtype must be float32 or float64, got U"),
           ntpcheck.verify_weights, i, "not an array")
    raises(E, lambda m: m.startswith("array W: dtype must be float32 or float64, got O"),
           ntpcheck.verify_weights, i, {"a": 1})
    raises(E, "array W: header shape has 3 dimensions, expected 2, got (1, 10, 60)",
           ntpcheck.verify_weights, i, np.zeros((1, 10, 60)))
    raises(E, "array W: header shape dimension 1 is 59, expected 60, got (10, 59)",
           ntpcheck.verify_weights, i, np.zeros((10, 59)))
    raises(E, "array W: header shape has 0 dimensions, expected 2, got ()",
           ntpcheck.verify_weights, i, 1.0)
    raises(E, "array W0: dtype must be float32 or float64, got i8", ntpcheck.verify_weights, i, Z,
           W0=np.zeros((10, 60), dtype=np.int64))
    raises(E, "array W0: header shape dimension 0 is 9, expected 10, got (9, 60)",
           ntpcheck.verify_weights, i, Z, W0=np.zeros((9, 60)))
    W0 = Z.copy()
    W0[1, 2] = np.inf
    raises(E, "invalid W0: entry [1][2] must be finite, got inf", ntpcheck.verify_weights, i, Z,
           W0=W0)
    raises(E, PRECISION_MESSAGE % "--truth", ntpcheck.verify_weights, i, Z, truth="bogus")
    raises(E, 'invalid option: --optimizer must be gd, ngd or adam, got "sgd"',
           ntpcheck.verify_weights, i, Z, optimizer="sgd")
    raises(E, "invalid option: --steps-taken must be in [0, 100000000], got -2",
           ntpcheck.verify_weights, i, Z, steps_taken=-2)
    # Memory order and byte order do not matter.
    W = np.random.default_rng(2).standard_normal((10, 60)) * 1e-3
    a = ntpcheck.verify_weights(i, W, reference_objects=False)["report"]["point"]
    b = ntpcheck.verify_weights(i, np.asfortranarray(W), reference_objects=False)["report"]["point"]
    c = ntpcheck.verify_weights(i, W.astype(">f8"), reference_objects=False)["report"]["point"]
    d = ntpcheck.verify_weights(i, W[:, ::-1][:, ::-1], reference_objects=False)["report"]["point"]
    assert a == b == c == d


# --- verify_trajectory ---------------------------------------------------------------------


def small_run(inst=PAPER_MAIN, eta=0.5, steps=100):
    grid = ntpcheck.log_grid(steps)
    traj = gd_numpy(inst, eta, steps)
    return grid, traj[grid]


@test
def verify_trajectory_passes_and_round_trips():
    i = PAPER_MAIN
    steps, W = small_run()
    r = ntpcheck.verify_trajectory(i, steps, W, eta=0.5, reference_objects=False)
    assert r["passed"] and r["first_failing_step"] is None, r["summary"]
    tr = r["report"]["trajectory"]
    assert tr["compared"] == len(steps) and tr["eta"] == "0.5" and tr["optimizer"] == "gd"
    assert tr["factor"] == 16 and tr["tolerance"] == 16
    # The same with eta as exact text, as a Fraction, in Fortran order, big-endian.
    from fractions import Fraction
    for kw in ({"eta": "1/2"}, {"eta": "0.5"}, {"eta": Fraction(1, 2)}, {"eta": np.float32(0.5)}):
        assert ntpcheck.verify_trajectory(i, steps, W, reference_objects=False, **kw)["report"][
            "trajectory"]["checkpoints"] == tr["checkpoints"], kw
    r2 = ntpcheck.verify_trajectory(i, list(steps), np.asfortranarray(W).astype(">f8"), eta=0.5,
                                    reference_objects=False)
    assert r2["report"]["trajectory"]["checkpoints"] == tr["checkpoints"]
    # float32 copies of a float64 run pass as a float32 candidate.
    r3 = ntpcheck.verify_trajectory(i, steps, W.astype(np.float32), eta=0.5,
                                    reference_objects=False)
    assert r3["passed"] and r3["report"]["candidate"]["dtype"] == "f4", r3["summary"]
    # eta as a float is exact: 0.1 is the double nearest 1/10, not 1/10.
    r4 = ntpcheck.verify_trajectory(i, steps[:1], W[:1], eta=0.1, reference_objects=False)
    assert r4["report"]["trajectory"]["eta"] == "3602879701896397/36028797018963968"
    # The default eta is ntpcheck train's: 1/(2L) for GD.
    d = ntpcheck.default_eta(i, "gd")
    steps_d, W_d = small_run(eta=d, steps=20)
    assert ntpcheck.verify_trajectory(i, steps_d, W_d, reference_objects=False)["passed"]


@test
def verify_trajectory_flags_a_tampered_checkpoint():
    i = PAPER_MAIN
    steps, W = small_run()
    W = W.copy()
    k = 12  # checkpoint index
    W[k, 4, 5] += 1e-9 * np.abs(W[k]).max()
    r = ntpcheck.verify_trajectory(i, steps, W, eta=0.5, reference_objects=False)
    assert not r["passed"] and r["exit_code"] == 1
    assert r["first_failing_step"] == steps[k], (r["first_failing_step"], steps[k])
    f = r["report"]["trajectory"]["first_failure"]["worst_entry"]
    assert (f["row"], f["col"]) == (4, 5), f
    assert "FIRST FAILING STEP %d" % steps[k] in r["summary"]
    # NaN from some step on: flagged there.
    W[20:, 0, 0] = np.nan
    r = ntpcheck.verify_trajectory(i, steps, W, eta=0.5, reference_objects=False)
    assert r["first_failing_step"] == steps[k]
    assert "FIRST FAILING STEP %d" % steps[k] in r["summary"], r["summary"]
    W[k, 4, 5] -= 1e-9 * np.abs(W[k]).max()
    W[k] = gd_numpy(i, 0.5, 100)[steps[k]]
    r = ntpcheck.verify_trajectory(i, steps, W, eta=0.5, reference_objects=False)
    assert r["first_failing_step"] == steps[20], r["summary"]
    f = r["report"]["trajectory"]["first_failure"]
    assert f["error_candidate"] == "inf" and f["worst_entry"]["candidate"] == "nan", f
    assert "FIRST FAILING STEP %d" % steps[20] in r["summary"], r["summary"]
    # A wrong reported loss alone fails its checkpoint.
    steps, W = small_run()
    loss = np.array([ntpcheck.loss(i, w)["ce"] for w in W])
    assert ntpcheck.verify_trajectory(i, steps, W, eta=0.5, loss=loss,
                                      reference_objects=False)["passed"]
    loss[7] *= 1.01
    r = ntpcheck.verify_trajectory(i, steps, W, eta=0.5, loss=loss, reference_objects=False)
    assert r["first_failing_step"] == steps[7]


@test
def verify_trajectory_bad_input():
    i = PAPER_MAIN
    steps, W = small_run(steps=20)
    K = len(steps)
    E = ntpcheck.InvalidInput
    v = ntpcheck.verify_trajectory
    raises(E, 'invalid option: --eta must be a positive number, got "abc"', v, i, steps, W,
           eta="abc")
    raises(E, 'invalid option: --eta must be a positive number, got "-1/2"', v, i, steps, W,
           eta="-1/2")
    raises(E, "invalid option: --eta must be a positive number, got -0.5", v, i, steps, W, eta=-0.5)
    raises(E, "invalid option: --eta must be a positive number, got nan", v, i, steps, W,
           eta=float("nan"))
    raises(E, "invalid option: --eta must be a positive number, got 0", v, i, steps, W, eta=0)
    raises(E, "invalid option: --eta must be a positive number, got True", v, i, steps, W, eta=True)
    raises(E, "invalid option: --eta must be a positive number, got [0.5]", v, i, steps, W,
           eta=[0.5])
    raises(E, "invalid option: --eta must be a positive number, got array([0.5, 0.5])", v, i, steps,
           W, eta=np.array([0.5, 0.5]))
    raises(E, 'invalid option: --optimizer must be gd, ngd or adam, got "sgd"', v, i, steps, W,
           optimizer="sgd")
    raises(E, "invalid option: --factor must be finite and >= 0, got -1", v, i, steps, W, eta=0.5,
           factor=-1)
    raises(E, "invalid option: --tolerance must be finite and > 0, got 0", v, i, steps, W, eta=0.5,
           tolerance=0)
    raises(E, "invalid option: --tolerance must be finite and > 0, got nan", v, i, steps, W,
           eta=0.5, tolerance=float("nan"))
    raises(E, PRECISION_MESSAGE % "--truth", v, i, steps, W, eta=0.5, truth="bogus")
    raises(E, "trajectory: array step must have an integer dtype, got f8", v, i,
           steps.astype(float), W, eta=0.5)
    raises(E, "trajectory: array step must have an integer dtype, got c16", v, i,
           steps.astype(complex), W, eta=0.5)
    raises(E, "trajectory: array step must have shape (K,), got (1, %d)" % K, v, i,
           steps[None, :], W, eta=0.5)
    raises(E, "trajectory: array step must hold at least one step, got (0,)", v, i,
           steps[:0], W[:0], eta=0.5)
    bad = steps.copy()
    bad[3] = 2
    raises(E, "trajectory: array step must be strictly increasing, got 2 then 2 at entry 3", v, i,
           bad, W, eta=0.5)
    bad[3] = -1
    raises(E, "trajectory: array step entry 3 must be in [0, 100000000], got -1", v, i, bad, W,
           eta=0.5)
    raises(E, "trajectory: array W must be float32 or float64, got i8", v, i, steps,
           W.astype(np.int64), eta=0.5)
    raises(E, "trajectory: array W must be float32 or float64, got c16", v, i, steps,
           W.astype(np.complex128), eta=0.5)
    raises(E, "trajectory: array W: header shape has 2 dimensions, expected 3, got (10, 60)", v, i,
           steps, W[0], eta=0.5)
    raises(E, "trajectory: array W: header shape dimension 0 is %d, expected %d, got (%d, 10, 60)"
           % (K - 1, K, K - 1), v, i, steps, W[:-1], eta=0.5)
    raises(E, "trajectory: array loss: header shape dimension 0 is 3, expected %d, got (3,)" % K, v,
           i, steps, W, eta=0.5, loss=np.zeros(3))
    raises(E, "trajectory: array loss must be float32 or float64, got i8", v, i, steps, W,
           eta=0.5, loss=np.zeros(K, dtype=np.int64))
    raises(E, lambda m: m.startswith("trajectory: array W must be float32 or float64, got "), v, i,
           steps, [[1, 2], [3]], eta=0.5)
    # uint64 steps are integers too.
    assert v(i, steps.astype(np.uint64), W, eta=0.5, reference_objects=False)["passed"]


@test
def verify_releases_the_gil():
    i = PAPER_MAIN
    steps, W = small_run(steps=300)
    done = []
    t = threading.Thread(target=lambda: done.append(
        ntpcheck.verify_trajectory(i, steps, W, eta=0.5, reference_objects=False)))
    count = 0
    t0 = time.perf_counter()
    t.start()
    while t.is_alive():
        count += 1
        time.sleep(0)
    elapsed = time.perf_counter() - t0
    t.join()
    assert done and done[0]["passed"]
    # The main thread kept running Python while the replay ran (it would be starved otherwise).
    assert elapsed < 0.05 or count > 100, (count, elapsed)


@test
def verify_trajectory_time_budget_and_interrupt():
    import os
    import signal
    i = PAPER_MAIN
    steps = ntpcheck.log_grid(100000)
    W = np.zeros((len(steps), 10, 60))
    t0 = time.perf_counter()
    r = ntpcheck.verify_trajectory(i, steps, W, eta=0.5, reference_objects=False, max_seconds=0.3)
    assert time.perf_counter() - t0 < 5
    # Stopped by the budget (the truth replay first, double up to where it got): partial. The
    # zero candidate is wrong from step 1 on, which the compared checkpoints show.
    assert r["report"]["partial"] is True and r["exit_code"] == 1, r["summary"]
    assert r["report"]["trajectory"]["first_failing_step"] == 1
    assert r["report"]["trajectory"]["compared"] < len(steps)
    r = ntpcheck.verify_trajectory(i, steps[:1], W[:1], eta=0.5, reference_objects=False,
                                   max_seconds=0.3)
    assert r["passed"] and r["report"]["partial"] is False
    raises(ntpcheck.InvalidInput,
           "invalid option: --max-seconds must be a non-negative number (0: no limit), got -1",
           ntpcheck.verify_trajectory, i, steps, W, eta=0.5, max_seconds=-1)
    # Ctrl-C stops a long replay (the GIL is taken back to check for signals).
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    t0 = time.perf_counter()
    try:
        ntpcheck.verify_trajectory(i, steps, W, eta=0.5, reference_objects=False)
        raise AssertionError("not interrupted")
    except KeyboardInterrupt:
        pass
    timer.join()
    assert time.perf_counter() - t0 < 5


def main(argv):
    only = argv[argv.index("-k") + 1] if "-k" in argv else None
    failed = 0
    for fn in TESTS:
        if only and only not in fn.__name__:
            continue
        t0 = time.perf_counter()
        try:
            fn()
            print("ok    %-45s %.2f s" % (fn.__name__, time.perf_counter() - t0))
        except Exception:  # noqa: BLE001
            failed += 1
            print("FAIL  %s" % fn.__name__)
            traceback.print_exc()
    print("%d of %d tests failed" % (failed, len(TESTS)) if failed else "all tests passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

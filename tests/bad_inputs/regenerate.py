"""Regenerates the bad-input files of this directory (not MANIFEST): python3 regenerate.py.
Standard library only. Each JSON file is control_valid.json or control_counts.json with one fault."""
import json, os, struct
D = os.path.dirname(os.path.abspath(__file__))
def base():
    return {"format": "ntp-instance", "version": 1, "vocab_size": 3, "embedding_dim": 2,
            "contexts": [
                {"embedding": [1, 0], "weight": 0.5, "next_tokens": [0, 1], "probabilities": [0.5, 0.5]},
                {"embedding": [0, 1], "weight": 0.5, "next_tokens": [2], "probabilities": [1]}]}
def counts_base():
    return {"format": "ntp-instance", "version": 1, "vocab_size": 3, "embedding_dim": 2,
            "contexts": [
                {"embedding": [1, 0], "next_tokens": [0, 1], "counts": [2, 3]},
                {"embedding": [0, 1], "next_tokens": [2], "counts": [4]}]}
def w(name, obj):
    with open(os.path.join(D, name), "w") as f:
        if isinstance(obj, str): f.write(obj)
        else: f.write(json.dumps(obj) + "\n")
def mut(name, fn, b=base):
    o = b(); fn(o); w(name, o)

w("control_valid.json", base())
w("control_counts.json", counts_base())
w("truncated.json", json.dumps(base())[:70])
w("empty_file.json", "")
w("not_object_array.json", "[1, 2, 3]\n")
w("not_object_number.json", "42\n")
mut("wrong_format.json", lambda o: o.update(format="ntp-instanc"))
mut("wrong_version.json", lambda o: o.update(version=2))
mut("version_string.json", lambda o: o.update(version="1"))
mut("missing_format.json", lambda o: o.pop("format"))
mut("unknown_top_field.json", lambda o: o.update(vocabulary=3))
mut("unknown_context_field.json", lambda o: o["contexts"][1].update(prob=[1]))
mut("vocab_size_string.json", lambda o: o.update(vocab_size="3"))
mut("vocab_size_float.json", lambda o: o.update(vocab_size=3.5))
mut("vocab_size_one.json", lambda o: o.update(vocab_size=1))
mut("embedding_dim_zero.json", lambda o: o.update(embedding_dim=0))
mut("missing_vocab_size.json", lambda o: o.pop("vocab_size"))
mut("embedding_object.json", lambda o: o["contexts"][0].update(embedding={"x": 1}))
mut("context_not_object.json", lambda o: o["contexts"].__setitem__(1, [0, 1]))
mut("contexts_object.json", lambda o: o.update(contexts={}))
mut("name_number.json", lambda o: o.update(name=7))
mut("vocab_size_1e9.json", lambda o: o.update(vocab_size=10**9))
mut("vocab_size_2e63.json", lambda o: o.update(vocab_size=2**63))
# V*d = 1e6 * 200 = 2e8 > 2^27 (each within its own limit)
mut("vd_over_limit.json", lambda o: o.update(vocab_size=1000000, embedding_dim=200))
mut("negative_count.json", lambda o: o["contexts"][0].update(counts=[2, -1]), counts_base)
mut("zero_count.json", lambda o: o["contexts"][1].update(counts=[0]), counts_base)
mut("fractional_count.json", lambda o: o["contexts"][0].update(counts=[2, 1.5]), counts_base)
mut("empty_counts.json", lambda o: o["contexts"][1].update(next_tokens=[], counts=[]), counts_base)
mut("counts_length_mismatch.json", lambda o: o["contexts"][0].update(counts=[2]), counts_base)
mut("prob_sum_0.9.json", lambda o: o["contexts"][0].update(probabilities=[0.5, 0.4]))
mut("prob_zero.json", lambda o: o["contexts"][0].update(probabilities=[1, 0]))
mut("prob_negative.json", lambda o: o["contexts"][0].update(probabilities=[1.5, -0.5]))
mut("prob_nan_string.json", lambda o: o["contexts"][0].update(probabilities=["nan", 0.5]))
mut("prob_inf_string.json", lambda o: o["contexts"][0].update(probabilities=[0.5, "inf"]))
mut("prob_abc.json", lambda o: o["contexts"][0].update(probabilities=["abc", 0.5]))
mut("prob_div_zero.json", lambda o: o["contexts"][0].update(probabilities=["1/0", 0.5]))
mut("prob_length_mismatch.json", lambda o: o["contexts"][0].update(probabilities=[1]))
mut("prob_bool.json", lambda o: o["contexts"][0].update(probabilities=[True, 0.5]))
t = json.dumps(base()).replace('"embedding": [0, 1]', '"embedding": [0, 1e999]')
assert "1e999" in t
w("embedding_1e999.json", t + "\n")
mut("embedding_inf_string.json", lambda o: o["contexts"][1].update(embedding=[0, "-inf"]))
mut("embedding_string_1e400.json", lambda o: o["contexts"][1].update(embedding=[0, "1e400"]))
mut("embedding_1e300.json", lambda o: o["contexts"][1].update(embedding=[0, 1e300]))
mut("embedding_1e39.json", lambda o: o["contexts"][1].update(embedding=[0, 1e39]))
mut("prob_string_1e-400.json", lambda o: o["contexts"][0].update(probabilities=["1e-400", 1]))
mut("prob_string_1e-50.json", lambda o: o["contexts"][0].update(probabilities=["1e-50", 1]))
mut("embedding_short.json", lambda o: o["contexts"][1].update(embedding=[0]))
mut("embedding_long.json", lambda o: o["contexts"][0].update(embedding=[1, 0, 0]))
mut("missing_embedding.json", lambda o: o["contexts"][0].pop("embedding"))
mut("token_eq_V.json", lambda o: o["contexts"][1].update(next_tokens=[3]))
mut("token_negative.json", lambda o: o["contexts"][0].update(next_tokens=[-1, 1]))
mut("token_2p40.json", lambda o: o["contexts"][1].update(next_tokens=[2**40]))
mut("token_float.json", lambda o: o["contexts"][1].update(next_tokens=[1.5]))
mut("token_duplicate.json", lambda o: o["contexts"][0].update(next_tokens=[1, 1]))
mut("next_tokens_empty.json", lambda o: o["contexts"][1].update(next_tokens=[], probabilities=[]))
mut("contexts_empty.json", lambda o: o.update(contexts=[]))
mut("missing_contexts.json", lambda o: o.pop("contexts"))
mut("weights_sum_0.8.json", lambda o: o["contexts"][1].update(weight=0.3))
mut("weight_zero.json", lambda o: (o["contexts"][0].update(weight=0), o["contexts"][1].update(weight=1)))
mut("weight_negative.json", lambda o: (o["contexts"][0].update(weight=-0.5), o["contexts"][1].update(weight=1.5)))
mut("missing_weight.json", lambda o: o["contexts"][0].pop("weight"))
mut("mixed_in_context.json", lambda o: o["contexts"][0].update(counts=[1, 1]))
mut("mixed_across_contexts.json",
    lambda o: o["contexts"].__setitem__(1, {"embedding": [0, 1], "next_tokens": [2], "counts": [4]}))
mut("all_supports_full.json", lambda o: (o["contexts"][0].update(next_tokens=[0, 1, 2], probabilities=["1/3", "1/3", "1/3"]),
                                         o["contexts"][1].update(next_tokens=[2, 0, 1], probabilities=[0.5, 0.25, 0.25])))
mut("many_problems.json", lambda o: (o["contexts"][0].update(next_tokens=[7, 1]), o["contexts"][1].update(probabilities=[0.5])))

# .npy files for `train @paper-toy --init` (paper-toy: V = 5, d = 2)
def npy(descr, shape, payload, magic=b"\x93NUMPY"):
    hdr = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape)
    total = len(magic) + 4 + len(hdr) + 1
    hdr += " " * ((64 - total % 64) % 64) + "\n"
    return magic + b"\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode() + payload
def wb(name, b):
    with open(os.path.join(D, name), "wb") as f: f.write(b)
vals = [0.1 * i for i in range(10)]
wb("control_init.npy", npy("<f8", "(5, 2)", struct.pack("<10d", *vals)))
wb("npy_lying_shape.npy", npy("<f8", "(5, 2)", struct.pack("<3d", *vals[:3])))
wb("npy_huge_shape.npy", npy("<f8", "(100000000000, 100000000000)", struct.pack("<3d", *vals[:3])))
wb("npy_wrong_shape.npy", npy("<f8", "(2, 5)", struct.pack("<10d", *vals)))
wb("npy_wrong_rank.npy", npy("<f8", "(10,)", struct.pack("<10d", *vals)))
wb("npy_big_endian.npy", npy(">f8", "(5, 2)", struct.pack(">10d", *vals)))
wb("npy_int_dtype.npy", npy("<i8", "(5, 2)", struct.pack("<10q", *range(10))))
wb("npy_nan.npy", npy("<f8", "(5, 2)", struct.pack("<10d", *(vals[:3] + [float("nan")] + vals[4:]))))
wb("npy_bad_magic.npy", npy("<f8", "(5, 2)", struct.pack("<10d", *vals), magic=b"\x93NUMPZ"))
wb("npy_not_npy.npy", b"this is not a numpy file\n")
wb("npy_empty.npy", b"")
wb("npy_truncated_header.npy", npy("<f8", "(5, 2)", b"")[:20])

# Certificate files for `ntpcheck certify` (issue 3): each one fault away from a valid shape.
cert_head = {"format": "ntp-certificate", "version": 1,
             "instance": {"fingerprint": "0000000000000000", "V": 5, "d": 2, "m": 3}}
w("cert_malformed.json", "{\"format\": \"ntp-certificate\", \n")
w("cert_wrong_format.json", dict(cert_head, format="ntp-instance"))
w("cert_version_2.json", dict(cert_head, version=2))
w("cert_wrong_instance.json", cert_head)
w("cert_bad_value.json", dict(cert_head, w_mm={"inequality_multipliers": [
    {"context": 0, "z": 0, "v": 2, "value": "1/0"}], "equality_multipliers": []}))
w("cert_missing_rows.json", dict(cert_head, w_star={"y": [], "precision_bits": 64, "radius": 0}))
w("cert_negative_radius.json", dict(cert_head, w_star={"rows": [], "y": [], "precision_bits": 64,
                                                       "radius": -1}))

# .npz trajectories for `ntpcheck verify @paper-toy --trajectory` (W is (K, 5, 2)).
import zipfile
def npz(name, arrays, lie_size=None):
    path = os.path.join(D, name)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for k, b in arrays:
            zi = zipfile.ZipInfo(k + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            z.writestr(zi, b)
    if lie_size is not None:  # declare a huge uncompressed size in both headers (a zip bomb)
        b = bytearray(open(path, "rb").read())
        i = b.find(b"PK\x03\x04"); b[i + 22:i + 26] = struct.pack("<I", lie_size)
        i = b.find(b"PK\x01\x02"); b[i + 24:i + 28] = struct.pack("<I", lie_size)
        open(path, "wb").write(bytes(b))
steps2 = npy("<i8", "(2,)", struct.pack("<2q", 0, 1))
W2 = npy("<f8", "(2, 5, 2)", struct.pack("<20d", *([0.0] * 20)))
npz("traj_missing_step.npz", [("W", W2)])
npz("traj_missing_W.npz", [("step", steps2)])
npz("traj_decreasing.npz", [("step", npy("<i8", "(2,)", struct.pack("<2q", 3, 1))), ("W", W2)])
npz("traj_negative_step.npz", [("step", npy("<i8", "(2,)", struct.pack("<2q", -1, 1))), ("W", W2)])
npz("traj_float_step.npz", [("step", npy("<f8", "(2,)", struct.pack("<2d", 0, 1))), ("W", W2)])
npz("traj_int_W.npz", [("step", steps2), ("W", npy("<i8", "(2, 5, 2)", struct.pack("<20q", *([0] * 20))))])
npz("traj_wrong_shape.npz", [("step", steps2), ("W", npy("<f8", "(2, 2, 5)", struct.pack("<20d", *([0.0] * 20))))])
npz("traj_short_W.npz", [("step", npy("<i8", "(3,)", struct.pack("<3q", 0, 1, 2))), ("W", W2)])
npz("traj_loss_shape.npz", [("step", steps2), ("W", W2), ("loss", npy("<f8", "(3,)", struct.pack("<3d", 1, 1, 1)))])
npz("traj_zip_bomb.npz", [("step", steps2), ("W", W2)], lie_size=0xFFFFFF00)
wb("traj_not_zip.npz", b"PK\x03\x04 this is not a zip archive\n")
# A valid trajectory whose last step is 10^8: the replay needs --max-seconds (partial, exit 2).
npz("traj_far_step.npz", [("step", npy("<i8", "(2,)", struct.pack("<2q", 0, 100000000))), ("W", W2)])

# --- sweep specs (issue 11)
w("sweep_bad_step.json", {"task": "conditions", "grid": {"family": "one-hot", "V": 2, "m": 4,
  "d": {"from": 1, "to": 3, "step": 0}, "seeds": 1}})
w("sweep_overlap.json", {"task": "conditions", "grid": {"family": "gaussian", "V": 4, "m": 4,
  "d": 2, "support": 2, "overlap": 0.5, "seeds": 1}})
w("sweep_bad_support.json", {"task": "conditions", "grid": {"family": "gaussian", "V": 3, "m": 4,
  "d": 2, "support": 3, "seeds": 1}})
w("sweep_bad_task.json", {"task": {"name": "check", "claims": ["no_such_claim"]},
  "grid": {"family": "one-hot", "V": 2, "m": 4, "d": 2, "seeds": 1}})

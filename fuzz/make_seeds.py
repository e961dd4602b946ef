#!/usr/bin/env python3
"""Writes the seeds of fuzz_npz_trajectory (fuzz/corpus/npz_trajectory/): lists of
[tag][length, 2 bytes little-endian][.npy bytes] records (tag bits 0-1: step / W / loss / ce; bit 2:
deflate), as fuzz_npz_trajectory.cpp reads them. Standard library only; deterministic."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "npz_trajectory")
STEP, W, LOSS, CE, DEFLATE = 0, 1, 2, 3, 4


def npy(descr, shape, values, fortran=False):
    """Version 1.0 .npy bytes, header padded to 64 bytes as NumPy writes it."""
    shape_text = "(" + "".join(f"{n}, " for n in shape).rstrip(" ")
    shape_text = shape_text.rstrip(",") + ("," if len(shape) == 1 else "") + ")"
    header = f"{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape_text}, }}"
    pad = 64 - (10 + len(header) + 1) % 64
    header = header + " " * (pad % 64) + "\n"
    fmt = {"<f8": "d", "<f4": "f", "<i8": "q", "<i4": "i", "|u1": "B", "|b1": "B"}[descr]
    data = b"".join(struct.pack("<" + fmt, v) for v in values)
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + data


def record(tag, data):
    return bytes([tag]) + struct.pack("<H", len(data)) + data


def seed(name, *records):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(b"".join(records))


def main():
    os.makedirs(OUT, exist_ok=True)
    # A valid trajectory for (V, d) = (5, 2): K = 3 steps 0, 1, 10.
    steps = npy("<i8", [3], [0, 1, 10])
    w = npy("<f8", [3, 5, 2], [0.125 * i for i in range(30)])
    loss = npy("<f8", [3], [1.6, 1.5, 1.2])
    seed("valid_5x2.bin", record(STEP, steps), record(W, w))
    seed("valid_5x2_loss.bin", record(STEP, steps), record(W, w), record(LOSS, loss))
    seed("valid_5x2_deflate_ce.bin", record(STEP | DEFLATE, steps), record(W | DEFLATE, w),
         record(CE | DEFLATE, loss))
    # float32 W, int32 steps, Fortran order, for (V, d) = (2, 1) and (3, 4).
    seed("valid_2x1_f4.bin", record(STEP, npy("<i4", [2], [0, 5])),
         record(W, npy("<f4", [2, 2, 1], [0.5, -0.5, 1.0, -1.0])))
    seed("valid_3x4_fortran.bin", record(STEP, npy("<i8", [1], [0])),
         record(W, npy("<f8", [1, 3, 4], [float(i) for i in range(12)], fortran=True)))
    # One fault each: decreasing steps, bool steps, W of another shape, loss of another length.
    seed("decreasing.bin", record(STEP, npy("<i8", [3], [0, 10, 1])), record(W, w))
    seed("bool_step.bin", record(STEP, npy("|b1", [2], [0, 1])),
         record(W, npy("<f8", [2, 5, 2], [0.0] * 20)))
    seed("w_shape.bin", record(STEP, steps), record(W, npy("<f8", [3, 2, 5], [0.0] * 30)))
    seed("loss_length.bin", record(STEP, steps), record(W, w),
         record(LOSS, npy("<f8", [2], [1.0, 2.0])))
    seed("missing_w.bin", record(STEP, steps))


if __name__ == "__main__":
    main()

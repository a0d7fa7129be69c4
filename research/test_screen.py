#!/usr/bin/python3
"""test_screen.py — research/screen.py end to end on a small model and made-up data.

Generated idx files stand in for the test sets, the fixture model for a
trained one, tests/tool_lmd scores through the CPU backend. The printed AUROC
must equal a brute-force pair count over the written scores CSV, the CSV must
name the drawn items as lmdd eval does, a second run must repeat every score,
and a bad idx file is an error that names it.
"""
import gzip
import os
import re
import struct
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOL = os.path.join(ROOT, "research", "screen.py")
LMD = os.path.join(ROOT, os.environ.get("B", "build"), "tests", "tool_lmd")
MODEL = os.path.join(ROOT, "tests", "fixtures", "daemon-gray.safetensors")


def write_idx(path, imgs):
    with gzip.open(path, "wb") as f:
        f.write(b"\0\0\x08\x03" + struct.pack(">III", *imgs.shape) + imgs.astype(np.uint8).tobytes())


def run(tmp_path, *args):
    return subprocess.run([sys.executable, TOOL, "--suite", "fmnist-mnist", "--per-side", "5",
                           "--chunk", "4", "--tool", LMD, "--fmnist", str(tmp_path / "f.gz"),
                           "--mnist", str(tmp_path / "m.gz"), *args, MODEL],
                          capture_output=True, text=True)


def test_scores_and_auroc(tmp_path):
    rng = np.random.default_rng(3)
    write_idx(tmp_path / "f.gz", rng.integers(0, 60, (9, 28, 28)))
    write_idx(tmp_path / "m.gz", rng.integers(0, 256, (8, 28, 28)))
    r = run(tmp_path, "--scores", str(tmp_path / "s.csv"))
    assert r.returncode == 0, r.stderr
    rows = [ln.split(",") for ln in (tmp_path / "s.csv").read_text().splitlines()]
    assert rows[0] == ["model", "set", "item", "label", "score"] and len(rows) == 11
    body = rows[1:]
    assert [b[1] for b in body] == ["fashion-mnist-test"] * 5 + ["mnist-test"] * 5
    assert [b[3] for b in body] == ["0"] * 5 + ["1"] * 5
    fi, mi = [int(b[2]) for b in body[:5]], [int(b[2]) for b in body[5:]]
    assert fi == sorted(set(fi)) and 0 <= fi[0] and fi[-1] < 9
    assert mi == sorted(set(mi)) and 0 <= mi[0] and mi[-1] < 8
    s = np.array([float(b[4]) for b in body])
    assert np.isfinite(s).all() and (s > 0).all()
    naive = np.mean([[1.0 if p > n else 0.5 if p == n else 0.0 for n in s[:5]] for p in s[5:]])
    m = re.search(r"AUROC ([\d.]+)", r.stdout)
    assert m and abs(float(m.group(1)) - naive) < 6e-5, (r.stdout, naive)
    r2 = run(tmp_path, "--scores", str(tmp_path / "s2.csv"))
    assert r2.returncode == 0 and (tmp_path / "s2.csv").read_text() == (tmp_path / "s.csv").read_text()


def test_bad_idx_names_the_file(tmp_path):
    write_idx(tmp_path / "f.gz", np.zeros((4, 28, 28)))
    with gzip.open(tmp_path / "m.gz", "wb") as f:
        f.write(b"\0\0\x08\x01" + bytes(12))
    r = run(tmp_path)
    assert r.returncode != 0 and "m.gz: not an idx3-ubyte image file" in r.stderr

#!/usr/bin/python3
"""test_eval_classes.py — research/eval_classes.py against a naive recomputation.

Generated label files and a scores CSV in lmdd eval's format: the per-class
AUROC lines must equal a brute-force pair count (ties 1/2), and a scores
file naming an unknown set or a bad label file is an error that names it.
"""
import gzip
import os
import re
import struct
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOL = os.path.join(ROOT, "research", "eval_classes.py")
sys.path.insert(0, os.path.join(ROOT, "research"))
from eval_classes import DIGITS, FMNIST  # noqa: E402  (class names as the tool prints them)


def naive(neg, pos):
    return np.mean([[1.0 if p > n else 0.5 if p == n else 0.0 for n in neg] for p in pos])


def write_labels(path, lab):
    with gzip.open(path, "wb") as f:
        f.write(b"\0\0\x08\x01" + struct.pack(">I", len(lab)) + lab.astype(np.uint8).tobytes())


def run(*args):
    return subprocess.run([sys.executable, TOOL, *args], capture_output=True, text=True)


def test_per_class_auroc(tmp_path):
    rng = np.random.default_rng(1)
    fl, ml = rng.integers(0, 10, 40), rng.integers(0, 10, 30)
    (tmp_path / "f").mkdir(), (tmp_path / "m").mkdir()
    write_labels(tmp_path / "f" / "t10k-labels-idx1-ubyte.gz", fl)
    write_labels(tmp_path / "m" / "t10k-labels-idx1-ubyte.gz", ml)
    si = np.round(rng.random(40), 2)          # rounded: ties occur
    so = np.round(rng.random(30) + 0.3, 2)
    with open(tmp_path / "scores-fmnist-mnist.csv", "w") as f:
        f.write("set,item,label,score\n")
        f.writelines(f"fashion-mnist-test,{i},0,{s}\n" for i, s in enumerate(si))
        f.writelines(f"mnist-test,{i},1,{s}\n" for i, s in enumerate(so))
    r = run(str(tmp_path), "--fmnist-data", str(tmp_path / "f"), "--mnist-data", str(tmp_path / "m"))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert f"AUROC {naive(si, so):.4f}" in lines[0]
    want = {}
    for c in range(10):
        if (fl == c).any():
            want[("in", c)] = naive(si[fl == c], so)
        if (ml == c).any():
            want[("out", c)] = naive(si, so[ml == c])
    side, got = None, {}
    for ln in lines[1:]:
        if ln.startswith("  in ") or ln.startswith("  out "):
            side = ln.split()[0]
            continue
        m = re.fullmatch(r"\s{4}\s*(.+?)\s+(\d+)\s+([\d.]+)\s+([\d.]+)", ln)
        assert m, ln
        names = FMNIST if side == "in" else DIGITS
        got[(side, names.index(m.group(1)))] = float(m.group(3))
    assert set(got) == set(want)
    for k, v in want.items():
        assert abs(got[k] - v) < 6e-5, (k, got[k], v)


def test_errors_name_the_file(tmp_path):
    (tmp_path / "scores-mnist-fmnist.csv").write_text("set,item,label,score\nsvhn-test,0,0,0.1\n")
    r = run(str(tmp_path))
    assert r.returncode != 0 and "unknown set 'svhn-test'" in r.stderr
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "t10k-labels-idx1-ubyte").write_bytes(b"\0\0\x08\x03" + bytes(8))
    (tmp_path / "scores-mnist-fmnist.csv").write_text("set,item,label,score\nmnist-test,0,0,0.1\n")
    r = run(str(tmp_path), "--mnist-data", str(tmp_path / "m"))
    assert r.returncode != 0 and "not an idx label file" in r.stderr and "t10k-labels" in r.stderr
    write_labels(tmp_path / "m" / "t10k-labels-idx1-ubyte.gz", np.zeros(3, np.uint8))
    (tmp_path / "scores-mnist-fmnist.csv").write_text("set,item,label,score\nmnist-test,7,0,0.1\n")
    r = run(str(tmp_path), "--mnist-data", str(tmp_path / "m"))
    assert r.returncode != 0 and "item 7 past the 3 labels" in r.stderr
    r = run(str(tmp_path / "nothing-here"))
    assert r.returncode != 0 and "no scores-" in r.stderr

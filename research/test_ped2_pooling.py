"""test_ped2_pooling.py — research/ped2_pooling.py: its pooling variants against
brute force, and the whole tool on a two-clip stand-in for Ped2 through
`lmdd score --every --maps` with the small gray fixture model."""
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "research"))
import ped2_pooling as pp  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "tests"))
import ped2_standin  # noqa: E402

LMDD = os.path.join(ROOT, os.environ.get("B", "build"), "lmdd")
FIX = os.path.join(ROOT, "tests/fixtures/daemon-gray.safetensors")


def test_variants_against_brute_force():
    rng = np.random.default_rng(3)
    test, train = rng.random((4, 12, 20)), rng.random((5, 12, 20))
    brute = [max(m[y:y + 9, x:x + 9].mean() for y in range(4) for x in range(12)) for m in test]
    assert np.allclose(pp.box_mean_max(test, 9), brute)
    mu = train.mean(0) + 0.1 * train.mean()
    v = pp.variants(test, train)
    assert np.allclose(v["mean"], test.mean((1, 2)))
    assert np.allclose(v["mean/mu"], [(m / mu).mean() for m in test])
    assert np.allclose(v["max:9/mu"], pp.box_mean_max(test / mu, 9))
    # a spot where training frames are always rebuilt badly weighs less after
    # dividing by mu: the frame with the spot elsewhere wins
    train = np.full((3, 12, 20), 0.01)
    train[:, 0:3, 0:3] = 1.0
    a, b = np.full((12, 20), 0.01), np.full((12, 20), 0.01)
    a[0:3, 0:3], b[8:11, 15:18] = 1.0, 1.0
    v = pp.variants(np.stack([a, b]), train)
    assert np.isclose(v["mean"][0], v["mean"][1]) and v["mean/mu"][1] > 3 * v["mean/mu"][0]


def test_moving_area():
    prev = np.zeros((10, 10))
    cur = prev.copy()
    cur[0, :4] = 0.06          # moved: more than MOVE
    cur[1, :4] = 0.04          # did not
    cur[2, :2] = -0.5          # moved the other way
    assert pp.MOVE == 0.05 and np.isclose(pp.moving_area(prev, cur), 6 / 100)
    assert pp.moving_area(cur, cur) == 0


def test_residual_fit():
    area = np.array([np.nan, 0.1, 0.2, 0.4])
    mean = np.array([9.0, 1.0 + 2 * 0.1, 1.0 + 2 * 0.2, 1.0 + 2 * 0.4])
    a, b = pp.residual_fit(area, mean)
    assert np.isclose(a, 1.0) and np.isclose(b, 2.0), (a, b)


def test_tool_end_to_end():
    with tempfile.TemporaryDirectory() as d:
        ped2_standin.make(d, train=("01",), anomalous=lambda c, k: c == "02" and k >= 3)
        r = subprocess.run([sys.executable, os.path.join(ROOT, "research/ped2_pooling.py"), "--lmdd", LMDD,
                            "--model", FIX, "--data", d, "--every", "3", "--train-every", "2",
                            "--work", os.path.join(d, "w"), "--backend", "cpu", "--steps", "2"],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        out = r.stdout
        # frames 0, 3, 6 of each test clip; 0, 2, 4, 6 of the training clip
        assert "test frames scored: 6 (4 normal, 2 anomalous), 2 clips, every 3" in out, out
        assert "training frames for mu: 4, every 2" in out, out
        # the fixture's 8x8 blocks tile its 48x32 frame: the map's mean is the score
        g = re.search(r"largest relative difference (\S+)", out)
        assert g and float(g.group(1)) < 1e-5, out
        for name in ("mean", "max:9", "mean/mu", "max:9/mu"):
            g = re.search(rf"pool {re.escape(name)} +AUROC global (\S+), per-clip min-max (\S+)", out)
            assert g and all(0 <= float(x) <= 1 for x in g.groups()), (name, out)
        assert os.path.getsize(os.path.join(d, "w", "test.f32")) == 6 * 48 * 32 * 4
        # frames 3 and 6 of each clip have a predecessor; 01's two are normal
        assert "motion: 4 frames with a predecessor (2 normal)" in out, out
        assert "motion fit on training frames: mean = " in out, out
        for name in ("moving area", "mean/area", "residual"):
            g = re.search(rf"motion {re.escape(name)} +AUROC global (\S+), per-clip min-max (\S+)", out)
            assert g and all(0 <= float(x) <= 1 for x in g.groups()), (name, out)
        # --reuse reads the maps and frame lists back, runs no engine, prints the same
        again = subprocess.run([sys.executable, os.path.join(ROOT, "research/ped2_pooling.py"), "--lmdd", LMDD,
                                "--model", FIX, "--data", d, "--every", "3", "--train-every", "2",
                                "--work", os.path.join(d, "w"), "--reuse"], capture_output=True, text=True)
        assert again.returncode == 0 and again.stdout == out, again.stderr
        assert "reusing" in again.stderr and "+ " not in again.stderr, again.stderr
        os.remove(os.path.join(d, "w", "train.csv"))
        again = subprocess.run([sys.executable, os.path.join(ROOT, "research/ped2_pooling.py"), "--lmdd", LMDD,
                                "--model", FIX, "--data", d, "--work", os.path.join(d, "w"), "--reuse"],
                               capture_output=True, text=True)
        assert again.returncode != 0 and "train.csv: No such file" in again.stderr, again.stderr
        # a label missing for a scored frame is named
        rows = open(os.path.join(d, "test-labels.csv")).read().splitlines()
        open(os.path.join(d, "test-labels.csv"), "w").write("\n".join(r for r in rows if r != "02,6,1") + "\n")
        r = subprocess.run([sys.executable, os.path.join(ROOT, "research/ped2_pooling.py"), "--lmdd", LMDD,
                            "--model", FIX, "--data", d, "--every", "3", "--train-every", "2",
                            "--work", os.path.join(d, "w"), "--backend", "cpu", "--steps", "2"],
                           capture_output=True, text=True)
        assert r.returncode != 0 and "clip 02 frame 6: no label" in r.stderr, r.stderr

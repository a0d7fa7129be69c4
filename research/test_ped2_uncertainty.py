"""test_ped2_uncertainty.py — research/ped2_uncertainty.py: its frame scores
against brute force, and the whole tool on a two-clip stand-in for Ped2
through tests/tool_lmd with a small random two-previous-frame model."""
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "research"))
sys.path.insert(0, os.path.join(ROOT, "tests"))
import make_model  # noqa: E402
import ped2_standin  # noqa: E402
import ped2_uncertainty as pu  # noqa: E402

TOOL = os.path.join(ROOT, os.environ.get("B", "build"), "tests", "tool_lmd")


def test_scores_against_brute_force():
    rng = np.random.default_rng(5)
    frames = rng.random((3, 6, 8)).astype(np.float32)
    rebuilds = np.repeat(frames[None], 3, 0)
    mask = np.zeros((3, 6, 8), bool)
    mask[:, :3, :4] = mask[:, 3:, 4:] = True     # 2x2 blocks of a 6x8 frame, by + bx even
    assert (pu.board(6, 8, blocks=2) == mask[0]).all()
    assert (pu.board(6, 8, blocks=2, rep=1) == ~mask[0]).all()
    # the engine's 8x8 board of Ped2's 180x120: blocks of 22-23 x 15 pixels, half inpainted
    b = pu.board(120, 180)
    assert b[0, 22] and not b[0, 23] and not b[15, 0] and b[15, 23] and b[14, 0] and b.mean() == 0.5
    mask = np.broadcast_to(pu.board(6, 8), (3, 6, 8))
    rebuilds[:, mask] = rng.random((3, mask.sum())).astype(np.float32)
    assert (pu.masked(rebuilds, frames) == mask).all()
    # the engine hands known pixels back within 1e-6, not bit-equal: accepted
    pu.masked(rebuilds + np.where(mask, 0, 1e-6).astype(np.float32), frames)
    # a known pixel that moved means the board is not the engine's: an error
    bad = rebuilds.copy()
    bad[1, 2][~mask[2]] += 0.01
    try:
        pu.masked(bad, frames)
        raise AssertionError("no error for a changed known pixel")
    except ValueError as e:
        assert "a known pixel changed by 0.01" in str(e), e
    s = pu.frame_scores(rebuilds, frames)
    v = np.mean([rebuilds[:, i][:, mask[i]].var(0, ddof=1) for i in range(3)])
    for i in range(3):
        x, r = frames[i][mask[i]], rebuilds[:, i][:, mask[i]]
        m, var = r.mean(0), r.var(0, ddof=1)
        assert np.isclose(s["err seed 0"][i], ((x - r[0]) ** 2).mean())
        assert np.isclose(s["err, mean of 3"][i], ((x - r) ** 2).mean())
        assert np.isclose(s["err to mean"][i], ((x - m) ** 2).mean())
        assert np.isclose(s["spread"][i], var.mean())
        assert np.isclose(s["err / spread"][i], ((x - r) ** 2).mean() / var.mean())
        for e in pu.EPS:
            assert np.isclose(s[f"z, eps {e:g}"][i], ((x - m) ** 2 / (var + e * v)).mean())
    # the same error counts more where the rebuilds agree: a frame rebuilt
    # three times the same wrong way outranks one rebuilt three different ways
    x = np.zeros((2, 1, 4), np.float32)
    r = np.stack([np.full((2, 1, 4), 0.5, np.float32)] * 3)
    r[:, 1, 0, :] = [[0.2] * 4, [0.5] * 4, [0.8] * 4]
    r[:, 0, 0, :] += np.array([-1e-3, 0, 1e-3], np.float32)[:, None]
    s = pu.frame_scores(r, x)
    assert s["z, eps 0.01"][0] > 10 * s["z, eps 0.01"][1], s


def test_tool_end_to_end():
    with tempfile.TemporaryDirectory() as d:
        model = os.path.join(d, "m.safetensors")
        make_model.make(model, cond=2, base=8, mult=(1, 2), attn=(), frame=(32, 48))
        ped2_standin.make(d, seconds=0.8, anomalous=lambda c, k: c == "02" and k >= 4)
        cmd = [sys.executable, os.path.join(ROOT, "research/ped2_uncertainty.py"), "--tool", TOOL,
               "--model", model, "--data", d, "--every", "2", "--samples", "2", "--steps", "2",
               "--work", os.path.join(d, "w")]
        r = subprocess.run(cmd, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        out = r.stdout
        # frames 2, 4, 6 of each clip: the first two have no full history
        assert "test frames scored: 6 (4 normal, 2 anomalous), 2 clips, every 2; 2 rebuilds each, 2 steps, first checkerboard" in out, out
        for name in ("err seed 0", "err, mean of 2", "err to mean", "spread", "err / spread",
                     "z, eps 0.01", "z, eps 0.1", "z, eps 1"):
            g = re.search(rf"score {re.escape(name)} +AUROC global (\S+) \[(\S+), (\S+)\], per-clip min-max (\S+)", out)
            assert g and all(0 <= float(x.rstrip(",")) <= 1 for x in g.groups()), (name, out)
        assert os.path.getsize(os.path.join(d, "w", "rebuilds.f32")) == 2 * 6 * 32 * 48 * 4
        # --reuse runs no engine and prints the same
        again = subprocess.run(cmd + ["--reuse"], capture_output=True, text=True)
        assert again.returncode == 0 and again.stdout == out, again.stderr
        assert "reusing" in again.stderr and "seed" not in again.stderr, again.stderr
        # a work folder with a file missing, or written for another model, is named
        os.rename(os.path.join(d, "w", "frames.f32"), os.path.join(d, "w", "f"))
        r = subprocess.run(cmd + ["--reuse"], capture_output=True, text=True)
        assert r.returncode != 0 and "--reuse" in r.stderr and "frames.f32" in r.stderr, r.stderr
        os.rename(os.path.join(d, "w", "f"), os.path.join(d, "w", "frames.f32"))
        with open(os.path.join(d, "w", "frames.f32"), "ab") as f:
            f.write(b"\0" * 4 * 48 * 32)
        r = subprocess.run(cmd + ["--reuse"], capture_output=True, text=True)
        assert r.returncode != 0 and "6 frames listed, but frames.f32 holds 7 and rebuilds.f32 12 of 48x32" in r.stderr, r.stderr
        with open(os.path.join(d, "w", "frames.f32"), "r+b") as f:
            f.truncate(6 * 4 * 48 * 32)
        # a label missing for a scored frame is named
        rows = open(os.path.join(d, "test-labels.csv")).read().splitlines()
        open(os.path.join(d, "test-labels.csv"), "w").write("\n".join(r for r in rows if r != "02,6,1") + "\n")
        r = subprocess.run(cmd + ["--reuse"], capture_output=True, text=True)
        assert r.returncode != 0 and "clip 02 frame 6: no label" in r.stderr, r.stderr

#!/usr/bin/python3
"""ped2_uncertainty.py — does dividing LMD's rebuild error by the spread of
several rebuilds rank Ped2's frames better? A study tool for
docs/evaluation.md.

Why: the Ped2 model's map counts moving pixels (docs/evaluation.md, "What the
map measures"): a walker's legs are rebuilt as badly, pixel for pixel, as a
bicycle. If the model is *unsure* where it has seen such motion before (its
rebuilds disagree with each other) and *sure but wrong* on what it has not,
the error in units of that spread, a z-score, would single out the anomaly.
This tool measures it before any of it goes into the engine.

Each scored test frame (every EVERY-th frame of each clip that has its full
history of cond_frames previous frames: the decoded frames just before it,
Ped2's 10 fps being the shipped model's training spacing) is
rebuilt S times with the same first checkerboard (the engine's 8x8 blocks,
one attempt) and S noise seeds, through the C engine (tests/tool_lmd score,
DDIM STEPS steps from pure noise). Over the masked pixels (the board's half;
a known pixel changed by more than TOL is an error), the frame scores are
fixed here in advance:

  err seed 0         mean squared error of the first rebuild alone
  err, mean of S     the squared error averaged over the S rebuilds
  err to mean        the squared error of the rebuilds' pixel mean
  spread             the rebuilds' per-pixel variance (ddof 1)
  err / spread       the frame's mean error over its mean variance
  z, eps E           mean of (x - mean)^2 / (variance + E * v), with v the
                     variance averaged over every scored frame's masked
                     pixels (no labels), for E = 0.01, 0.1, 1

AUROC on one global scale (the headline protocol) with a 95% interval from
1000 resamples of whole clips, and per-clip min-max. The rebuilds stay in
--work (rebuilds.f32, frames.f32, frames.csv); --reuse reads them back.

Usage: /usr/bin/python3 research/ped2_uncertainty.py [--data DIR]
       [--model models/ucsd-ped2/model.safetensors] [--tool build/tests/tool_lmd]
       [--every 9] [--samples 4] [--steps 10] [--work DIR] [--reuse]
Needs numpy and ffmpeg; 225 frames x 4 seeds x 10 NFE took 10-13 min on the
2-core development machine.
"""
import argparse
import csv
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "train"))
import export  # noqa: E402
from ped2_framediff import decode, read_labels, report  # noqa: E402

EPS = (0.01, 0.1, 1.0)
CHUNK = 16      # frames per tool_lmd call
TOL = 1e-5      # a pixel changed by more than this was inpainted


def board(h, w, blocks=8, rep=0):
    """[h, w] bool, True where attempt rep inpaints: the engine's checkerboard
    (compute/sampler.c, lmd_sampler_mask: block (y*B/h, x*B/w), inpainted
    where by + bx + rep is even)."""
    by = np.arange(h)[:, None] * blocks // h
    bx = np.arange(w)[None, :] * blocks // w
    return (by + bx + rep) % 2 == 0


def masked(rebuilds, frames):
    """[h, w] bool: the first board (every frame's), after checking that
    no rebuild changed a known pixel by more than TOL (the engine copies them
    back through its [-1, 1] scale, so within 1e-6, not bit-equal)."""
    m = board(*frames.shape[1:])
    moved = np.abs(rebuilds - frames[None]).max(0)[:, ~m]
    if moved.size and moved.max() > TOL:
        raise ValueError(f"a known pixel changed by {moved.max():.3g}: the rebuilds do not use the first "
                         "8x8 checkerboard")
    return m


def frame_scores(rebuilds, frames):
    """{name: [n] scores} from rebuilds [S, n, h, w] of frames [n, h, w]."""
    m = masked(rebuilds, frames)
    mean = rebuilds.mean(0)
    var = rebuilds.var(0, ddof=1)

    def pool(a):
        return a[:, m].mean(1)
    out = {
        "err seed 0": pool((frames - rebuilds[0]) ** 2),
        f"err, mean of {len(rebuilds)}": pool(((frames[None] - rebuilds) ** 2).mean(0)),
        "err to mean": pool((frames - mean) ** 2),
        "spread": pool(var),
    }
    out["err / spread"] = out[f"err, mean of {len(rebuilds)}"] / out["spread"]
    v = var[:, m].mean()
    for e in EPS:
        out[f"z, eps {e:g}"] = pool((frames - mean) ** 2 / (var + e * v))
    return out


def rebuild(tool, model, frames, cond, samples, steps, work):
    """[samples, n, h, w] first-attempt rebuilds, seeds 0..samples-1."""
    n, h, w = frames.shape
    out = np.empty((samples, n, h, w), np.float32)
    fi, fc, fs, fr = (os.path.join(work, x) for x in ("in.f32", "cond.f32", "s.f32", "r.f32"))
    for k in range(samples):
        for b in range(0, n, CHUNK):
            frames[b:b + CHUNK].tofile(fi)
            if cond is not None:
                cond[b:b + CHUNK].tofile(fc)
            r = subprocess.run([tool, "score", model, "cpu", fi, str(len(frames[b:b + CHUNK])), str(h), str(w),
                                str(steps), "1", "999", str(k), "0", "0", "0",
                                fc if cond is not None else "-", fs, fr], capture_output=True, text=True)
            if r.returncode:
                sys.exit(f"ped2_uncertainty: {model}: tool_lmd failed: {r.stderr.strip()}")
            out[k, b:b + CHUNK] = np.fromfile(fr, np.float32).reshape(-1, h, w)
            print(f"\r  seed {k + 1}/{samples}, frames {min(b + CHUNK, n)}/{n}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=os.path.join(HERE, "../../shared/data/ucsd-ped2"))
    ap.add_argument("--model", default=os.path.join(HERE, "../models/ucsd-ped2/model.safetensors"))
    ap.add_argument("--tool", default=os.path.join(HERE, "../build/tests/tool_lmd"))
    ap.add_argument("--every", type=int, default=9)
    ap.add_argument("--samples", type=int, default=4)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--work", default="/tmp/ped2-uncertainty")
    ap.add_argument("--reuse", action="store_true")
    a = ap.parse_args()
    if a.samples < 2 or a.every < 1:
        sys.exit("ped2_uncertainty: --samples must be at least 2 and --every at least 1")
    if not a.reuse and not os.access(a.tool, os.X_OK):
        sys.exit(f"ped2_uncertainty: {a.tool}: no such program (`make` builds it)")
    _, meta = export.load_safetensors(a.model)
    if int(meta["in_channels"]) != 1:
        sys.exit(f"ped2_uncertainty: {a.model}: a gray (1-channel) model is needed")
    nc, h, w = int(meta.get("cond_frames", 0)), int(meta["frame_height"]), int(meta["frame_width"])
    os.makedirs(a.work, exist_ok=True)
    fr, fl, fx = (os.path.join(a.work, x) for x in ("rebuilds.f32", "frames.csv", "frames.f32"))
    labels = read_labels(a.data)
    if a.reuse:
        print(f"ped2_uncertainty: reusing {a.work}", file=sys.stderr)
        try:
            with open(fl) as f:
                keys = [(int(c), int(i)) for c, i in csv.reader(f)]
            frames = np.fromfile(fx, np.float32)
            rebuilds = np.fromfile(fr, np.float32)
        except (OSError, ValueError) as e:
            sys.exit(f"ped2_uncertainty: --reuse {a.work}: {e}")
        n = len(keys)
        if n == 0 or frames.size != n * h * w or rebuilds.size % (n * h * w) or rebuilds.size < 2 * n * h * w:
            sys.exit(f"ped2_uncertainty: --reuse {a.work}: {n} frames listed, but frames.f32 holds "
                     f"{frames.size / (h * w):g} and rebuilds.f32 {rebuilds.size / (h * w):g} of {w}x{h} "
                     "(written for another model or run?)")
        frames = frames.reshape(n, h, w)
        rebuilds = rebuilds.reshape(-1, n, h, w)
    else:
        clips = sorted(os.path.splitext(n)[0] for n in os.listdir(os.path.join(a.data, "test")) if n.endswith(".mkv"))
        keys, frames, cond = [], [], []
        for c in clips:
            f = decode(os.path.join(a.data, "test", c + ".mkv"), w, h).astype(np.float32)
            for i in range(nc, len(f), a.every):
                keys.append((int(c), i))
                frames.append(f[i])
                cond.append(f[i - nc:i])   # oldest first, as the engine takes them
        frames = np.stack(frames)
        cond = np.stack(cond) if nc else None
        rebuilds = rebuild(a.tool, a.model, frames, cond, a.samples, a.steps, a.work)
        rebuilds.tofile(fr)
        frames.tofile(fx)
        with open(fl, "w") as f:
            csv.writer(f).writerows(keys)
    for k in keys:
        if k not in labels:
            sys.exit(f"ped2_uncertainty: clip {k[0]:02d} frame {k[1]}: no label in test-labels.csv")
    y = np.array([labels[k] for k in keys])
    clip = np.array([k[0] for k in keys])
    print(f"test frames scored: {len(y)} ({(y == 0).sum()} normal, {y.sum()} anomalous), "
          f"{len(np.unique(clip))} clips, every {a.every}; {len(rebuilds)} rebuilds each, "
          f"{a.steps} steps, first checkerboard")
    try:
        s = frame_scores(rebuilds, frames)
    except ValueError as e:
        sys.exit(f"ped2_uncertainty: {a.work}: {e}")
    for name, v in s.items():
        print(f"score {name:16s} {report(y, v, clip)}")
    n0 = y == 0
    if n0.sum() > 2:
        r = np.corrcoef(s[f"err, mean of {len(rebuilds)}"][n0], s["spread"][n0])[0, 1]
        print(f"normal frames: correlation of error and spread {r:.3f}")


if __name__ == "__main__":
    main()

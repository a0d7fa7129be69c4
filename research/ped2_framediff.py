#!/usr/bin/python3
"""ped2_framediff.py — a trivial baseline for the Ped2 results: score each
test frame by how much it differs from the previous frame, with no model.

Why: Ped2's anomalies (bikes, carts, skaters) move faster than the walkers,
so raw motion energy already separates many anomalous frames. A learned
detector that scores below this baseline is not using what the frames hold;
docs/evaluation.md quotes both. Frames are decoded with ffmpeg at the Ped2
model's 180x120 grayscale, exactly as `lmdd eval` reads them, and compared
with the previous decoded frame of the same clip (the first frame of a clip
has no predecessor and is not scored). Two scores per frame: the mean of the
squared difference, and the maximum of its KxK box average (K = 9, as
`--pool max:9`). AUROC uses one global scale over all clips (the headline
protocol) and, for comparison, per-clip min-max normalised scores.

Usage: /usr/bin/python3 research/ped2_framediff.py [--data DIR] [--stride K]
Needs numpy and ffmpeg; prints one line per score. The other ped2_*.py study
tools import its helpers: decoding, AUROC, per-clip min-max, the labels, and
the 95% interval over resamples of whole clips.
"""
import argparse
import csv
import os
import subprocess
import sys

import numpy as np

W, H, K = 180, 120, 9


def decode(path, w=W, h=H):
    """the clip's frames as [n, h, w] gray in [0, 1], scaled by ffmpeg."""
    r = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-vf", f"scale={w}:{h}",
                        "-f", "rawvideo", "-pix_fmt", "gray", "-"], capture_output=True)
    if r.returncode != 0:
        sys.exit(f"ped2_framediff: {path}: ffmpeg failed: {r.stderr.decode(errors='replace').strip()}")
    return np.frombuffer(r.stdout, np.uint8).reshape(-1, h, w).astype(np.float64) / 255.0


def box_max(d, k):
    """max over positions of the mean of a k x k window (valid windows only)."""
    c = np.pad(d, ((1, 0), (1, 0))).cumsum(0).cumsum(1)
    s = c[k:, k:] - c[:-k, k:] - c[k:, :-k] + c[:-k, :-k]
    return s.max() / (k * k)


def auroc(y, s):
    """Mann-Whitney U / (n1 n0), ties counted half."""
    y, s = np.asarray(y), np.asarray(s, np.float64)
    order = s.argsort(kind="mergesort")
    ranks = np.empty(len(s))
    ss = s[order]
    i = 0
    while i < len(s):   # average ranks over ties
        j = i
        while j + 1 < len(s) and ss[j + 1] == ss[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    n1, n0 = (y == 1).sum(), (y == 0).sum()
    return (ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0)


def per_clip_minmax(s, clip):
    """scores min-max normalised within each clip (clip: the clip of each score)."""
    n = s.copy()
    for c in set(clip):
        m = clip == c
        lo, hi = s[m].min(), s[m].max()
        n[m] = (s[m] - lo) / (hi - lo) if hi > lo else 0.0
    return n


def clip_ci(y, s, clip, reps=1000, seed=0):
    """95% interval of the global AUROC over resamples of whole clips (with replacement)."""
    rng = np.random.default_rng(seed)
    rows = {c: np.where(clip == c)[0] for c in np.unique(clip)}
    keys = list(rows)
    v = []
    for _ in range(reps):
        idx = np.concatenate([rows[keys[i]] for i in rng.integers(0, len(keys), len(keys))])
        if 0 < y[idx].sum() < len(idx):
            v.append(auroc(y[idx], s[idx]))
    return np.quantile(v, [0.025, 0.975])


def report(y, s, clip):
    lo, hi = clip_ci(y, s, clip)
    return (f"AUROC global {auroc(y, s):.4f} [{lo:.3f}, {hi:.3f}], "
            f"per-clip min-max {auroc(y, per_clip_minmax(s, clip)):.4f}")


def read_labels(data):
    """test-labels.csv as {(clip, frame): 0/1}; frame k is the k-th decoded frame."""
    with open(os.path.join(data, "test-labels.csv")) as f:
        return {(int(r["clip"]), int(r["frame"])): int(r["anomalous"]) for r in csv.DictReader(f)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "../../shared/data/ucsd-ped2"))
    ap.add_argument("--stride", type=int, default=1, help="score every K-th frame")
    a = ap.parse_args()
    labels = read_labels(a.data)
    clips = sorted({c for c, _ in labels})
    y, mean, peak, clip_of = [], [], [], []
    for c in clips:
        fr = decode(os.path.join(a.data, "test", f"{c:02d}.mkv"))
        for k in range(1, len(fr), a.stride):
            if (c, k) not in labels:
                sys.exit(f"ped2_framediff: clip {c:02d} frame {k}: no label in test-labels.csv")
            d = (fr[k] - fr[k - 1]) ** 2
            y.append(labels[(c, k)])
            mean.append(d.mean())
            peak.append(box_max(d, K))
            clip_of.append(c)
    y, clip_of = np.array(y), np.array(clip_of)
    print(f"frames scored: {len(y)} ({(y == 0).sum()} normal, {(y == 1).sum()} anomalous), "
          f"{len(clips)} clips, stride {a.stride}")
    for name, s in (("mean", mean), (f"max:{K}", peak)):
        s = np.array(s)
        n = per_clip_minmax(s, clip_of)
        print(f"frame difference, pool {name}: AUROC global {auroc(y, s):.4f}, per-clip min-max {auroc(y, n):.4f}")


if __name__ == "__main__":
    main()

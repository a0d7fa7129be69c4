#!/usr/bin/python3
"""ped2_pooling.py — does another way of pooling the distance map into a
frame score rank Ped2's frames better? A study tool for docs/evaluation.md.

Why: Ped2's headline AUROC is held down by clips whose walkers alone score
as high as another clip's bicycle: the mean of the map grows with how many
people walk. Pooling is cheap to change (daemon config `pool`), but every
new variant costs the engine seconds per frame on a CPU, so this tool pays
the engine once — `lmdd score --every N --maps FILE` over the test clips and
over the training clips — and then computes every variant from the saved
maps. The variants are fixed here in advance, not searched on the labels:

  mean         the mean of the map (the engine's default `pool mean`)
  max:9        the maximum of 9x9 box means (`pool max:9`)
  mean/mu      the mean of map / mu, where mu is the per-pixel mean map of
               the training frames plus a tenth of its overall mean: a
               location where normal walkers are rebuilt badly counts less
               (the camera's perspective makes near walkers big)
  max:9/mu     the maximum of 9x9 box means of map / mu

Then a diagnosis of what the map measures: for each scored test frame with a
predecessor, the moving area (the fraction of pixels that changed by more
than MOVE since the previous frame, decoded at the map's size), its
correlation with the map's mean over the normal frames, and the AUROC of the
moving area alone and of the map's mean divided by (moving area + 1e-3): the
rebuild error per moving pixel. If the map only counted motion, the ratio
would be at chance. And the residual: the map's mean minus the straight line
a + b * area fitted (least squares) on the training frames, the error the
model makes beyond what normal frames with that much motion get. Fitted on
training clips only; a candidate for a live score (frame differences are
cheap), if it ranked better.

mu uses training clips only (the frames the model was trained on: Ped2 has
no other normal footage, as for calibration). Frame 0 of a clip is scored
with itself as history, as `lmdd eval` does. AUROC: one global scale (the
headline protocol) and per-clip min-max (papers' protocol).

Usage: /usr/bin/python3 research/ped2_pooling.py [--lmdd build/lmdd]
       [--model models/ucsd-ped2/model.safetensors] [--data DIR]
       [--every 11] [--train-every 15] [--work DIR] [--reuse] [engine options...]
Unknown options go to `lmdd score` (e.g. --backend cpu --steps 10). The maps
and the scored frames stay in --work (test.f32 + test.csv, train.f32 +
train.csv); --reuse reads them from there instead of running the engine.
"""
import argparse
import csv
import os
import re
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ped2_framediff import auroc, box_max, decode, per_clip_minmax  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
MOVE = 0.05     # a pixel moved if it changed by more than 5% of full scale


def box_mean_max(m, k):
    """per frame: max over positions of the mean of a k x k window (valid windows)."""
    return np.array([box_max(f, k) for f in m])


def frame_size(lmdd, model):
    r = subprocess.run([lmdd, "info", "--model", model], capture_output=True, text=True)
    g = re.search(r"frame size:\s+(\d+) x (\d+)", r.stdout)
    if r.returncode != 0 or not g:
        sys.exit(f"ped2_pooling: {model}: lmdd info failed: {r.stderr.strip() or r.stdout.strip()}")
    return int(g.group(2)), int(g.group(1))


def score(lmdd, model, inputs, every, maps, extra, hw, reuse):
    """(rows [(input, frame, score)], maps [n, h, w]) from lmdd score, or with
    reuse from the files an earlier run left (maps and maps' .csv)."""
    rows_csv = os.path.splitext(maps)[0] + ".csv"
    if reuse:
        print(f"reusing {maps} and {rows_csv}", file=sys.stderr, flush=True)
        try:
            with open(rows_csv) as f:
                text = f.read()
        except OSError as e:
            sys.exit(f"ped2_pooling: --reuse: {rows_csv}: {e.strerror}")
    else:
        cmd = [lmdd, "score", "--model", model, "--format", "csv", "--every", str(every),
               "--maps", maps] + extra + inputs
        print("+ " + " ".join(cmd[:-len(inputs)]) + f" ... ({len(inputs)} inputs)", file=sys.stderr, flush=True)
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"ped2_pooling: lmdd score failed ({r.returncode}): {r.stderr.strip()}")
        text = r.stdout
        with open(rows_csv, "w") as f:
            f.write(text)
    rows = [(i, int(f), float(s)) for i, f, s in list(csv.reader(text.splitlines()))[1:]]
    if not os.path.exists(maps):
        sys.exit(f"ped2_pooling: {maps}: no such file")
    m = np.fromfile(maps, np.float32)
    if m.size != len(rows) * hw[0] * hw[1]:
        sys.exit(f"ped2_pooling: {maps}: {m.size} floats for {len(rows)} frames of {hw[1]}x{hw[0]}")
    return rows, m.reshape(len(rows), *hw).astype(np.float64)


def moving_area(prev, cur):
    """the fraction of pixels that changed by more than MOVE."""
    return (np.abs(cur - prev) > MOVE).mean()


def motion(rows, hw):
    """per scored frame: moving_area against the clip's previous decoded frame
    (nan for a clip's first frame, which has none)."""
    clip, out = None, []
    for inp, k, _ in rows:
        if inp != clip:
            clip, fr = inp, decode(inp, hw[1], hw[0])
        if k >= len(fr):
            sys.exit(f"ped2_pooling: {inp}: frame {k} scored, but ffmpeg decodes {len(fr)} frames")
        out.append(np.nan if k == 0 else moving_area(fr[k - 1], fr[k]))
    return np.array(out)


def residual_fit(area, mean):
    """(a, b) of the least-squares line mean ~ a + b * area over the frames
    with an area (not nan)."""
    ok = ~np.isnan(area)
    if ok.sum() < 2:
        sys.exit("ped2_pooling: fewer than two training frames with a predecessor: no fit")
    b, a = np.polyfit(area[ok], mean[ok], 1)
    return a, b


def variants(test, train):
    mu = train.mean(0)
    mu = mu + 0.1 * mu.mean()
    return {"mean": test.mean((1, 2)), "max:9": box_mean_max(test, 9),
            "mean/mu": (test / mu).mean((1, 2)), "max:9/mu": box_mean_max(test / mu, 9)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lmdd", default=os.path.join(HERE, "../build/lmdd"))
    ap.add_argument("--model", default=os.path.join(HERE, "../models/ucsd-ped2/model.safetensors"))
    ap.add_argument("--data", default=os.path.join(HERE, "../../shared/data/ucsd-ped2"))
    ap.add_argument("--every", type=int, default=11, help="score every N-th test frame")
    ap.add_argument("--train-every", type=int, default=15, help="score every N-th training frame")
    ap.add_argument("--work", default="/tmp/lmdd-ped2-pooling", help="folder for the maps")
    ap.add_argument("--reuse", action="store_true", help="read the maps an earlier run left in --work")
    a, extra = ap.parse_known_args()
    labels = {}
    with open(os.path.join(a.data, "test-labels.csv")) as f:
        for r in csv.DictReader(f):
            labels[(r["clip"], int(r["frame"]))] = int(r["anomalous"])
    clips = sorted({c for c, _ in labels})
    tests = [os.path.join(a.data, "test", c + ".mkv") for c in clips]
    trains = sorted(os.path.join(a.data, "train", n) for n in os.listdir(os.path.join(a.data, "train"))
                    if n.endswith(".mkv"))
    os.makedirs(a.work, exist_ok=True)
    hw = frame_size(a.lmdd, a.model)
    rows, test = score(a.lmdd, a.model, tests, a.every, os.path.join(a.work, "test.f32"), extra, hw, a.reuse)
    train_rows, train = score(a.lmdd, a.model, trains, a.train_every, os.path.join(a.work, "train.f32"),
                              extra, hw, a.reuse)
    clip = np.array([os.path.splitext(os.path.basename(i))[0] for i, _, _ in rows])
    missing = [(c, k) for c, (_, k, _) in zip(clip, rows) if (c, k) not in labels]
    if missing:
        sys.exit(f"ped2_pooling: clip {missing[0][0]} frame {missing[0][1]}: no label in test-labels.csv")
    y = np.array([labels[(c, k)] for c, (_, k, _) in zip(clip, rows)])
    mean = test.mean((1, 2))
    engine = np.array([s for _, _, s in rows])
    print(f"test frames scored: {len(y)} ({(y == 0).sum()} normal, {(y == 1).sum()} anomalous), "
          f"{len(clips)} clips, every {a.every}; training frames for mu: {len(train)}, every {a.train_every}")
    print(f"mean of the map vs the engine's score: largest relative difference "
          f"{np.max(np.abs(mean - engine) / engine):.2e}")
    for name, s in variants(test, train).items():
        print(f"pool {name:9s} AUROC global {auroc(y, s):.4f}, per-clip min-max {auroc(y, per_clip_minmax(s, clip)):.4f}")
    area = motion(rows, hw)
    has = ~np.isnan(area)
    normal = has & (y == 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.corrcoef(mean[normal], area[normal])[0, 1] if normal.sum() > 1 else np.nan
    print(f"motion: {has.sum()} frames with a predecessor ({normal.sum()} normal); on the normal ones "
          f"the map's mean correlates r = {r:.3f} with the moving area (> {MOVE} change)")
    fa, fb = residual_fit(motion(train_rows, hw), train.mean((1, 2)))
    print(f"motion fit on training frames: mean = {fa:.4g} + {fb:.4g} * area")
    for name, s in (("moving area", area), ("mean/area", mean / (area + 1e-3)),
                    ("residual", mean - (fa + fb * area))):
        s, yy, cc = s[has], y[has], clip[has]
        print(f"motion {name:11s} AUROC global {auroc(yy, s):.4f}, per-clip min-max {auroc(yy, per_clip_minmax(s, cc)):.4f}")


if __name__ == "__main__":
    main()

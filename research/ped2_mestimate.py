#!/usr/bin/python3
"""ped2_mestimate.py — how media/motion.c should call FFmpeg's mestimate,
chosen without labels: each candidate's block speeds against dense optical
flow on Ped2's training clips, with the test AUROC printed beside it.

Why: mestimate's vectors are whole pixels. A walker in Ped2 moves about one
pixel per frame, so integer vectors round its speed to 0, 1 or 2, and the
speed score (the largest 5x5-block box mean) is as coarse. Two ways to refine
it: double the frame before matching (half-pixel vectors), or match frames two
apart and halve the result. Which is the better speed estimator is a question
about motion, not about anomalies, so it is answered on the training clips,
where no label exists: every 4th frame's Farneback flow (OpenCV, dense,
sub-pixel) averaged per 8x8 block is the reference, and each candidate's mean
absolute error of the block speed is printed over all blocks and over the
moving ones (reference above 0.5 px per frame). The test AUROC (one global
scale, clip-bootstrap 95% CI, 300 resamples; and per-clip min-max) is printed
so the page can say what the choice did, not to choose.

Each candidate is the daemon's graph: buffer -> scale (x upscale, bicubic,
gray) -> mestimate (EPZS, 8*upscale blocks, search range 16 source pixels per
frame) -> buffersink, forward vectors of frame n-gap against frame n (one graph
per phase when gap > 1), vector lengths divided by upscale*gap, boxes of 5x5
blocks, as motion.c does. tests/test_motion.c checks the C side against
scenes with known motion; there, gap 2 read a square sliding faster than 5 px
per frame over noise a third off or worse in some frames, which is why
motion.c has gap 1.

Usage: /usr/bin/python3 research/ped2_mestimate.py [--data DIR]
Needs numpy, OpenCV (python3-opencv) and PyAV (python3-av); about 5 min on 2 cores.
"""
import argparse
import os
import sys
import time

import numpy as np

from ped2_framediff import auroc, clip_ci, per_clip_minmax, read_labels

try:
    import av
    import cv2
except ImportError:
    sys.exit("ped2_mestimate: needs PyAV and OpenCV: apt-get install python3-av python3-opencv")

BLOCK, BOX, RANGE = 8, 5, 16
CANDIDATES = ((1, 1), (1, 2), (2, 1), (2, 2))  # (upscale, gap); (1, 1) was motion.c before, (2, 1) is now


def gray_frames(path):
    av.logging.set_level(av.logging.ERROR)
    with av.open(path) as c:
        return [f.to_ndarray(format="gray") for f in c.decode(video=0)]


def forward_vectors(frames, up, reach):
    """mestimate's forward block speeds (source px) of consecutive frames, searched
    up to reach source px: out[j] is frames[j]'s [h/8, w/8] vector lengths
    against frames[j+1]."""
    h, w = frames[0].shape
    g = av.filter.Graph()
    src = g.add_buffer(width=w, height=h, format="gray", time_base=1)
    nodes = [src, g.add("scale", f"w={w * up}:h={h * up}:flags=bicubic"),
             g.add("mestimate", f"method=epzs:mb_size={BLOCK * up}:search_param={reach * up}"),
             g.add("buffersink")]
    for a, b in zip(nodes, nodes[1:]):
        a.link_to(b)
    g.configure()
    out, blk = [], BLOCK * up

    def pull():
        while True:
            try:
                o = g.pull()
            except (av.BlockingIOError, av.EOFError):
                return
            a = o.side_data.get("MOTION_VECTORS").to_ndarray()
            a = a[a["source"] == 1]
            m = np.zeros((h // BLOCK, w // BLOCK), np.float32)
            yy, xx = (a["dst_y"] - blk // 2) // blk, (a["dst_x"] - blk // 2) // blk
            m[yy, xx] = np.hypot(a["src_x"] - a["dst_x"], a["src_y"] - a["dst_y"]) / up
            out.append(m)
    for i, im in enumerate(frames):
        f = av.VideoFrame.from_ndarray(im, format="gray")
        f.pts = i
        g.push(f)
        pull()
    return out


def block_speeds(frames, up, gap):
    """{n: [h/8, w/8] block speeds in px per frame, frame n-gap against n}"""
    est = {}
    for off in range(gap):
        for j, v in enumerate(forward_vectors(frames[off::gap], up, RANGE * gap)):
            est[off + (j + 1) * gap] = v / gap
    return est


def reference(frames, n):
    f = cv2.calcOpticalFlowFarneback(frames[n - 1], frames[n], None, 0.5, 3, 15, 3, 5, 1.2, 0)
    h, w = frames[n].shape
    m = np.hypot(f[..., 0], f[..., 1])[:h // BLOCK * BLOCK, :w // BLOCK * BLOCK]
    return m.reshape(h // BLOCK, BLOCK, w // BLOCK, BLOCK).mean(axis=(1, 3))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "../../shared/data/ucsd-ped2"))
    a = ap.parse_args()
    train = [gray_frames(os.path.join(a.data, "train", f"{c:02d}.mkv")) for c in range(1, 17)]
    labels = read_labels(a.data)
    clips = sorted({c for c, _ in labels})
    test = {c: gray_frames(os.path.join(a.data, "test", f"{c:02d}.mkv")) for c in clips}
    refs = {}
    print("upscale gap | speed error vs Farneback, training clips: all blocks, moving blocks "
          "| test AUROC global [95% CI], per clip")
    for up, gap in CANDIDATES:
        t = time.time()
        err, err_mov = [], []
        for c, fr in enumerate(train):
            est = block_speeds(fr, up, gap)
            for n in range(4, len(fr), 4):
                if n not in est:
                    continue
                if (c, n) not in refs:  # the same for every candidate: computed once
                    refs[(c, n)] = reference(fr, n)
                r = refs[(c, n)]
                d = np.abs(est[n] - r)
                err.append(d.mean())
                if (r > 0.5).any():
                    err_mov.append(d[r > 0.5].mean())
        y, clip, s = [], [], []
        for c in clips:
            for n, v in sorted(block_speeds(test[c], up, gap).items()):
                if (c, n) not in labels:
                    sys.exit(f"ped2_mestimate: clip {c:02d} frame {n}: no label in test-labels.csv")
                y.append(labels[(c, n)])
                clip.append(c)
                s.append(cv2.blur(v, (BOX, BOX), borderType=cv2.BORDER_REFLECT).max())
        y, clip, s = map(np.array, (y, clip, s))
        lo, hi = clip_ci(y, s, clip, reps=300)
        print(f"{up:7d} {gap:3d} | {np.mean(err):.4f} {np.mean(err_mov):.4f} ({len(err)} frames) "
              f"| {auroc(y, s):.4f} [{lo:.3f}, {hi:.3f}], {auroc(y, per_clip_minmax(s, clip)):.4f} "
              f"({len(y)} frames, {time.time() - t:.0f} s)", flush=True)


if __name__ == "__main__":
    main()

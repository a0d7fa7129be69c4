#!/usr/bin/python3
"""ped2_flow.py — a motion-speed baseline for the Ped2 results: score each
test frame by the fastest object-sized patch of optical flow, with no model.

Why: the LMD model's Ped2 score counts moving pixels (docs/evaluation.md, "What
the map measures"), so a busy clip of walkers outranks a quiet clip with a
bicycle. Ped2's anomalies (bikes, carts, skaters) are faster than walkers, and
speed does not grow with the crowd. This tool measures how far that signal goes
before any of it is built into the engine: dense Farneback optical flow
(OpenCV) between consecutive frames at Ped2's native 360x240 (decoded with
ffmpeg as `lmdd eval` does), flow magnitude box-averaged over KxK pixels (K
about a walker's height), and the frame's score the maximum of that average.
`--motion mestimate` uses FFmpeg's own block
motion estimation instead (libavfilter's mestimate, EPZS, 8x8 blocks, read
through PyAV), the route the daemon could take without OpenCV; its boxes are
whole blocks (3..9, i.e. 24..72 px). Box sizes are reported side by side: choosing one with the test labels
is choosing among a few documented settings, and the page says so. The 99th
percentile of the training clips' scores (every 3rd frame) gives each size a
scale learned from normal footage only; `--lmd CSV` (an `lmdd eval` scores
file) also reports the two scores fused on those training scales. Each AUROC
comes with a 95% interval from 1000 resamples of whole clips (seed 0).

Usage: /usr/bin/python3 research/ped2_flow.py [--data DIR] [--motion farneback|mestimate]
                                          [--lmd CSV] [--lmd-threshold T]
Needs numpy, ffmpeg and OpenCV (Debian: python3-opencv), and for mestimate PyAV
(python3-av); about 1 min (farneback) or 25 s (mestimate) on 2 cores.
"""
import argparse
import csv
import os
import sys

import numpy as np

from ped2_framediff import auroc, decode, read_labels, report

try:
    import cv2
except ImportError:
    sys.exit("ped2_flow: needs OpenCV for Python: apt-get install python3-opencv")

W, H = 360, 240
BOXES = (21, 31, 41, 51, 71)
BLOCK, BLOCK_BOXES = 8, (3, 4, 5, 6, 9)


def speeds(path):
    """per frame (from the 2nd), the max KxK box mean of flow magnitude for each K."""
    fr = (decode(path, W, H) * 255).round().astype(np.uint8)
    out = []
    for k in range(1, len(fr)):
        f = cv2.calcOpticalFlowFarneback(fr[k - 1], fr[k], None, 0.5, 3, 15, 3, 5, 1.2, 0)
        m = np.hypot(f[..., 0], f[..., 1]).astype(np.float32)
        out.append([cv2.blur(m, (b, b), borderType=cv2.BORDER_REFLECT).max() for b in BOXES])
    return np.array(out)


def block_vectors(path, tool="ped2_flow"):
    """mestimate's backward block vectors (one per 8x8 block) of each frame from
    the 2nd: a list of [2, h/8, w/8] arrays (dx, dy, pixels), and the clip's
    frame count. The filter leaves the last frame without vectors (it waits for
    a next one), so the list can be shorter than frames - 1."""
    try:
        import av
    except ImportError:
        sys.exit(f"{tool}: --motion mestimate needs PyAV: apt-get install python3-av")
    av.logging.set_level(av.logging.ERROR)
    with av.open(path) as c:
        st = c.streams.video[0]
        g = av.filter.Graph()
        nodes = [g.add_buffer(template=st), g.add("format", "gray"),
                 g.add("mestimate", f"method=epzs:mb_size={BLOCK}:search_param=16"), g.add("buffersink")]
        for a, b in zip(nodes, nodes[1:]):
            a.link_to(b)
        g.configure()
        out, n = [], 0
        for fr in c.decode(st):
            n += 1
            g.push(fr)
            while True:
                try:
                    o = g.pull()
                except (av.BlockingIOError, av.EOFError):
                    break
                mv = o.side_data.get("MOTION_VECTORS")
                if mv is None:      # the first frame has no past to match
                    continue
                a = mv.to_ndarray()
                a = a[a["source"] == -1]
                m = np.zeros((2, fr.height // BLOCK, fr.width // BLOCK), np.float32)
                yy, xx = (a["dst_y"] - BLOCK // 2) // BLOCK, (a["dst_x"] - BLOCK // 2) // BLOCK
                m[0, yy, xx] = a["src_x"] - a["dst_x"]
                m[1, yy, xx] = a["src_y"] - a["dst_y"]
                out.append(m)
    assert len(out) <= n - 1, path
    return out, n


def block_speeds(path):
    """as speeds(), from mestimate's block vectors (block_vectors()); a frame
    the filter leaves without vectors is scored 0 and counted."""
    vec, n = block_vectors(path)
    box = lambda m: [cv2.blur(m, (b, b), borderType=cv2.BORDER_REFLECT).max() for b in BLOCK_BOXES]
    out = [box(np.hypot(v[0], v[1])) for v in vec]
    missing = n - 1 - len(out)
    block_speeds.missing += missing
    return np.array(out + [[0.0] * len(BLOCK_BOXES)] * missing)


block_speeds.missing = 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "../../shared/data/ucsd-ped2"))
    ap.add_argument("--motion", choices=("farneback", "mestimate"), default="farneback",
                    help="OpenCV's dense optical flow, or FFmpeg's block motion estimation")
    ap.add_argument("--lmd", help="an lmdd eval scores-ped2.csv to fuse with")
    ap.add_argument("--lmd-threshold", type=float, default=0.000331,
                    help="the LMD score's training scale (the model's calibrated threshold)")
    a = ap.parse_args()
    global speeds
    boxes, unit = BOXES, "box {} px"
    if a.motion == "mestimate":
        speeds, boxes, unit = block_speeds, BLOCK_BOXES, "box {} blocks"
    train = np.concatenate([speeds(os.path.join(a.data, "train", f"{c:02d}.mkv"))[::3]
                            for c in range(1, 17)])
    scale = np.quantile(train, 0.99, axis=0)
    labels = read_labels(a.data)
    lmd = {}
    if a.lmd:
        with open(a.lmd) as f:
            for r in csv.DictReader(f):
                lmd[(int(r["clip"]), int(r["frame"]))] = float(r["score"])
    y, clip, s, l = [], [], [], []
    for c in sorted({c for c, _ in labels}):
        for k, v in enumerate(speeds(os.path.join(a.data, "test", f"{c:02d}.mkv")), start=1):
            if (c, k) not in labels:
                sys.exit(f"ped2_flow: clip {c:02d} frame {k}: no label in test-labels.csv")
            if a.lmd and (c, k) not in lmd:
                sys.exit(f"ped2_flow: clip {c:02d} frame {k}: no score in {a.lmd}")
            y.append(labels[(c, k)])
            clip.append(c)
            s.append(v)
            l.append(lmd.get((c, k), 0.0))
    y, clip, s, l = map(np.array, (y, clip, s, l))
    print(f"frames scored: {len(y)} ({(y == 0).sum()} normal, {(y == 1).sum()} anomalous); "
          f"training frames for the scale: {len(train)}")
    if a.lmd:
        print(f"LMD score alone ({a.lmd}): {report(y, l, clip)}")
    if block_speeds.missing:
        print(f"frames mestimate left without vectors (scored 0): {block_speeds.missing}")
    for i, b in enumerate(boxes):
        line = f"{a.motion} speed, {unit.format(b)}: {report(y, s[:, i], clip)} (training p99 {scale[i]:.3f} px/frame)"
        if a.lmd:
            fs, fl = s[:, i] / scale[i], l / a.lmd_threshold
            line += f"; fused max {auroc(y, np.maximum(fs, fl)):.4f}, sum {auroc(y, fs + fl):.4f}"
        print(line)


if __name__ == "__main__":
    main()

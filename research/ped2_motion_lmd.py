#!/usr/bin/python3
"""ped2_motion_lmd.py — LMD on motion instead of pixels: does inpainting a
Ped2 frame's motion field beat the plain speed of that field?

Why: the LMD model's Ped2 score counts moving pixels (docs/evaluation.md,
"What the map measures"), and a model-free speed patch outscores it (0.917
against 0.820 globally). The next model the page names is one whose input is
motion. Before the engine and daemon grow a motion input, this screen asks
whether Lift-Map-Detect on motion fields adds anything to their speed.

How: each test and training frame's motion against its predecessor is a
2-channel field on a grid of 8x8-pixel cells at Ped2's native 360x240 (30x45
cells): FFmpeg's mestimate block vectors (EPZS, integer, as media/motion.c
got them before it doubled the frame; read through PyAV) or OpenCV's dense Farneback flow averaged over
each cell. Fields are divided by 8 px, clipped to [-1, 1], reflect-padded to
32x48 and mapped to [0, 1] like pixels. A small eps-prediction U-Net
(train/unet.py: base 16, mult 1,2,2, one res block per level, no attention;
~0.2 M parameters) trains on the 16 training clips' fields for a fixed wall
time (batch 32, AdamW 2e-4, EMA 0.999, mirror flips that negate dx), then
train/lmd_ref.py inpaints each test field: DDIM 10 steps, replacement, two
complementary checkerboards of 8x8 blocks, so every cell is inpainted once.
The squared error of the rebuilt cells is the map. Reported beside it: the
field's speed (vector length per cell), pooled the same ways (largest mean
of a 3/5/7-cell box, and the map's mean). AUROC over the 1998 test frames
with a predecessor, one global scale and per-clip min-max, with 95% clip
bootstrap intervals (300 resamples, seed 0).

`--appearance` conditions the model on what the frame looks like: the
current frame at 360x240, each cell's 8x8 pixels as 64 extra input channels
(space to depth; train/unet.py's condition input, 32 "frames" of 2
channels), mirrored with the field. The field is still what is inpainted;
the frame is never masked. A model that has learned how fast things that
look like walkers move would rebuild a walker's cells and miss a bicycle's:
a learned speed prior per object. Only the current frame: with the previous
one too the model could read the motion off the two frames, whatever moves.

Usage: /usr/bin/python3 research/ped2_motion_lmd.py [--motion mestimate|farneback]
           [--appearance] [--budget SECONDS] [--work DIR] [--data DIR] [--model PT]
Needs numpy, torch, OpenCV (python3-opencv) and, for mestimate, PyAV
(python3-av). About --budget (default 1800 s) plus 5 minutes on 2 cores.
"""
import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "train"))
from ped2_flow import BLOCK as CELL, block_vectors  # noqa: E402
from ped2_framediff import auroc, clip_ci, decode, per_clip_minmax, read_labels  # noqa: E402

try:
    import cv2
    import torch
    import torch.nn.functional as F
except ImportError as e:
    sys.exit(f"ped2_motion_lmd: {e.name} missing: apt-get install python3-opencv python3-torch")
from lmd_ref import inpaint  # noqa: E402
from unet import UNet, alpha_bars  # noqa: E402

W, H, SCALE = 360, 240, 8.0
BOXES = (3, 5, 7)


def fields_mestimate(path):
    """[n-1, 2, 30, 45]: mestimate's backward block vectors (dx, dy) of frames 1..n-1."""
    out, n = block_vectors(path, "ped2_motion_lmd")
    while len(out) < n - 1:   # the last frame waits for a successor that never comes
        out.append(np.zeros_like(out[0]))
    return np.stack(out)


def fields_farneback(path):
    """[n-1, 2, 30, 45]: dense Farneback flow (previous -> current), averaged per cell."""
    fr = (decode(path, W, H) * 255).round().astype(np.uint8)
    out = []
    for k in range(1, len(fr)):
        f = cv2.calcOpticalFlowFarneback(fr[k - 1], fr[k], None, 0.5, 3, 15, 3, 5, 1.2, 0)
        f = f.reshape(H // CELL, CELL, W // CELL, CELL, 2).mean(axis=(1, 3))
        out.append(np.moveaxis(f, -1, 0).astype(np.float32))
    return np.stack(out)


def appearance(path, n):
    """[n, 64, 30, 45]: frames 1..n at 360x240, each 8x8-pixel cell's pixels
    as 64 channels (channel dy*8 + dx), in [0, 1]."""
    fr = decode(path, W, H).astype(np.float32)[1:n + 1]
    if len(fr) != n:
        sys.exit(f"ped2_motion_lmd: {path}: {len(fr) + 1} frames decoded, {n + 1} expected")
    return fr.reshape(n, H // CELL, CELL, W // CELL, CELL).transpose(0, 2, 4, 1, 3).reshape(
        n, CELL * CELL, H // CELL, W // CELL)


# mirroring a space-to-depth frame: the grid flips, and within a cell dx -> 7 - dx
MIRROR = [dy * CELL + CELL - 1 - dx for dy in range(CELL) for dx in range(CELL)]


def to_pixels(a):
    """fields -> [n, 2, 32, 48] tensor in [0, 1] (0.5 = still)."""
    a = np.clip(a / SCALE, -1, 1)
    a = np.pad(a, ((0, 0), (0, 0), (1, 1), (1, 2)), mode="reflect")
    return torch.from_numpy(((a + 1) / 2).astype(np.float32))


def to_cond(a):
    """appearance -> [n, 64, 32, 48] tensor, padded as to_pixels pads fields."""
    return torch.from_numpy(np.pad(a, ((0, 0), (0, 0), (1, 1), (1, 2)), mode="reflect"))


def new_model(cond=False):
    return UNet(in_channels=2, cond_frames=CELL * CELL // 2 if cond else 0, base_channels=16,
                channel_mult=(1, 2, 2), num_res_blocks=1, attn_levels=(), groups=8)


def train(tr, budget, log, new=new_model, bs=32, field=True, cond=None):
    """an EMA copy of new() trained on tr ([n, C, h, w] in [0, 1]) for budget
    seconds; mirror flips negate channel 0 when tr holds motion fields, and
    mirror cond (appearance, [n, 64, h, w] in [0, 1]) with them."""
    torch.manual_seed(0)
    model, ema = new(), new()
    ema.load_state_dict(model.state_dict())
    ab = torch.from_numpy(np.asarray(alpha_bars("linear", 1000), dtype=np.float32))
    opt = torch.optim.AdamW(model.parameters(), lr=2e-4)
    t0, step, losses = time.time(), 0, []
    while time.time() - t0 < budget:
        idx = torch.randint(0, len(tr), (bs,))
        x = tr[idx] * 2 - 1
        flip = torch.rand(bs) < 0.5
        x[flip] = x[flip].flip(-1)
        if field:
            x[flip, 0] = -x[flip, 0]     # a mirrored field moves the other way in x
        c = None
        if cond is not None:
            c = cond[idx] * 2 - 1
            c[flip] = c[flip].flip(-1)[:, MIRROR]
        t = torch.randint(0, 1000, (bs,))
        e = torch.randn_like(x)
        a = ab[t].view(-1, 1, 1, 1)
        loss = F.mse_loss(model(a.sqrt() * x + (1 - a).sqrt() * e, t, c), e)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        with torch.no_grad():
            for p, q in zip(ema.parameters(), model.parameters()):
                p.mul_(0.999).add_(q, alpha=0.001)
        losses.append(loss.item())
        step += 1
        if step % 500 == 0:
            log(f"step {step}, {time.time() - t0:.0f} s, loss {np.mean(losses[-500:]):.4f}")
    log(f"trained {step} steps in {time.time() - t0:.0f} s, "
        f"last-500 loss {np.mean(losses[-500:]):.4f}")
    return ema.eval()


def lmd_maps(model, x, cond=None):
    """per field, the squared error of every cell where it was inpainted ([n, 30, 45])."""
    ab = np.asarray(alpha_bars("linear", 1000))
    maps = []
    for i in range(0, len(x), 100):
        xb = x[i:i + 100]
        rec, m = inpaint(model, ab, xb, 10, 2, 999, cond=None if cond is None else cond[i:i + 100])
        d = (((rec + 1) / 2 - xb[:, None].double()) ** 2).sum(dim=2) * (1 - m)
        maps.append(d.sum(1).numpy())   # the two boards are complementary
    return np.concatenate(maps)[:, 1:31, 1:46]


def boxmax(maps, b):
    return np.array([cv2.blur(m.astype(np.float32), (b, b), borderType=cv2.BORDER_REFLECT).max()
                     for m in maps])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=os.path.join(HERE, "../../shared/data/ucsd-ped2"))
    ap.add_argument("--motion", choices=("mestimate", "farneback"), default="mestimate")
    ap.add_argument("--budget", type=float, default=1800, help="training wall time, seconds")
    ap.add_argument("--work", default="/tmp/ped2-motion-lmd", help="fields cache and model")
    ap.add_argument("--model", help="score this saved state dict instead of training one")
    ap.add_argument("--appearance", action="store_true",
                    help="condition on the current frame (space to depth), see above")
    a = ap.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    os.makedirs(a.work, exist_ok=True)
    log = lambda s: print(f"ped2_motion_lmd: {s}", flush=True)  # noqa: E731
    cache = os.path.join(a.work, f"fields-{a.motion}.npz")
    if not os.path.exists(cache):
        get = fields_mestimate if a.motion == "mestimate" else fields_farneback
        te = [get(os.path.join(a.data, "test", f"{c:02d}.mkv")) for c in range(1, 13)]
        tr = [get(os.path.join(a.data, "train", f"{c:02d}.mkv")) for c in range(1, 17)]
        np.savez(cache, train=np.concatenate(tr), test=np.concatenate(te),
                 test_len=np.array([len(t) for t in te]), train_len=np.array([len(t) for t in tr]))
    z = np.load(cache)
    log(f"{a.motion} fields: {len(z['train'])} training, {len(z['test'])} test")
    lens = z["test_len"]
    ctr = cte = None
    if a.appearance:
        if "train_len" not in z.files:
            sys.exit(f"ped2_motion_lmd: {cache}: written before --appearance; delete it")
        ctr = to_cond(np.concatenate([appearance(os.path.join(a.data, "train", f"{c:02d}.mkv"), n)
                                      for c, n in zip(range(1, 17), z["train_len"])]))
        cte = to_cond(np.concatenate([appearance(os.path.join(a.data, "test", f"{c:02d}.mkv"), n)
                                      for c, n in zip(range(1, 13), lens)]))
        log(f"appearance: {tuple(ctr.shape)} training, {tuple(cte.shape)} test")
    if a.model:
        model = new_model(a.appearance)
        model.load_state_dict(torch.load(a.model))
        model.eval()
    else:
        model = train(to_pixels(z["train"]), a.budget, log, new=lambda: new_model(a.appearance), cond=ctr)
        torch.save(model.state_dict(), os.path.join(a.work, f"model-{a.motion}{'-appearance' if a.appearance else ''}.pt"))
    maps = lmd_maps(model, to_pixels(z["test"]), cte)

    clip = np.repeat(np.arange(1, 13), lens)
    lab = read_labels(a.data)
    missing = [(c, k + 1) for c in range(1, 13) for k in range(lens[c - 1]) if (c, k + 1) not in lab]
    if missing:
        sys.exit(f"ped2_motion_lmd: clip {missing[0][0]:02d} frame {missing[0][1]}: "
                 "no label in test-labels.csv")
    y = np.array([lab[(c, k + 1)] for c in range(1, 13) for k in range(lens[c - 1])])
    speed = np.hypot(z["test"][:, 0], z["test"][:, 1])
    log(f"{int((y == 0).sum())} normal, {int(y.sum())} anomalous frames")
    rows = [("speed, box %d cells" % b, boxmax(speed, b)) for b in BOXES]
    rows += [("speed, mean", speed.mean(axis=(1, 2)))]
    lmd = "LMD map | frame" if a.appearance else "LMD map"
    rows += [(f"{lmd}, box {b} cells", boxmax(maps, b)) for b in BOXES]
    rows += [(f"{lmd}, mean", maps.mean(axis=(1, 2)))]
    # What the map holds, cell by cell: if the model rebuilt each masked cell
    # from its context, a cell's error would not just follow its own speed.
    sc, er = speed.ravel(), maps.ravel()
    for lo, hi in ((0, 0.5), (0.5, 1.5), (1.5, 2.5), (2.5, 4), (4, 8), (8, 99)):
        k = (sc >= lo) & (sc < hi)
        if k.any():
            log(f"cells moving {lo}-{hi} px: {int(k.sum())}, mean error {er[k].mean():.5f}, "
                f"error if rebuilt as still {(sc[k] ** 2).mean() / (2 * SCALE) ** 2:.5f}")
    for name, s in rows:
        lo, hi = clip_ci(y, s, clip, reps=300)
        print(f"{a.motion:9s} {name:30s} AUROC global {auroc(y, s):.4f} [{lo:.3f}, {hi:.3f}], "
              f"per-clip min-max {auroc(y, per_clip_minmax(s, clip)):.4f}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""screen.py — a quick paired comparison of image models on a random subset.

Scores the same random N in-domain and N out-of-domain images of an image
suite with each given model file, through the C engine (tests/tool_lmd, CPU
or Vulkan backend, the daemon's defaults: 10 DDIM steps x 2 attempts,
checkerboard 8x8, MSE, median, seed 0), and prints AUROC and the mean
scores per model. It is for choosing which model earns a full `lmdd eval`
(the only number that goes into docs/results): the subset is drawn at
random over the whole test files (the first items of a file are not
typical), and every model sees the same images with the same noise, so
differences between models are paired.

The suites are `lmdd eval`'s: fmnist-mnist (in: Fashion-MNIST test, out:
MNIST test) and mnist-fmnist (in: MNIST test 5000..9999, the half the MNIST
model never saw; out: Fashion-MNIST test). Images are resized 28 -> the
model's frame size as the trainer and `lmdd eval` do (bilinear, rounded to
uint8).

    /usr/bin/python3 research/screen.py --suite fmnist-mnist --per-side 2000 \\
        --backend vulkan --mnist M.gz --fmnist F.gz MODEL [MODEL ...]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "train"))
import data  # noqa: E402
import export  # noqa: E402
from ped2_framediff import auroc  # noqa: E402


def read_idx(path):
    """idx3-ubyte images (plain or .gz) -> uint8 (N, 1, 28, 28), by the trainer's reader."""
    try:
        return data._read_idx(path, data.DecodeOptions())
    except data.DataError as e:
        sys.exit(f"screen.py: {e}")


def model_info(path):
    """(channels, cond_frames, height, width, params) of a model file."""
    tensors, m = export.load_safetensors(path)
    return int(m["in_channels"]), int(m.get("cond_frames", 0)), int(m["frame_height"]), \
        int(m["frame_width"]), sum(t.numel() for t in tensors.values())


def score(tool, model, backend, imgs, chunk, tmp):
    """imgs float32 (N, C, H, W) in [0, 1] -> scores (N,), via tool_lmd score."""
    n, c, h, w = imgs.shape
    out = np.empty(n, np.float32)
    fin, fs, fr = (os.path.join(tmp, x) for x in ("in.f32", "s.f32", "r.f32"))
    for b in range(0, n, chunk):
        x = imgs[b:b + chunk]
        x.tofile(fin)
        r = subprocess.run([tool, "score", model, backend, fin, str(len(x)), str(h), str(w),
                            "10", "2", "999", "0", "0", "0", "0", "-", fs, fr],
                           capture_output=True, text=True)
        if r.returncode:
            sys.exit(f"screen.py: {model}: tool_lmd failed: {r.stderr.strip()}")
        out[b:b + len(x)] = np.fromfile(fs, np.float32)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("models", nargs="+")
    ap.add_argument("--suite", choices=("fmnist-mnist", "mnist-fmnist"), required=True)
    ap.add_argument("--per-side", type=int, default=2000)
    ap.add_argument("--backend", choices=("cpu", "vulkan"), default="cpu")
    ap.add_argument("--mnist", default=os.path.join(HERE, "../../shared/data/mnist/t10k-images-idx3-ubyte.gz"))
    ap.add_argument("--fmnist", default="/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz")
    ap.add_argument("--tool", default=os.path.join(HERE, "..", "build", "tests", "tool_lmd"))
    ap.add_argument("--chunk", type=int, default=250, help="images per tool_lmd call")
    ap.add_argument("--seed", type=int, default=0, help="seed of the subset draw")
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--scores", help="also write every score here (CSV: model,set,item,label,score;"
                                     " set/item as in lmdd eval's scores CSV)")
    a = ap.parse_args()
    mn, fm = read_idx(a.mnist), read_idx(a.fmnist)
    if a.suite == "fmnist-mnist":
        pin, pout = fm, mn
    else:
        pin, pout = mn[5000:], fm
    rng = np.random.RandomState(a.seed)
    k = min(a.per_side, len(pin), len(pout))
    iin = np.sort(rng.choice(len(pin), k, replace=False))
    iout = np.sort(rng.choice(len(pout), k, replace=False))
    y = np.r_[np.zeros(k, int), np.ones(k, int)]
    rows, per = [], []
    names = ("fashion-mnist-test", "mnist-test")[::1 if a.suite == "fmnist-mnist" else -1]
    items = np.r_[iin + (5000 if a.suite == "mnist-fmnist" else 0), iout]
    sets = [names[0]] * k + [names[1]] * k
    print(f"{a.suite}: {k} in + {k} out, drawn at random (seed {a.seed}); backend {a.backend}")
    with tempfile.TemporaryDirectory() as tmp:
        for m in a.models:
            C, K, H, W, params = model_info(m)
            if C != 1 or K:
                sys.exit(f"screen.py: {m}: a gray single-frame model is needed "
                         f"(has {C} channels, {K} previous frames)")
            # the trainer's resize (bilinear, rounded to uint8), which lmdd eval reproduces
            x = data._fit(np.concatenate([pin[iin], pout[iout]]), data.DecodeOptions(size=(W, H)), m)
            x = x.astype(np.float32) / 255.0
            t0 = time.time()
            s = score(a.tool, m, a.backend, x, a.chunk, tmp)
            dt = time.time() - t0
            r = dict(model=m, params=params, auroc=float(auroc(y, s)),
                     mean_in=float(s[:k].mean()), mean_out=float(s[k:].mean()),
                     s_per_image=dt / len(s))
            rows.append(r)
            per += [(m, st, int(it), int(lab), float(v)) for st, it, lab, v in zip(sets, items, y, s)]
            print(f"  {m}: {params / 1e6:.2f} M params  AUROC {r['auroc']:.4f}  mean in "
                  f"{r['mean_in']:.5f} out {r['mean_out']:.5f}  {r['s_per_image'] * 1e3:.1f} ms/img",
                  flush=True)
    if a.scores:
        with open(a.scores, "w") as f:
            f.write("model,set,item,label,score\n")
            f.writelines(f"{m},{st},{it},{lab},{v:.9g}\n" for m, st, it, lab, v in per)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(dict(suite=a.suite, per_side=k, seed=a.seed, backend=a.backend, models=rows), f,
                      indent=1)


if __name__ == "__main__":
    main()

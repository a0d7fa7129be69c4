#!/usr/bin/env python3
"""test_parity.py — the C engine against the independent PyTorch reference.

For random-weight models of several shapes (gray/RGB, with and without
conditioning frames, odd frame sizes, attention on/off, cosine schedule,
f16 weights): the engine's ε on each backend equals train/unet.py's to a
relative error ||a-b||/||b|| <= 1e-4, and a full few-step LMD inpainting with
the same Philox noise (train/lmd_ref.py) gives the same reconstruction and
scores (<= 1e-4; DDIM with eta > 0 and RePaint resampling included).
Prints PASS/FAIL lines for tests/run.sh.
"""
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "train"))
sys.path.insert(0, HERE)
import lmd_ref  # noqa: E402
import make_model  # noqa: E402
import unet  # noqa: E402

B = os.environ.get("B", "build")
TOOL = os.path.join(HERE, "..", B, "tests", "tool_lmd")
BACKENDS = os.environ.get("LMDD_BACKENDS", "cpu,vulkan").split(",")
TOL = 1e-4
failed = 0


def report(name, ok, detail=""):
    global failed
    print(f"{'PASS' if ok else 'FAIL'} {name}{' ' + detail if detail else ''}", flush=True)
    failed += not ok


def rel(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))


def run(args):
    r = subprocess.run([TOOL] + [str(a) for a in args], capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(f"tool_lmd failed: {r.stderr.strip()}")


CONFIGS = [
    dict(name="gray-attn", channels=1, base=16, mult=(1, 2), res=1, attn=(1,), groups=4, hw=(16, 24)),
    dict(name="rgb-3lvl", channels=3, base=16, mult=(1, 2, 2), res=2, attn=(2,), groups=8, hw=(12, 20)),
    dict(name="gray-cond-cosine", channels=1, cond=2, base=8, mult=(1, 2), res=1, attn=(), groups=2,
         hw=(10, 14), schedule="cosine"),
    dict(name="gray-f16", channels=1, base=8, mult=(1, 1), res=1, attn=(0, 1), groups=4, hw=(8, 8), fp16=True),
]


def main(tmp):
    rng = np.random.default_rng(1)
    torch.set_num_threads(2)
    for cfg in CONFIGS:
        path = os.path.join(tmp, cfg["name"] + ".safetensors")
        H, W = cfg["hw"]
        make_model.make(path, channels=cfg["channels"], cond=cfg.get("cond", 0), base=cfg["base"],
                        mult=cfg["mult"], res=cfg["res"], attn=cfg["attn"], groups=cfg["groups"],
                        frame=(H, W), schedule=cfg.get("schedule", "linear"), fp16=cfg.get("fp16", False))
        import export
        model, meta = export.model_from_file(path)
        model = model.double()
        C, K = cfg["channels"], cfg.get("cond", 0)
        # --- eps at a few t, batch 2 ---
        n = 2
        x = rng.standard_normal((n, C * (1 + K), H, W)).astype(np.float32)
        xin = os.path.join(tmp, "x.f32")
        x.tofile(xin)
        for t in (0, 457, 999):
            with torch.no_grad():
                xt = torch.from_numpy(x).double()
                ref = model(xt[:, :C], torch.full((n,), t, dtype=torch.long),
                            xt[:, C:] if K else None).numpy()
            for be in BACKENDS:
                out = os.path.join(tmp, "eps.f32")
                try:
                    run(["eps", path, be, xin, n, H, W, t, out])
                    got = np.fromfile(out, np.float32).reshape(ref.shape)
                    e = rel(got, ref)
                    report(f"eps_{cfg['name']}_t{t}_{be}", e <= TOL, f"rel={e:.2e}")
                except RuntimeError as ex:
                    report(f"eps_{cfg['name']}_t{t}_{be}", False, str(ex))
        # --- full inpainting, fixed noise ---
        abar = unet.alpha_bars(meta["schedule"], 1000)
        imgs = rng.random((n, C, H, W)).astype(np.float32)
        cond = rng.random((n, K * C, H, W)).astype(np.float32) if K else None
        fi = os.path.join(tmp, "img.f32")
        imgs.tofile(fi)
        fc = "-"
        if K:
            fc = os.path.join(tmp, "cond.f32")
            cond.tofile(fc)
        mult = 2 ** (len(cfg["mult"]) - 1)
        assert H % mult == 0 and W % mult == 0
        for (S, reps, t0, eta, jump, res) in [(4, 2, 999, 0.0, 0, 0), (5, 3, 600, 0.5, 2, 2)]:
            rec, masks = lmd_ref.inpaint(model, abar, torch.from_numpy(imgs).double(), S, reps, t0,
                                         seed=7, eta=eta, jump=jump, resample=res,
                                         cond=torch.from_numpy(cond).double() if K else None)
            ref_scores = lmd_ref.mse_scores(torch.from_numpy(imgs).double(), rec, masks).numpy()
            ref_rec0 = ((rec[:, 0] + 1) / 2).clamp(0, 1).numpy()
            for be in BACKENDS:
                fs, fr = os.path.join(tmp, "s.f32"), os.path.join(tmp, "r.f32")
                name = f"lmd_{cfg['name']}_S{S}_eta{eta}_jump{jump}_{be}"
                try:
                    run(["score", path, be, fi, n, H, W, S, reps, t0, 7, eta, jump, res, fc, fs, fr])
                    s = np.fromfile(fs, np.float32)
                    r = np.fromfile(fr, np.float32).reshape(ref_rec0.shape)
                    er, es = rel(r, ref_rec0), rel(s, ref_scores)
                    report(name, er <= TOL and es <= TOL, f"recon rel={er:.2e} scores rel={es:.2e}")
                except RuntimeError as ex:
                    report(name, False, str(ex))
    return 1 if failed else 0


if __name__ == "__main__":
    d = tempfile.mkdtemp(prefix="lmdd-parity-")
    try:
        sys.exit(main(d))
    finally:
        shutil.rmtree(d, ignore_errors=True)

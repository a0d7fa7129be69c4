#!/usr/bin/env python3
"""make_model.py — writes a random-weight lmdd model file for tests.

    make_model.py OUT.safetensors [--channels 1] [--cond 0] [--base 16]
                  [--mult 1,2] [--res 1] [--attn 1] [--groups 4]
                  [--frame 32x32] [--schedule linear] [--seed 0] [--fp16]
                  [--cond-interval SECONDS]

Weights are PyTorch's default initialisation, plus random perturbations of the
GroupNorm affine parameters (their defaults 1/0 would hide errors in them).
Uses train/unet.py (the reference) and train/export.py (the writer).
"""
import argparse
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "train"))
import export  # noqa: E402
import unet  # noqa: E402


def ints(s):
    return [int(v) for v in s.split(",") if v.strip()]


def make(out, channels=1, cond=0, base=16, mult=(1, 2), res=1, attn=(1,), groups=4,
         frame=(32, 32), schedule="linear", seed=0, fp16=False, name="test-random",
         cond_interval=None):
    torch.manual_seed(seed)
    model = unet.UNet(in_channels=channels, cond_frames=cond, base_channels=base,
                      channel_mult=list(mult), num_res_blocks=res, attn_levels=list(attn),
                      groups=groups)
    with torch.no_grad():
        for n, p in model.named_parameters():
            if ".norm" in n or n.startswith("norm_out"):
                p.add_(0.2 * torch.randn_like(p))
            if n.startswith("conv_out"):
                p.mul_(20.0)  # default init makes eps tiny; scale to O(1)
    cfg = dict(name=name, in_channels=channels, cond_frames=cond, base_channels=base,
               channel_mult=list(mult), num_res_blocks=res, attn_levels=list(attn),
               groups=groups, timesteps=1000, schedule=schedule, beta_start=1e-4,
               beta_end=0.02, frame_height=frame[0], frame_width=frame[1],
               train_size=frame[0], cond_interval=cond_interval)
    export.export_state(model.state_dict(), cfg, {"note": "random weights for tests"}, out, fp16=fp16)
    return model


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--channels", type=int, default=1)
    ap.add_argument("--cond", type=int, default=0)
    ap.add_argument("--base", type=int, default=16)
    ap.add_argument("--mult", type=ints, default=[1, 2])
    ap.add_argument("--res", type=int, default=1)
    ap.add_argument("--attn", type=ints, default=[1])
    ap.add_argument("--groups", type=int, default=4)
    ap.add_argument("--frame", default="32x32", help="HxW")
    ap.add_argument("--schedule", default="linear")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--fp16", action="store_true")
    ap.add_argument("--cond-interval", type=float, default=None)
    a = ap.parse_args()
    h, w = (int(v) for v in a.frame.lower().split("x"))
    make(a.out, a.channels, a.cond, a.base, a.mult, a.res, a.attn, a.groups, (h, w),
         a.schedule, a.seed, a.fp16, cond_interval=a.cond_interval)


if __name__ == "__main__":
    main()

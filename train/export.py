#!/usr/bin/env python3
"""export.py — write and read lmdd model files (docs/model-format.md).

safetensors is written by hand (Debian 12 has no Python safetensors package):
an 8-byte little-endian header length, a JSON header mapping each tensor name
(the unet.UNet state_dict name) to {dtype, shape, data_offsets} plus a
`__metadata__` object of str -> str, padded with spaces so the data starts at
an 8-byte boundary, then the raw little-endian tensor bytes in header order.
Tensors are F32, or F16 with --fp16. Files are written to a temporary name and
renamed, so a reader never sees half a file.

Also: load_safetensors(path) -> (tensors, metadata), model_from_file(path)
-> (UNet in eval mode, metadata), write_card() for models/<name>/README.md,
and a CLI that exports a train.py checkpoint:
    train/export.py runs/NAME/checkpoint.pt models/NAME/model.safetensors [--fp16]
"""
import argparse
import json
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import unet  # noqa: E402

FORMAT = "lmdd-unet-1"
DTYPES = {"F32": np.dtype("<f4"), "F16": np.dtype("<f2")}


def _atomic_write(path, write):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        write(f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def save_safetensors(path, tensors, metadata, fp16=False):
    """tensors: name -> torch tensor; metadata: str -> str."""
    dtype = "F16" if fp16 else "F32"
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        a = t.detach().to("cpu", torch.float32).numpy().astype(DTYPES[dtype])
        b = a.tobytes()
        header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    if any(not isinstance(v, str) for v in metadata.values()):
        raise TypeError("safetensors metadata values must be strings")
    header = {"__metadata__": dict(metadata), **header}
    hb = json.dumps(header, separators=(",", ":")).encode()
    hb += b" " * (-(8 + len(hb)) % 8)

    def write(f):
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for b in blobs:
            f.write(b)
    _atomic_write(path, write)


def load_safetensors(path):
    """-> (dict name -> float32 torch tensor, metadata dict)."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: too short for a safetensors file")
    (n,) = struct.unpack("<Q", raw[:8])
    if 8 + n > len(raw):
        raise ValueError(f"{path}: header length {n} exceeds file size")
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    data = memoryview(raw)[8 + n:]
    tensors = {}
    for name, h in header.items():
        if h["dtype"] not in DTYPES:
            raise ValueError(f"{path}: tensor {name}: unsupported dtype {h['dtype']}")
        a, b = h["data_offsets"]
        arr = np.frombuffer(data[a:b], DTYPES[h["dtype"]]).reshape(h["shape"])
        tensors[name] = torch.from_numpy(arr.astype(np.float32))
    return tensors, meta


def _ints(s):
    return [int(v) for v in s.split(",") if v.strip()]


def model_from_file(path, device="cpu"):
    """Build the unet.UNet a model file describes -> (model.eval(), metadata)."""
    tensors, meta = load_safetensors(path)
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path}: format is {meta.get('format')!r}, expected {FORMAT!r}")
    model = unet.UNet(in_channels=int(meta["in_channels"]),
                      cond_frames=int(meta["cond_frames"]),
                      base_channels=int(meta["base_channels"]),
                      channel_mult=_ints(meta["channel_mult"]),
                      num_res_blocks=int(meta["num_res_blocks"]),
                      attn_levels=_ints(meta["attn_levels"]),
                      groups=int(meta["groups"]))
    model.load_state_dict(tensors)
    return model.to(device).eval(), meta


def metadata(cfg, training):
    """The `__metadata__` of docs/model-format.md from a train.py model config."""
    return {
        "format": FORMAT,
        "name": cfg["name"],
        "in_channels": str(cfg["in_channels"]),
        "cond_frames": str(cfg["cond_frames"]),
        "base_channels": str(cfg["base_channels"]),
        "channel_mult": ",".join(str(m) for m in cfg["channel_mult"]),
        "num_res_blocks": str(cfg["num_res_blocks"]),
        "attn_levels": ",".join(str(a) for a in cfg["attn_levels"]),
        "groups": str(cfg["groups"]),
        "timesteps": str(cfg["timesteps"]),
        "schedule": cfg["schedule"],
        "beta_start": repr(float(cfg["beta_start"])),
        "beta_end": repr(float(cfg["beta_end"])),
        "frame_height": str(cfg["frame_height"]),
        "frame_width": str(cfg["frame_width"]),
        "train_size": str(cfg["train_size"]),
        "pixel_range": "-1,1",
        "training": json.dumps(training, sort_keys=True),
        **({"cond_interval": f"{cfg['cond_interval']:.6g}"} if cfg.get("cond_interval") else {}),
    }


def export_state(state_dict, cfg, training, path, fp16=False):
    """Write a model file from a UNet state_dict (train.py passes the EMA)."""
    save_safetensors(path, state_dict, metadata(cfg, training), fp16=fp16)


def write_card(card_path, meta, params, command, resume_command, init_command):
    """models/<name>/README.md: a model card generated from the file's metadata."""
    tr = json.loads(meta["training"])
    data = "\n".join(f"- `{d['path']}` ({d['kind']}, {d['frames']} frames)" for d in tr["data"])
    hours = tr["wall_time_s"] / 3600
    loss = "n/a" if tr["final_loss"] is None else f"{tr['final_loss']:.5f}"
    attn = meta["attn_levels"] or "none"
    init = tr.get("init")
    decay = (f", then cosine decay to 0 over {tr['decay_steps']} steps"
             if tr.get("decay_steps") else ", then constant")
    if init and init.get("command"):
        stages = (f"First the run this one was warm-started from, to step {init['steps']}:\n"
                  f"```\n{init['command']}\n```\nthen this run:\n")
    elif init:
        stages = (f"This run was warm-started from `{init['path']}` at step {init['steps']}; "
                  f"that file's card gives its command. Then:\n")
    else:
        stages = ""
    warm = f", warm-started from `{init['path']}` at step {init['steps']}" if init else ""
    interval = (f" {float(meta['cond_interval']):g} s apart (the training videos' frame interval)"
                if meta.get("cond_interval") else "")
    text = f"""# lmdd model `{meta['name']}`

Generated by `train/train.py` at each checkpoint; the numbers below match
`model.safetensors` in this folder (its `training` metadata holds the full
record). Format: docs/model-format.md (`{meta['format']}`).

## Architecture
DDPM ε-prediction U-Net (train/unet.py): {meta['in_channels']} image channel(s),
{meta['cond_frames']} conditioning frame(s){interval}, base {meta['base_channels']} channels,
channel mult {meta['channel_mult']}, {meta['num_res_blocks']} res blocks per level,
self-attention at level(s) {attn}, GroupNorm {meta['groups']} groups.
{params:,} parameters ({tr['export_dtype']}, EMA weights, decay {tr['ema']}).
Noise: T={meta['timesteps']}, {meta['schedule']} schedule
(β {meta['beta_start']} → {meta['beta_end']}). Pixels [0,1] → [-1,1].
Frames are scored at {meta['frame_width']}x{meta['frame_height']} (W x H);
training used random {meta['train_size']}x{meta['train_size']} crops{' with horizontal flips' if tr['flip'] else ''}.

## Data
{data}

Decoding: {json.dumps(tr['decode'], sort_keys=True)}

## Training
- steps: {tr['steps']}{warm} (batch {tr['batch']}, AdamW lr {tr['lr']}, warm-up {tr['warmup']} steps{decay}, grad clip {tr['grad_clip']})
- final loss (mean ε-MSE over the last {tr['loss_window']} steps): {loss}
- wall time: {hours:.2f} h
- machine: {tr['machine']['platform']}, {tr['machine']['cpu']}, device {tr['machine']['device']}, {tr['machine']['threads']} thread(s)
- torch {tr['torch']}, exported {tr['date']}

![loss](loss.png)

## Reproduce
{stages}```
{command}
```
Resume (continues the same run exactly; needs the run folder's
checkpoint.pt, which is not in git):
```
{resume_command}
```
If the checkpoint is lost, warm-start a new run from this file instead (same
weights and step count; fresh optimizer and LR warm-up):
```
{init_command}
```
"""
    _atomic_write(card_path, lambda f: f.write((text + kept_sections(card_path)).encode()))


def kept_sections(card_path):
    """The tail of an existing card from its hand-written "## Notes" or
    tools/card_check.py's "## Engine check" (engine scores at a named step)
    on: what survives a regenerated card ("" when there is none)."""
    try:
        with open(card_path) as f:
            old = f.read()
    except OSError:
        return ""
    cut = [old.find(m) for m in ("\n## Notes", "\n## Engine check") if m in old]
    return old[min(cut):] if cut else ""


def main():
    ap = argparse.ArgumentParser(description="Export a train.py checkpoint (its EMA weights) "
                                             "to an lmdd model file.")
    ap.add_argument("checkpoint", help="runs/NAME/checkpoint.pt")
    ap.add_argument("output", help="model.safetensors to write")
    ap.add_argument("--fp16", action="store_true", help="store tensors as F16")
    ap.add_argument("--raw", action="store_true", help="export the raw (non-EMA) weights")
    a = ap.parse_args()
    ck = torch.load(a.checkpoint, map_location="cpu")
    training = dict(ck["training"], export_dtype="F16" if a.fp16 else "F32")
    export_state(ck["model" if a.raw else "ema"], ck["cfg"], training, a.output, a.fp16)
    print(f"wrote {a.output} (step {ck['step']})")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""train.py — train an lmdd model: a DDPM ε-prediction U-Net on normal footage.

LMD's "Map" step inpaints masked frames with a diffusion model that has only
ever seen in-domain (normal) data; this script learns that model.

Design facts:
  * DDPM (Ho et al. 2020): x_t = √ᾱ_t·x0 + √(1-ᾱ_t)·ε, t ~ U{0..T-1}, loss
    MSE(ε̂(x_t, t, cond), ε); ᾱ from unet.alpha_bars (linear or cosine β).
  * AdamW, linear LR warm-up then constant LR, gradient-norm clipping, EMA of
    the weights (decay min(--ema, (1+s)/(10+s))); the EMA is what is exported.
    --decay-steps N instead anneals the LR after the warm-up to 0 along a
    half cosine over N steps and ends the run there (lr_at()): a constant LR
    lets the loss plateau with the weights still jittering around a minimum;
    annealing is the usual last stretch of a diffusion training, typically
    as a warm start (--init) from the constant-LR run's model.
  * Random --crop x --crop patches of the frames (the U-Net is fully
    convolutional, the engine runs it on whole frames), optional horizontal
    flips; --cond-frames K feeds the K clean previous frames of the same clip
    (oldest first) as extra input channels after the noisy image.
  * All sampling randomness (frames, crops, flips, t, ε) comes from one CPU
    torch.Generator saved in the checkpoint together with the model, EMA,
    optimizer, step, torch/CUDA RNG states and the per-step loss history, so
    --resume continues the same run: same step count, continuous loss curve.
  * Checkpoints (every --ckpt-every seconds and/or --ckpt-steps steps, at the
    end, at --max-steps, when --time-budget runs out, on SIGTERM/SIGINT) are
    written atomically to OUT/checkpoint.pt together with OUT/loss.png and the
    EMA export OUT/model.safetensors; --publish DIR also copies the model and
    plot there and writes DIR/README.md (model card).
  * On --resume the model/data/optimisation configuration comes from the
    checkpoint; only the run-control flags (RUN_FLAGS) are taken from the
    command line.
  * --init FILE warm-starts a new run from an exported model (when the
    checkpoint is lost): model and EMA start from its weights, the step
    count continues from its training record, the optimizer and the LR
    warm-up start afresh, and the loss history starts at that step.

Example (CPU):  /usr/bin/python3 train/train.py --data footage/ --size 180x120 \\
                    --crop 64 --flip --out runs/cam1 --time-budget 36000
Resume:         /usr/bin/python3 train/train.py --out runs/cam1 --resume
"""
import argparse
import copy
import json
import math
import os
import platform
import shlex
import shutil
import signal
import sys
import time
from datetime import datetime, timezone

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
import export  # noqa: E402
import unet  # noqa: E402

RUN_FLAGS = ("max_steps", "time_budget", "threads", "device", "ckpt_every",
             "ckpt_steps", "log_every", "publish", "fp16")
LOSS_WINDOW = 1000  # steps averaged for the reported final loss (fewer early on)


def int_list(text):
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got '{text}'")


def parser():
    ap = argparse.ArgumentParser(
        description="Train an lmdd diffusion model (DDPM U-Net) on normal frames.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    g = ap.add_argument_group("data")
    g.add_argument("--data", nargs="+", metavar="PATH",
                   help="video files/URLs, image files, idx files or folders of them")
    g.add_argument("--size", type=data.parse_size, metavar="WxH",
                   help="resize (or --fit pad) every frame to WxH; also the model's frame size")
    g.add_argument("--fit", choices=["resize", "pad"], default="resize",
                   help="bring frames to --size by bilinear resize or centre zero-padding")
    g.add_argument("--rgb", action="store_true", help="train on RGB (default gray)")
    g.add_argument("--every", type=int, default=1, help="use every Nth video frame")
    g.add_argument("--start", type=float, help="video start time, seconds")
    g.add_argument("--end", type=float, help="video end time, seconds")
    g.add_argument("--limit", type=int, help="at most N frames/images per source file")
    g.add_argument("--cache-dir", default=data.default_cache_dir(),
                   help="where decoded frames are cached (.npy)")
    g.add_argument("--crop", type=int, help="random square crops of this size (default: whole frames)")
    g.add_argument("--flip", action="store_true", help="random horizontal flips")
    g.add_argument("--cond-frames", type=int, default=0,
                   help="condition on the K previous frames of the same clip")
    g = ap.add_argument_group("model")
    g.add_argument("--name", help="model name (default: basename of --out)")
    g.add_argument("--base-channels", type=int, default=32)
    g.add_argument("--channel-mult", type=int_list, default=[1, 2, 2, 2])
    g.add_argument("--num-res-blocks", type=int, default=2)
    g.add_argument("--attn-levels", type=int_list, default=[3], help="e.g. 3 or 2,3 or '' for none")
    g.add_argument("--groups", type=int, default=8, help="GroupNorm groups")
    g.add_argument("--dropout", type=float, default=0.0)
    g.add_argument("--timesteps", type=int, default=1000)
    g.add_argument("--schedule", choices=["linear", "cosine"], default="linear")
    g.add_argument("--beta-start", type=float, default=1e-4)
    g.add_argument("--beta-end", type=float, default=0.02)
    g = ap.add_argument_group("optimisation")
    g.add_argument("--batch", type=int, default=16)
    g.add_argument("--lr", type=float, default=2e-4)
    g.add_argument("--warmup", type=int, default=1000, help="linear LR warm-up steps")
    g.add_argument("--decay-steps", type=int, default=0,
                   help="after the warm-up, cosine-anneal the LR to 0 over N steps, then stop "
                        "(0: constant LR, no end)")
    g.add_argument("--weight-decay", type=float, default=0.0)
    g.add_argument("--grad-clip", type=float, default=1.0, help="max gradient norm (0: off)")
    g.add_argument("--ema", type=float, default=0.999, help="EMA decay of the exported weights")
    g.add_argument("--seed", type=int, default=0)
    g = ap.add_argument_group("run control (may change on --resume)")
    g.add_argument("--out", required=True, help="run folder: checkpoint.pt, model.safetensors, loss.png")
    g.add_argument("--resume", action="store_true", help="continue the run in --out")
    g.add_argument("--init", metavar="MODEL",
                   help="new run warm-started from an lmdd model file of the same architecture")
    g.add_argument("--max-steps", type=int, default=0, help="stop at this total step count (0: none)")
    g.add_argument("--time-budget", type=float, default=0,
                   help="stop cleanly after this many seconds of this invocation (0: none)")
    g.add_argument("--ckpt-every", type=float, default=600, help="checkpoint every N seconds (0: off)")
    g.add_argument("--ckpt-steps", type=int, default=0, help="checkpoint every N steps (0: off)")
    g.add_argument("--publish", metavar="DIR",
                   help="at each checkpoint copy model.safetensors + loss.png here and write README.md")
    g.add_argument("--fp16", action="store_true", help="export F16 tensors")
    g.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch default)")
    g.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    g.add_argument("--log-every", type=float, default=60,
                   help="seconds between progress lines when stderr is not a terminal")
    return ap


def machine(device, threads):
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    dev = torch.cuda.get_device_name(device) if str(device).startswith("cuda") else "cpu"
    return {"platform": platform.platform(), "cpu": cpu, "device": dev, "threads": threads}


def plot_loss(losses, step0, path, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    n = len(losses)
    if n:
        ax.plot(range(step0 + 1, step0 + n + 1), losses, lw=0.3, alpha=0.35, color="tab:blue", label="step")
        w = max(1, min(LOSS_WINDOW, n // 20))
        if n >= w > 1:
            c = torch.cumsum(torch.cat([torch.zeros(1, dtype=torch.float64), losses.double()]), 0)
            ma = (c[w:] - c[:-w]) / w
            ax.plot(range(step0 + w, step0 + n + 1), ma.tolist(), color="tab:red", lw=1.2, label=f"mean of {w}")
        ax.set_yscale("log")
        ax.legend(loc="upper right")
    ax.set_xlabel("step")
    ax.set_ylabel("ε-MSE")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    tmp = f"{path}.{os.getpid()}.tmp.png"
    fig.savefig(tmp)
    plt.close(fig)
    os.replace(tmp, path)


class Progress:
    """Progress bar on stderr: \\r-updated on a terminal, else a line every log_every s.
    The bar shows the fraction of --max-steps or --time-budget used, whichever is further."""

    def __init__(self, log_every):
        self.tty = sys.stderr.isatty()
        self.every = 0.5 if self.tty else log_every
        self.last = 0.0

    def show(self, step, loss_ema, rate, eta, frac, force=False):
        now = time.time()
        if not force and now - self.last < self.every:
            return
        self.last = now
        eta_s = "?" if eta is None else time.strftime("%H:%M:%S", time.gmtime(eta)) if eta < 86400 \
            else f"{eta / 86400:.1f}d"
        bar = "" if frac is None else f"[{'#' * int(20 * frac):<20}] {100 * frac:3.0f}%  "
        line = f"{bar}step {step:>8}  loss {loss_ema:.5f}  {rate:6.2f} steps/s  ETA {eta_s}"
        if self.tty:
            sys.stderr.write("\r" + line + "   ")
        else:
            sys.stderr.write(f"[{datetime.now().strftime('%H:%M:%S')}] {line}\n")
        sys.stderr.flush()

    def done(self):
        if self.tty:
            sys.stderr.write("\n")


def model_cfg(a, fs):
    crop = a.crop or min(fs.height, fs.width)
    return {"name": a.name, "in_channels": fs.channels, "cond_frames": a.cond_frames,
            "base_channels": a.base_channels, "channel_mult": list(a.channel_mult),
            "num_res_blocks": a.num_res_blocks, "attn_levels": list(a.attn_levels),
            "groups": a.groups, "dropout": a.dropout, "timesteps": a.timesteps,
            "schedule": a.schedule, "beta_start": a.beta_start, "beta_end": a.beta_end,
            "frame_height": fs.height, "frame_width": fs.width, "train_size": crop,
            "cond_interval": fs.frame_interval() if a.cond_frames else None}


def check_cfg(a, fs):
    """Reject configurations the U-Net cannot run, with the flag to change."""
    if a.warmup < 0 or a.decay_steps < 0:
        raise SystemExit("error: --warmup and --decay-steps must be >= 0")
    levels = len(a.channel_mult)
    if levels < 1:
        raise SystemExit("error: --channel-mult needs at least one level")
    mult = 2 ** (levels - 1)
    for lv in a.attn_levels:
        if not 0 <= lv < levels:
            raise SystemExit(f"error: --attn-levels {lv} outside levels 0..{levels - 1}")
    for m in a.channel_mult:
        if (a.base_channels * m) % a.groups:
            raise SystemExit(f"error: --groups {a.groups} does not divide {a.base_channels * m} channels")
    if a.crop:
        if a.crop % mult:
            raise SystemExit(f"error: --crop {a.crop} must be a multiple of {mult} "
                             f"({levels} levels)")
    elif fs.height % mult or fs.width % mult:
        raise SystemExit(f"error: {fs.width}x{fs.height} frames are not multiples of {mult}: "
                         f"give --crop or --size")
    if not (a.start is None or a.end is None) and a.end <= a.start:
        raise SystemExit("error: --end must be after --start")


def lr_at(k, lr, warmup, decay):
    """LR of the k-th step of this run (k = 0 first): linear warm-up over `warmup`
    steps, then constant, or with decay > 0 a half cosine from lr to 0 over
    `decay` steps; None once the decay is over (the run ends there)."""
    assert k >= 0 and warmup >= 0 and decay >= 0
    if k < warmup:
        return lr * (k + 1) / warmup
    if decay <= 0:
        return lr
    j = k - warmup
    if j >= decay:
        return None
    return lr * 0.5 * (1 + math.cos(math.pi * j / decay))


def with_flags(command, flags):
    """command (a shell line) with each flag in flags set to its new value."""
    toks, out = shlex.split(command), []
    while toks:
        t = toks.pop(0)
        if t in flags:
            toks.pop(0)
        else:
            out.append(t)
    for k, v in flags.items():
        out += [k, v]
    return " ".join(shlex.quote(t) for t in out)


def warm_start(path, cfg, model, ema):
    """Load an exported model into model and EMA -> (its steps, its wall time, record)."""
    tensors, meta = export.load_safetensors(path)
    want = export.metadata(cfg, {})
    for k in ("format", "in_channels", "cond_frames", "base_channels", "channel_mult",
              "num_res_blocks", "attn_levels", "groups"):
        if meta.get(k) != want[k]:
            raise SystemExit(f"error: --init {path}: {k} is {meta.get(k)!r}, this run has {want[k]!r}")
    model.load_state_dict(tensors)
    ema.load_state_dict(tensors)
    tr = json.loads(meta.get("training") or "{}")
    steps, wall = int(tr.get("steps", 0)), float(tr.get("wall_time_s", 0.0))
    rec = {"path": path, "steps": steps, "wall_time_s": wall}
    if tr.get("command"):  # older files lack it
        rec["command"] = tr["command"]
    return steps, wall, rec


def decode_opts(a):
    return data.DecodeOptions(channels=3 if a.rgb else 1, size=a.size, fit=a.fit,
                              every=a.every, start=a.start, end=a.end, limit=a.limit)


def run(argv=None):
    """Train; returns {'step', 'losses', 'out', 'stopped'}. Exceptions for bad input."""
    cli = parser().parse_args(argv)
    out = cli.out
    ck_path = os.path.join(out, "checkpoint.pt")
    ck = None
    if cli.resume:
        if not os.path.exists(ck_path):
            raise SystemExit(f"error: --resume: no checkpoint at {ck_path}")
        ck = torch.load(ck_path, map_location="cpu")
        a = argparse.Namespace(**{"decay_steps": 0, **ck["args"]})  # older checkpoints lack it
        for k in RUN_FLAGS:
            setattr(a, k, getattr(cli, k))
        a.out = out
    else:
        if os.path.exists(ck_path):
            raise SystemExit(f"error: {ck_path} exists: add --resume to continue it, "
                             f"or choose another --out")
        if not cli.data:
            raise SystemExit("error: --data PATH ... is required (unless --resume)")
        a = cli
        a.name = a.name or os.path.basename(os.path.abspath(out))
    if a.threads:
        torch.set_num_threads(a.threads)
    device = torch.device(a.device)

    fs = data.FrameSet(a.data, decode_opts(a), a.cache_dir)
    check_cfg(a, fs)
    sampler = data.BatchSampler(fs, a.crop, a.flip, a.cond_frames)
    cfg = model_cfg(a, fs)
    if ck is not None:
        old = {"cond_interval": cfg["cond_interval"], **ck["cfg"]}  # older checkpoints lack it
        if old != cfg:
            raise SystemExit(f"error: data no longer matches the checkpoint ({ck['cfg']} vs {cfg})")

    torch.manual_seed(a.seed)
    model = unet.UNet(cfg["in_channels"], cfg["cond_frames"], cfg["base_channels"],
                      cfg["channel_mult"], cfg["num_res_blocks"], cfg["attn_levels"],
                      cfg["groups"], cfg["dropout"]).to(device)
    ema = copy.deepcopy(model).eval()
    for p in ema.parameters():
        p.requires_grad_(False)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=a.weight_decay)
    gen = torch.Generator().manual_seed(a.seed)
    step, step0, losses, wall_before, init = 0, 0, torch.zeros(0), 0.0, None
    if ck is not None:
        model.load_state_dict(ck["model"])
        ema.load_state_dict(ck["ema"])
        opt.load_state_dict(ck["opt"])
        gen.set_state(ck["rng"]["gen"])
        torch.set_rng_state(ck["rng"]["torch"])
        if device.type == "cuda" and ck["rng"].get("cuda") is not None:
            torch.cuda.set_rng_state(ck["rng"]["cuda"], device)
        step, losses, wall_before = ck["step"], ck["losses"], ck["wall_time_s"]
        step0, init = ck.get("step0", 0), ck["training"].get("init")
    elif a.init:
        step0, wall_before, init = warm_start(a.init, cfg, model, ema)
        step = step0
    loss_list = losses.tolist()

    ab = unet.alpha_bars(a.schedule, a.timesteps, a.beta_start, a.beta_end)
    sqrt_ab = ab.sqrt().float().to(device)
    sqrt_1mab = (1 - ab).sqrt().float().to(device)
    params = unet.count_params(model)
    mach = machine(device, torch.get_num_threads())
    command = ck["command"] if ck else " ".join(
        shlex.quote(s) for s in ["/usr/bin/python3", "train/train.py"] + list(
            sys.argv[1:] if argv is None else argv))

    stop = {"sig": None}

    def on_signal(signum, _frame):
        stop["sig"] = signum
    old_handlers = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}

    t0 = time.time()

    def training_record():
        n = min(LOSS_WINDOW, max(1, len(loss_list) // 10)) if loss_list else 0
        return {"data": fs.info, "decode": {k: v for k, v in vars(decode_opts(a)).items()},
                "steps": step, "final_loss": sum(loss_list[-n:]) / n if n else None,
                "loss_window": n, "wall_time_s": round(wall_before + time.time() - t0, 1),
                "machine": mach, "torch": torch.__version__,
                "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "batch": a.batch, "lr": a.lr, "warmup": a.warmup,
                "decay_steps": a.decay_steps, "grad_clip": a.grad_clip,
                "weight_decay": a.weight_decay, "ema": a.ema, "crop": a.crop, "flip": a.flip,
                "seed": a.seed, "params": params, "init": init, "command": command, "export_dtype": "F16" if a.fp16 else "F32"}

    def checkpoint():
        rec = training_record()
        args = {k: v for k, v in vars(a).items() if k != "resume"}
        state = {"version": 1, "cfg": cfg, "args": args, "command": command, "step": step,
                 "step0": step0,
                 "model": model.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(),
                 "rng": {"gen": gen.get_state(), "torch": torch.get_rng_state(),
                         "cuda": torch.cuda.get_rng_state(device) if device.type == "cuda" else None},
                 "losses": torch.tensor(loss_list, dtype=torch.float32),
                 "wall_time_s": rec["wall_time_s"], "training": rec}
        os.makedirs(out, exist_ok=True)
        tmp = ck_path + ".tmp"
        torch.save(state, tmp)
        os.replace(tmp, ck_path)
        model_path = os.path.join(out, "model.safetensors")
        export.export_state(ema.state_dict(), cfg, rec, model_path, a.fp16)
        plot_loss(state["losses"], step0, os.path.join(out, "loss.png"), f"{cfg['name']}: step {step}")
        if a.publish:
            os.makedirs(a.publish, exist_ok=True)
            for f in ("model.safetensors", "loss.png"):
                tmp = os.path.join(a.publish, f + ".tmp")
                shutil.copyfile(os.path.join(out, f), tmp)
                os.replace(tmp, os.path.join(a.publish, f))
            resume = (f"/usr/bin/python3 train/train.py --out {shlex.quote(out)} --resume"
                      + (f" --publish {shlex.quote(a.publish)}" if a.publish else "")
                      + (f" --threads {a.threads}" if a.threads else "")
                      + " --time-budget SECONDS")
            init_cmd = with_flags(command, {"--out": out.rstrip("/") + "-2",
                                            "--init": os.path.join(a.publish, "model.safetensors")})
            export.write_card(os.path.join(a.publish, "README.md"),
                              export.metadata(cfg, rec), params, command, resume, init_cmd)

    print(f"lmdd train: {cfg['name']}: {len(fs)} frames {fs.width}x{fs.height}x{fs.channels} "
          f"from {len(fs.info)} source(s), {params:,} params, device {device}, "
          f"{torch.get_num_threads()} thread(s), {'resuming at step ' + str(step) if ck else 'new run'}",
          file=sys.stderr, flush=True)

    prog = Progress(a.log_every)
    loss_ema = sum(loss_list[-100:]) / len(loss_list[-100:]) if loss_list else None
    last_ck, start_step = time.time(), step
    decay_end = step0 + a.warmup + a.decay_steps if a.decay_steps else 0
    model.train()
    try:
        while True:
            if a.max_steps and step >= a.max_steps:
                break
            if a.time_budget and time.time() - t0 >= a.time_budget:
                break
            if stop["sig"] is not None:
                break
            lr = lr_at(step - step0, a.lr, a.warmup, a.decay_steps)
            if lr is None:
                break
            x0, cond = sampler.sample(a.batch, gen)
            t = torch.randint(a.timesteps, (a.batch,), generator=gen)
            eps = torch.randn(x0.shape, generator=gen)
            x0, eps, t = x0.to(device), eps.to(device), t.to(device)
            cond = cond.to(device) if cond is not None else None
            xt = sqrt_ab[t].view(-1, 1, 1, 1) * x0 + sqrt_1mab[t].view(-1, 1, 1, 1) * eps
            loss = F.mse_loss(model(xt, t, cond), eps)
            for pg in opt.param_groups:
                pg["lr"] = lr
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if a.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), a.grad_clip)
            opt.step()
            d = min(a.ema, (1 + step) / (10 + step))
            with torch.no_grad():
                for pe, pm in zip(ema.parameters(), model.parameters()):
                    pe.mul_(d).add_(pm.detach(), alpha=1 - d)
            step += 1
            lv = loss.item()
            if not math.isfinite(lv):
                raise RuntimeError(f"loss became {lv} at step {step}; lower --lr")
            loss_list.append(lv)
            loss_ema = lv if loss_ema is None else 0.99 * loss_ema + 0.01 * lv
            el = time.time() - t0
            rate = (step - start_step) / max(el, 1e-9)
            etas, fracs = [], []
            if a.max_steps:
                etas.append((a.max_steps - step) / max(rate, 1e-9))
                fracs.append(step / a.max_steps)
            if decay_end:
                etas.append((decay_end - step) / max(rate, 1e-9))
                fracs.append((step - step0) / (decay_end - step0))
            if a.time_budget:
                etas.append(a.time_budget - el)
                fracs.append(el / a.time_budget)
            prog.show(step, loss_ema, rate, max(0.0, min(etas)) if etas else None,
                      min(1.0, max(fracs)) if fracs else None)
            if (a.ckpt_steps and step % a.ckpt_steps == 0) or \
                    (a.ckpt_every and time.time() - last_ck >= a.ckpt_every):
                checkpoint()
                last_ck = time.time()
    finally:
        for s, h in old_handlers.items():
            signal.signal(s, h)
    if step > start_step or ck is None:
        checkpoint()
    el = time.time() - t0
    prog.show(step, loss_ema if loss_ema is not None else float("nan"),
              (step - start_step) / max(el, 1e-9), 0, 1.0, force=True)
    prog.done()
    why = f"signal {stop['sig']}" if stop["sig"] else "done"
    print(f"lmdd train: {why}: step {step}, checkpoint {ck_path}, model "
          f"{os.path.join(out, 'model.safetensors')}", file=sys.stderr, flush=True)
    return {"step": step, "losses": loss_list, "out": out, "stopped": stop["sig"]}


def main():
    try:
        r = run()
    except data.DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 128 + r["stopped"] if r["stopped"] else 0


if __name__ == "__main__":
    sys.exit(main())

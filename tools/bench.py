#!/usr/bin/env python3
"""bench.py — `make bench`: the engine's speed against PyTorch, in one run.

The fixed benchmark model: 1 channel, 64x64 frames, base 32 channels,
multipliers 1-2-2, 2 residual blocks, attention at level 2, random weights
(seed 0). The fixed work: N images, LMD with S DDIM steps x R attempts
(checkerboard 8x8, MSE). The same work is timed on

  * the C CPU backend (OpenBLAS + OpenMP),
  * the Vulkan backend (whatever device is present: lavapipe on a CPU-only
    machine, the GPU elsewhere),
  * PyTorch (this Python's torch, CPU or CUDA) running train/unet.py and the
    same sampler loop (train/lmd_ref.py's algorithm, float32, torch.randn noise),

each in its own process (so peak memory is its own), with the medians of
RUNS timed calls after a warm-up. Also measured: the machine's sgemm rate
through OpenBLAS, the ceiling for the convolutions. Printed: seconds per
image, GFLOP/s (network FLOPs / time), ratios to PyTorch, fraction of the
sgemm ceiling, peak RSS. Machines are shared and noisy: compare ratios.

    /usr/bin/python3 tools/bench.py [--n 8] [--steps 10] [--reps 2] [--runs 5]
"""
import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
sys.path.insert(0, os.path.join(ROOT, "train"))
sys.path.insert(0, os.path.join(ROOT, "tests"))

CFG = dict(channels=1, base=32, mult=(1, 2, 2), res=2, attn=(2,), groups=8, frame=(64, 64))


def torch_bench(model_path, n, S, R, runs, device):
    import math
    import torch
    import export
    import lmd_ref
    import unet
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", os.cpu_count())))
    model, meta = export.model_from_file(model_path, device)
    abar = unet.alpha_bars(meta["schedule"], 1000)
    H, W = CFG["frame"]
    imgs = torch.rand(n, 1, H, W, device=device)
    tau = lmd_ref.steps(S, 999)

    def once():
        B = n * R
        x0 = (2 * imgs - 1).repeat_interleave(R, dim=0)
        m = torch.stack([torch.from_numpy(lmd_ref.checkerboard(H, W, 8, r)) for _ in range(n)
                         for r in range(R)])[:, None].to(device)
        ab = lambda k: 1.0 if k < 0 else float(abar[tau[k]])  # noqa: E731
        a = ab(S - 1)
        x = math.sqrt(a) * x0 + math.sqrt(1 - a) * torch.randn_like(x0)
        with torch.no_grad():
            for k in range(S - 1, -1, -1):
                at, ap = ab(k), ab(k - 1)
                x = m * (math.sqrt(at) * x0 + math.sqrt(1 - at) * torch.randn_like(x0)) + (1 - m) * x
                e = model(x, torch.full((B,), tau[k], dtype=torch.long, device=device))
                x0p = ((x - math.sqrt(1 - at) * e) / math.sqrt(at)).clamp(-1, 1)
                ep = (x - math.sqrt(at) * x0p) / math.sqrt(1 - at)
                x = math.sqrt(ap) * x0p + math.sqrt(1 - ap) * ep
        x = m * x0 + (1 - m) * x
        rec = ((x + 1) / 2).clamp(0, 1)
        d = ((rec - imgs.repeat_interleave(R, dim=0)) ** 2) * (1 - m)
        s = d.sum(dim=(1, 2, 3)) / (1 - m).sum(dim=(1, 2, 3))
        if device != "cpu":
            torch.cuda.synchronize()
        return s

    times = []
    for r in range(runs + 1):
        t0 = time.perf_counter()
        once()
        times.append(time.perf_counter() - t0)
    med = statistics.median(times[1:])
    return {"backend": "pytorch", "device": f"torch {torch.__version__} {device}", "seconds": med,
            "per_image": med / n, "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=8)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--build", default=os.environ.get("B", "build"))
    ap.add_argument("--torch-only", help=argparse.SUPPRESS)
    ap.add_argument("--device", default=None, help="torch device (default cuda if available, else cpu)")
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--backends", default="cpu,vulkan", help="engine backends to time (lavapipe is slow)")
    a = ap.parse_args()
    # every contender's OpenMP threads sleep when idle (as `lmdd` sets for itself)
    os.environ.setdefault("OMP_WAIT_POLICY", "passive")
    if a.torch_only:
        print(json.dumps(torch_bench(a.torch_only, a.n, a.steps, a.reps, a.runs, a.device or "cpu")))
        return 0

    import make_model
    tool = os.path.join(ROOT, a.build, "tests", "tool_bench")
    tmp = tempfile.mkdtemp(prefix="lmdd-bench-")
    path = os.path.join(tmp, "bench.safetensors")
    make_model.make(path, channels=CFG["channels"], base=CFG["base"], mult=CFG["mult"], res=CFG["res"],
                    attn=CFG["attn"], groups=CFG["groups"], frame=CFG["frame"], seed=0)
    H, W = CFG["frame"]
    res = {}

    def run(cmd):
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode:
            return {"error": (r.stderr or r.stdout).strip().splitlines()[-1] if (r.stderr or r.stdout) else "failed"}
        return json.loads(r.stdout.strip().splitlines()[-1])

    res["sgemm"] = run([tool, "sgemm", "1024", "1024", "1024", "5"])
    print("sgemm:", res["sgemm"], file=sys.stderr, flush=True)
    for be in a.backends.split(","):
        res[be] = run([tool, path, be, str(a.n), str(H), str(W), str(a.steps), str(a.reps), str(a.runs)])
        print(f"{be}:", res[be], file=sys.stderr, flush=True)
    try:
        import torch
        dev = a.device or ("cuda" if torch.cuda.is_available() else "cpu")
    except ImportError:
        dev = "cpu"
    res["pytorch"] = run([sys.executable, __file__, "--torch-only", path, "--n", str(a.n), "--steps",
                          str(a.steps), "--reps", str(a.reps), "--runs", str(a.runs), "--device", dev])
    print("pytorch:", res["pytorch"], file=sys.stderr, flush=True)
    flop = res["cpu"].get("gflop")
    if flop and "seconds" in res["pytorch"]:
        res["pytorch"]["gflop"] = flop
        res["pytorch"]["gflops"] = flop / res["pytorch"]["seconds"]

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    print("lmdd bench — model: 1ch 64x64, base 32, mult 1-2-2, 2 res blocks, attn@2 (random weights)")
    print(f"work: {a.n} images x LMD {a.steps} steps x {a.reps} attempts = {a.steps * a.reps} NFE/image; "
          f"median of {a.runs} runs after a warm-up")
    print(f"machine: {cpu}, {os.cpu_count()} cores; OpenBLAS sgemm 1024^3: "
          f"{res['sgemm'].get('sgemm_gflops', float('nan')):.1f} GFLOP/s")
    print(f"{'backend':10s} {'device':44s} {'s/image':>9s} {'GFLOP/s':>8s} {'vs torch':>9s} {'of sgemm':>9s} {'peak MB':>8s}")
    pt = res["pytorch"].get("per_image")
    for k in a.backends.split(",") + ["pytorch"]:
        r = res[k]
        if "error" in r:
            print(f"{k:10s} error: {r['error']}")
            continue
        ratio = pt / r["per_image"] if pt else float("nan")
        ceil = r.get("gflops", float("nan")) / res["sgemm"].get("sgemm_gflops", float("nan"))
        print(f"{k:10s} {r['device'][:44]:44s} {r['per_image']:9.4f} {r.get('gflops', float('nan')):8.1f} "
              f"{ratio:8.2f}x {100 * ceil:8.0f}% {r['maxrss_mb']:8.0f}")
    print("'vs torch' = PyTorch time / backend time (>1: faster than PyTorch).")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())

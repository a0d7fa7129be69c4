#!/usr/bin/env python3
"""bench.py — `make bench`: the engine's speed against its peers, in one run.

The fixed benchmark model: 1 channel, 64x64 frames, base 32 channels,
multipliers 1-2-2, 2 residual blocks, attention at level 2, random weights
(seed 0). The fixed work: N images, LMD with S DDIM steps x R attempts
(checkerboard 8x8, MSE). The same work is timed on

  * the C CPU backend (OpenBLAS + OpenMP), once per convolution path of
    --cpu-paths (LMDD_CPU_CONV, compute/cpu_conv.h: winograd = fp32 F(4,3),
    bf16 = F(4,3) with bf16 GEMMs where the CPU has AVX-512 BF16),
  * the Vulkan backend (whatever device is present: lavapipe on a CPU-only
    machine, the GPU elsewhere),
  * ONNX Runtime (CPU execution provider) on the same model exported from
    train/unet.py by torch.onnx, driven by tools/bench_ort.js through npm's
    onnxruntime-node (installed outside git, see --ort-dir; skipped, saying
    why, when node or the package is missing),
  * PyTorch (this Python's torch, CPU or CUDA) running train/unet.py and the
    same sampler loop (train/lmd_ref.py's algorithm, float32, torch.randn noise),

each in its own process (so peak memory is its own), with the medians of
RUNS timed calls after a warm-up; --rounds K repeats the whole set K times
(the table then gives medians over the rounds, each ratio the median of the
rounds' ratios: on a shared machine peers measured in the same round see
the same load). Also measured: the machine's sgemm rate through OpenBLAS
and the arithmetic peaks (tool_bench peak: fp32 FMA, bf16 dot product), the
ceilings for the convolutions. Printed: seconds per image, GFLOP/s (network
FLOPs / time: Winograd's counted as the direct convolution's), ratios to
PyTorch and ONNX Runtime, fraction of the sgemm ceiling and of the peak of
the arithmetic the row uses (bf16 dot for the bf16 path, fp32 FMA else),
peak RSS.

    /usr/bin/python3 tools/bench.py [--n 8] [--steps 10] [--reps 2] [--runs 5] [--rounds 1]
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


def onnx_export(model_path, out, batch):
    """The bench model as ONNX (opset 17), batch fixed: inputs x [B,1,H,W], t [B] int64."""
    import torch
    import export
    model, _ = export.model_from_file(model_path, "cpu")
    H, W = CFG["frame"]
    x = torch.zeros(batch, CFG["channels"], H, W)
    t = torch.full((batch,), 999, dtype=torch.long)
    torch.onnx.export(model, (x, t), out, input_names=["x", "t"], output_names=["eps"], opset_version=17)
    # one evaluation for bench_ort.js to check the export against: x (random), t, PyTorch's eps
    g = torch.Generator().manual_seed(1)
    x = torch.randn(batch, CFG["channels"], H, W, generator=g)
    t = torch.randint(0, 1000, (batch,), generator=g)
    with torch.no_grad():
        e = model(x, t)
    x.numpy().astype("float32").tofile(out + ".x")
    e.numpy().astype("float32").tofile(out + ".eps")
    return [int(v) for v in t]


def ort_bench(a, model_path, tmp, run):
    """ONNX Runtime's row, or {"skip": why} when it cannot run here."""
    import shutil
    node = shutil.which("node")
    pkg = os.path.join(a.ort_dir, "node_modules", "onnxruntime-node")
    if not node:
        return {"skip": "node not found (Debian: apt-get install nodejs)"}
    if not os.path.isdir(pkg):
        rel = os.path.relpath(a.ort_dir, ROOT)
        where = a.ort_dir if rel.startswith("..") else rel
        return {"skip": f"onnxruntime-node not installed in {where} "
                        f"(make bench-ort, or ONNXRUNTIME_NODE_INSTALL=skip npm install --prefix {where} onnxruntime-node)"}
    onnx = os.path.join(tmp, "bench.onnx")
    if not os.path.exists(onnx + ".json"):   # exported once, for every round
        r = run([sys.executable, __file__, "--onnx-only", model_path, "--n", str(a.n), "--reps", str(a.reps),
                 "--onnx-out", onnx])
        if "error" in r:
            return {"error": "torch.onnx export: " + r["error"]}
        with open(onnx + ".json", "w") as f:
            json.dump(r, f)
    with open(onnx + ".json") as f:
        r = json.load(f)
    import unet
    tau = [((i + 1) * 1000) // a.steps - 1 for i in range(a.steps)]   # lmd_ref.steps(S, 999)
    abar = unet.alpha_bars("linear", 1000)
    H, W = CFG["frame"]
    job = os.path.join(tmp, "ort-job.json")
    with open(job, "w") as f:
        json.dump({"n": a.n, "reps": a.reps, "H": H, "W": W, "runs": a.runs, "tau": tau, "check_t": r["check_t"],
                   "abar": [float(abar[t]) for t in tau],
                   "threads": int(os.environ.get("OMP_NUM_THREADS", os.cpu_count()))}, f)
    return run([node, os.path.join(HERE, "bench_ort.js"), a.ort_dir, onnx, job])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=8)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=1, help="repeat every contender this many times")
    ap.add_argument("--build", default=os.environ.get("B", "build"))
    ap.add_argument("--torch-only", help=argparse.SUPPRESS)
    ap.add_argument("--onnx-only", help=argparse.SUPPRESS)
    ap.add_argument("--onnx-out", help=argparse.SUPPRESS)
    ap.add_argument("--device", default=None, help="torch device (default cuda if available, else cpu)")
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--backends", default="cpu,vulkan", help="engine backends to time (lavapipe is slow)")
    ap.add_argument("--cpu-paths", default="winograd,bf16",
                    help="the CPU backend's convolution paths to time (LMDD_CPU_CONV values)")
    ap.add_argument("--ort-dir", default=os.environ.get("LMDD_ORT_DIR", os.path.join(ROOT, "build", "ort")),
                    help="folder holding node_modules/onnxruntime-node (default build/ort, or $LMDD_ORT_DIR)")
    ap.add_argument("--peers", default="onnxruntime,pytorch", help="peers to time")
    a = ap.parse_args()
    # every contender's OpenMP threads sleep when idle (as `lmdd` sets for itself)
    os.environ.setdefault("OMP_WAIT_POLICY", "passive")
    if a.torch_only:
        print(json.dumps(torch_bench(a.torch_only, a.n, a.steps, a.reps, a.runs, a.device or "cpu")))
        return 0
    if a.onnx_only:
        print(json.dumps({"onnx": a.onnx_out, "check_t": onnx_export(a.onnx_only, a.onnx_out, a.n * a.reps)}))
        return 0

    import make_model
    tool = os.path.join(ROOT, a.build, "tests", "tool_bench")
    tmp = tempfile.mkdtemp(prefix="lmdd-bench-")
    path = os.path.join(tmp, "bench.safetensors")
    make_model.make(path, channels=CFG["channels"], base=CFG["base"], mult=CFG["mult"], res=CFG["res"],
                    attn=CFG["attn"], groups=CFG["groups"], frame=CFG["frame"], seed=0)
    H, W = CFG["frame"]

    def run(cmd, env=None):
        r = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if r.returncode:
            out = (r.stderr or r.stdout).strip().splitlines()
            return {"error": out[-1] if out else "failed"}
        return json.loads(r.stdout.strip().splitlines()[-1])

    try:
        import torch
        dev = a.device or ("cuda" if torch.cuda.is_available() else "cpu")
    except ImportError:
        dev = "cpu"
    rows = []   # (name, kind): kind "cpu:PATH", "vulkan", "onnxruntime", "pytorch"
    for be in a.backends.split(","):
        if be == "cpu":
            rows += [(f"cpu {p}", f"cpu:{p}") for p in a.cpu_paths.split(",")]
        else:
            rows.append((be, be))
    rows += [(p, p) for p in a.peers.split(",") if p]
    rounds = []
    ceil = {"sgemm": run([tool, "sgemm", "1024", "1024", "1024", "5"]), "peak": run([tool, "peak", "3"])}
    print("ceilings:", ceil, file=sys.stderr, flush=True)
    for k in range(a.rounds):
        res = {}
        for name, kind in rows:
            if kind.startswith("cpu:"):
                env = dict(os.environ, LMDD_CPU_CONV=kind[4:])
                r = run([tool, path, "cpu", str(a.n), str(H), str(W), str(a.steps), str(a.reps), str(a.runs)], env)
                if kind == "cpu:bf16" and "device" in r and "bf16" not in r["device"]:
                    r = {"skip": "this CPU has no AVX-512 BF16 (LMDD_CPU_CONV=bf16 ran fp32)"}
            elif kind in ("vulkan",):
                r = run([tool, path, kind, str(a.n), str(H), str(W), str(a.steps), str(a.reps), str(a.runs)])
            elif kind == "onnxruntime":
                r = ort_bench(a, path, tmp, run)
            elif kind == "pytorch":
                r = run([sys.executable, __file__, "--torch-only", path, "--n", str(a.n), "--steps",
                         str(a.steps), "--reps", str(a.reps), "--runs", str(a.runs), "--device", dev])
            else:
                r = {"error": f"unknown contender {kind}"}
            res[name] = r
            print(f"round {k + 1} {name}:", r, file=sys.stderr, flush=True)
        rounds.append(res)

    flop = next((r[n].get("gflop") for r in rounds for n, _ in rows if "gflop" in r[n]), None)
    sg = ceil["sgemm"].get("sgemm_gflops", float("nan"))
    pk = ceil["peak"]
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        load = " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        load = "?"
    med = statistics.median
    print("lmdd bench — model: 1ch 64x64, base 32, mult 1-2-2, 2 res blocks, attn@2 (random weights)")
    print(f"work: {a.n} images x LMD {a.steps} steps x {a.reps} attempts = {a.steps * a.reps} NFE/image; "
          f"median of {a.runs} runs after a warm-up; {a.rounds} round(s)")
    print(f"machine: {cpu}, {os.cpu_count()} cores, load average {load}; OpenBLAS sgemm 1024^3: {sg:.1f} GFLOP/s; "
          f"peak fp32 FMA {pk.get('fp32_fma_gflops', float('nan')):.1f}, bf16 dot {pk.get('bf16_dot_gflops', float('nan')):.1f} GFLOP/s")
    print(f"{'contender':14s} {'device':46s} {'s/image':>9s} {'GFLOP/s':>8s} {'vs torch':>9s} {'vs ORT':>8s} "
          f"{'of sgemm':>9s} {'of peak':>8s} {'peak MB':>8s}")

    def ratio(name, peer):
        v = [r[peer]["per_image"] / r[name]["per_image"] for r in rounds
             if "per_image" in r.get(peer, {}) and "per_image" in r[name]]
        if not v:
            return "", float("nan")
        return (f" ({min(v):.2f}-{max(v):.2f})" if len(v) > 1 else ""), med(v)

    summary = {}
    for name, kind in rows:
        ok = [r[name] for r in rounds if "per_image" in r[name]]
        if not ok:
            r = rounds[-1][name]
            print(f"{name:14s} {'skipped: ' + r['skip'] if 'skip' in r else 'error: ' + r.get('error', '?')}")
            summary[name] = r
            continue
        pi = med([r["per_image"] for r in ok])
        gf = flop / (pi * a.n) if flop else float("nan")
        peak = pk.get("bf16_dot_gflops" if "bf16" in name else "fp32_fma_gflops") or float("nan")
        rt, vt = ratio(name, "pytorch")
        ro, vo = ratio(name, "onnxruntime")
        fx = lambda v, w: f"{v:{w - 1}.2f}x" if v == v else f"{'-':>{w}s}"  # noqa: E731 (NaN: peer skipped)
        print(f"{name:14s} {ok[-1]['device'][:46]:46s} {pi:9.4f} {gf:8.1f} {fx(vt, 9)} {fx(vo, 8)} "
              f"{100 * gf / sg:8.0f}% {100 * gf / peak:7.0f}% {med([r['maxrss_mb'] for r in ok]):8.0f}")
        if a.rounds > 1:
            print(f"{'':14s} ranges over rounds: s/image {min(r['per_image'] for r in ok):.4f}-"
                  f"{max(r['per_image'] for r in ok):.4f}, vs torch{rt or ' -'}, vs ORT{ro or ' -'}")
        summary[name] = {"per_image": pi, "gflops": gf, "vs_torch": vt, "vs_ort": vo, "device": ok[-1]["device"]}
    print("'vs torch' / 'vs ORT' = the peer's time / this row's time (>1: faster than the peer), "
          "the median of the rounds' ratios.")
    print("'of sgemm' / 'of peak': GFLOP/s counted as direct convolutions over OpenBLAS's sgemm rate and over "
          "the arithmetic peak the row uses (bf16 dot for bf16 rows, else fp32 FMA); Winograd F(4,3) does 1/4 "
          "of the direct multiplications of a 3x3 convolution, so the engine's rows can pass 100%.")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"ceilings": ceil, "rounds": rounds, "summary": summary, "load": load}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())

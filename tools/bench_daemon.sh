#!/usr/bin/env bash
# bench_daemon.sh — measures the daemon end to end, per backend:
#  1. latency: one stream, every analysed frame published (threshold 0,
#     update_interval 0, JPEG snapshot on): p50/p99 of decoded -> scored and
#     decoded -> event published, from the daemon's own lmdd.status;
#  2. capacity: k = 1, 2, 4, ... streams of a looping Ped2 clip played in
#     real time, each analysed at BENCH_FPS; a k is sustained when the frames
#     analysed reach 90% of k x BENCH_FPS after a warm-up. Reports the
#     largest sustained k and the engine's frames/s at saturation.
#
#   tools/bench_daemon.sh [cpu] [vulkan]     (default: cpu, and vulkan if
#                                             `lmdd devices` lists a device)
# Environment: BENCH_MODEL (models/ucsd-ped2/model.safetensors), BENCH_FPS (1),
#   BENCH_SECONDS per run (20), BENCH_WARMUP (6), BENCH_STEPS (10),
#   BENCH_REPS (2), BENCH_BATCH (8), BENCH_MAX_STREAMS (32),
#   BENCH_CLIP (samples/ped2-12.mkv, 85 frames of Ped2 test clip 12, looped), B (build).
# Prints a Markdown table (also written to $BENCH_OUT, default
# build/bench-daemon.md) with the machine and the command line.
set -euo pipefail
cd "$(dirname "$0")/.."
export B=${B:-build}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
[ -x "$B/lmdd" ] || { echo "bench_daemon: $B/lmdd missing: run make" >&2; exit 1; }
exec /usr/bin/python3 - "$@" <<'PYEOF'
import json, os, platform, subprocess, sys, tempfile, time
import zmq

B = os.environ["B"]
LMDD = os.path.abspath(os.path.join(B, "lmdd"))
MODEL = os.path.abspath(os.environ.get("BENCH_MODEL", "models/ucsd-ped2/model.safetensors"))
FPS = float(os.environ.get("BENCH_FPS", "1"))
SECS = float(os.environ.get("BENCH_SECONDS", "20"))
WARM = float(os.environ.get("BENCH_WARMUP", "6"))
STEPS = int(os.environ.get("BENCH_STEPS", "10"))
REPS = int(os.environ.get("BENCH_REPS", "2"))
BATCH = int(os.environ.get("BENCH_BATCH", "8"))
KMAX = int(os.environ.get("BENCH_MAX_STREAMS", "32"))
CLIP = os.path.abspath(os.environ.get("BENCH_CLIP", "samples/ped2-12.mkv"))
OUTMD = os.environ.get("BENCH_OUT", os.path.join(B, "bench-daemon.md"))

if not os.path.exists(MODEL):
    sys.exit(f"bench_daemon: no model at {MODEL} (set BENCH_MODEL)")
backends = sys.argv[1:]
if not backends:
    backends = ["cpu"]
    r = subprocess.run([LMDD, "devices"], capture_output=True, text=True)
    if r.returncode == 0 and r.stdout.strip():
        backends.append("vulkan")


def run(backend, k, fps, threshold, update, seconds):
    """Run k streams; return the list of status dicts received."""
    d = tempfile.mkdtemp(prefix="lmdd-bench.")
    ep = "ipc://" + os.path.join(d, "pub.sock")
    conf = os.path.join(d, "lmdd.conf")
    with open(conf, "w") as f:
        f.write(f"[daemon]\nmodel = {MODEL}\nbackend = {backend}\nsteps = {STEPS}\nreps = {REPS}\n"
                f"batch_max = {BATCH}\npublish = {ep}\nstatus_interval = 1\n"
                f"update_interval = {update}\nlog_level = warning\nlinger = 0\n")
        for i in range(k):
            f.write(f"\n[stream s{i}]\nurl = {CLIP}\nfps = {fps}\nloop = on\n"
                    f"threshold = {threshold}\nmin_duration = 1\n")
    ctx = zmq.Context()
    sub = ctx.socket(zmq.SUB)
    sub.setsockopt(zmq.SUBSCRIBE, b"lmdd.status")
    sub.connect(ep)
    p = subprocess.Popen([LMDD, "run", "--config", conf], stderr=subprocess.PIPE, text=True)
    st, t0 = [], time.monotonic()
    while time.monotonic() - t0 < seconds and p.poll() is None:
        if sub.poll(200):
            parts = sub.recv_multipart()
            st.append((time.monotonic() - t0, json.loads(parts[1])))
    p.terminate()
    err = p.communicate(timeout=60)[1]
    sub.close(0)
    ctx.term()
    if not st:
        sys.exit(f"bench_daemon: no status from the daemon:\n{err[-2000:]}")
    return st


def rate(st, key_fn):
    """Rate of a counter between the first status after warm-up and the last."""
    w = [x for x in st if x[0] >= WARM] or st
    (ta, a), (tb, b) = w[0], st[-1]
    return (key_fn(b) - key_fn(a)) / (tb - ta) if tb > ta else 0.0


rows = []
for be in backends:
    st = run(be, 1, FPS, 0, 0, SECS)
    last = st[-1][1]
    lat = last["latency_ms"]
    dev = last["device"]
    # 2. capacity
    k, best, sat_fps = 1, 0, 0.0
    while k <= KMAX:
        s = run(be, k, FPS, 1e30, 60, SECS)
        got = rate(s, lambda j: sum(x["analysed"] for x in j["streams"]))
        scored = rate(s, lambda j: j["frames_scored"])
        sat_fps = max(sat_fps, scored)
        print(f"  {be}: {k} stream(s) at {FPS:g} fps -> {got:.2f} frames/s analysed", file=sys.stderr)
        if got < 0.9 * k * FPS:
            break
        best = k
        k *= 2
    rows.append((be, dev, lat, best, sat_fps))

cpu = platform.processor() or platform.machine()
try:
    cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
except StopIteration:
    pass
info = lmdd_info = subprocess.run([LMDD, "info", "--model", MODEL], capture_output=True, text=True).stdout
name = next((l.split(":", 1)[1].strip() for l in info.splitlines() if l.startswith("model:")), "?")
out = [f"Model `{name}` ({os.path.relpath(MODEL)}), steps {STEPS}, reps {REPS}, batch_max {BATCH}; "
       f"clip {os.path.basename(CLIP)} looping in real time; {SECS:g} s per run, {WARM:g} s warm-up. "
       f"Machine: {cpu}, {os.cpu_count()} CPUs.", "",
       "| backend | device | scored p50 / p99 (ms) | published p50 / p99 (ms) | streams sustained at "
       f"{FPS:g} fps | engine frames/s at saturation |",
       "|---|---|---|---|---|---|"]
for be, dev, lat, best, sat in rows:
    out.append(f"| {be} | {dev} | {lat['scored']['p50']:.0f} / {lat['scored']['p99']:.0f} | "
               f"{lat['published']['p50']:.0f} / {lat['published']['p99']:.0f} | {best} | {sat:.2f} |")
out += ["", "Reproduce: `" + " ".join(
    [f"BENCH_{k}={v}" for k, v in (("FPS", f"{FPS:g}"), ("STEPS", STEPS), ("REPS", REPS), ("SECONDS", f"{SECS:g}"))]
    + ["tools/bench_daemon.sh"] + backends) + "`"]
text = "\n".join(out)
print(text)
os.makedirs(os.path.dirname(OUTMD) or ".", exist_ok=True)
with open(OUTMD, "w") as f:
    f.write(text + "\n")
PYEOF

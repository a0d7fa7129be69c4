#!/usr/bin/env python3
"""test_daemon_timestamps.py — the daemon, `lmdd calibrate` and `lmdd score`
read frames through one frame loop (media/feed.h), so on a source with
broken time stamps they give a conditioned model the same history frames.

Two clips whose stamps break at 10 fps: one repeats stamps (0, .1, .1, .1,
.4, ...), one is two MPEG-TS recordings joined (the stamps step back 1.5 s
at the join). The model (random weights, tests/make_model.py) takes two
previous frames 0.1 s apart; a frame's score depends on which frames it was
given. For each clip, `lmdd run` (every frame, batch 1, threshold 0: every
scored frame is in its log) must score the frames `lmdd calibrate` scores
(its sidecar's frame count and mean) and each with the score `lmdd score
--batch 1` gives that frame.
"""
import json
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemon_util as du  # noqa: E402

SAMPLER = dict(steps=2, reps=1, t0=100)


def clips(d):
    dup = os.path.join(d, "repeated.mkv")
    du.ffmpeg("-f", "lavfi", "-i", "testsrc=s=96x64:r=10:d=3", "-vf",
              "setpts='(N-mod(N,4)*gt(mod(N,4),1))*0.1/TB'", "-fps_mode", "passthrough",
              "-c:v", "ffv1", dup)
    half = os.path.join(d, "half.ts")
    du.ffmpeg("-f", "lavfi", "-i", "testsrc2=s=96x64:r=10:d=1.5", "-c:v", "mpeg2video", "-q:v", "2",
              "-g", "1", "-bf", "0", half)
    joined = os.path.join(d, "joined.ts")
    with open(joined, "wb") as f:
        f.write(open(half, "rb").read() * 2)
    return {"repeated": dup, "joined": joined}


def probe_pts(path):
    r = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries",
                        "frame=pts_time", "-of", "csv=p=0", path], capture_output=True, text=True)
    return [float(x.strip(" ,")) for x in r.stdout.split() if x.strip(" ,")]


def daemon_scores(d, name, clip, model):
    """frame -> score of every frame the daemon scored, from its debug log"""
    ep = "ipc://" + os.path.join(d, name + ".sock")
    conf = du.write_config(os.path.join(d, name + ".conf"), {
        name: dict(url=clip, fps=0, realtime="off", threshold=0, min_duration=1, hysteresis=1),
    }, publish=ep, model=model, batch_max=1, update_interval=0, log_level="debug", **SAMPLER)
    dm = du.Daemon(conf, ["--exit-at-end"])
    rc = dm.run_to_end(120)
    got = {}
    for m in re.finditer(r"event (?:start|update) \S+ stream \S+ frame (\d+) score (\S+)", dm.log()):
        got[int(m.group(1))] = float(m.group(2))
    return rc, got, dm.log()


def main():
    d = du.tmpdir("lmdd-stamps.")
    model = os.path.join(d, "cond2.safetensors")
    if not du.check("stamps_model_made", *du.make_model(model, "--cond", "2", "--cond-interval", "0.1")):
        du.done()
    cs = clips(d)
    pts = {k: probe_pts(v) for k, v in cs.items()}
    ok = (any(b <= a for a, b in zip(pts["repeated"], pts["repeated"][1:]))
          and any(b < a - 1 for a, b in zip(pts["joined"], pts["joined"][1:])))
    du.check("stamps_clips_are_broken", ok, pts)
    flags = [f"--{k}={v}" for k, v in SAMPLER.items()] + ["--backend", "cpu", "--batch", "1", "--model", model]
    for name, clip in cs.items():
        r = subprocess.run([du.LMDD, "score", *flags, "--format", "csv", clip], capture_output=True, text=True)
        cli = {int(f): float(s) for _, f, s in (l.rsplit(",", 2) for l in r.stdout.splitlines()[1:])}
        side = os.path.join(d, name + ".calib.json")
        rc = subprocess.run([du.LMDD, "calibrate", *flags, "--out", side, clip], capture_output=True,
                            text=True)
        cal = json.load(open(side)) if rc.returncode == 0 else {}
        drc, run, log = daemon_scores(d, name, clip, model)
        du.check(f"stamps_{name}_all_ran", r.returncode == 0 and rc.returncode == 0 and drc == 0 and run and cal,
                 (r.returncode, r.stderr[-300:], rc.returncode, rc.stderr[-300:], drc, log[-1500:]))
        # the daemon scores what calibrate scores: frames whose history is held
        vals = [run[k] for k in sorted(run)]
        mean = sum(vals) / len(vals) if vals else float("nan")
        du.check(f"stamps_{name}_run_scores_what_calibrate_scores",
                 cal.get("frames") == len(run) and abs(mean - cal["stats"]["mean"]) <= 1e-6 * abs(mean),
                 (cal.get("frames"), len(run), sorted(run), mean, cal.get("stats")))
        # ... with the history `lmdd score` gives those frames
        bad = [(k, run[k], cli.get(k)) for k in sorted(run)
               if cli.get(k) is None or abs(run[k] - cli[k]) > 1e-6 * abs(cli[k])]
        du.check(f"stamps_{name}_run_history_is_score_history", run and not bad, bad[:8])
    shutil.rmtree(d, ignore_errors=True)
    du.done()


if __name__ == "__main__":
    main()

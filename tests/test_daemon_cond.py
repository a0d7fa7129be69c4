#!/usr/bin/env python3
"""test_daemon_cond.py — a model with condition frames (cond_frames = 2,
random weights from tests/make_model.py): the daemon keeps each stream's
previous frames and passes them as cond. Every frame of a 30-frame clip is
scored except the first two (no history yet), the engine accepts the batches
(no errors), and two streams batch together. With analysis at half the
source rate the history is still the two immediately preceding source
frames, so the counts follow the analysis rate, not the history; the rate
clock starts at the first frame that has its history. The model records a
0.1 s history spacing (its training videos' 10 fps): a 30 fps camera's
frames wait for 0.2 s of history, not two frames (media/history.h).
"""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemon_util as du  # noqa: E402


def main():
    d = du.tmpdir("lmdd-cond.")
    model = os.path.join(d, "cond2.safetensors")
    if not du.check("cond_model_made", *du.make_model(model, "--cond", "2", "--cond-interval", "0.1")):
        du.done()
    clip = os.path.join(d, "clip.mkv")
    du.make_clip(clip, seconds=3)   # 30 frames
    clip30 = os.path.join(d, "clip30.mkv")
    du.make_clip(clip30, seconds=3, fps=30)   # 90 frames
    ep = "ipc://" + os.path.join(d, "pub.sock")
    conf = du.write_config(os.path.join(d, "lmdd.conf"), {
        "a": dict(url=clip, fps=0, realtime="off", threshold=1e9),
        "b": dict(url=clip, fps=1, realtime="off", threshold=1e9),
        "c": dict(url=clip30, fps=0, realtime="off", threshold=1e9),
    }, publish=ep, model=model, steps=2, reps=1, t0=100, status_interval=0.5)
    sub = du.Subscriber(ep)
    dm = du.Daemon(conf, ["--exit-at-end"])
    rc = dm.run_to_end(180)
    sub.wait_for(lambda: any(all(x["state"] == "ended" for x in s["streams"]) for s in sub.statuses()), 3)
    sub.close()
    st = sub.statuses()
    last = st[-1] if st else {}
    a, b = du.stream_status(last, "a") or {}, du.stream_status(last, "b") or {}
    c = du.stream_status(last, "c") or {}
    du.check("cond_daemon_runs", rc == 0 and last.get("engine_errors") == 0, (rc, dm.log()[-2000:]))
    # a: frames 2..29 (28); b: 1 fps of 10 by pts, from the first frame with
    # full history: frames 2, 12, 22 = 3 (a frame without history must not
    # use up the analysis slot: that gave only 10 and 20)
    du.check("cond_history_frames_skipped", a.get("analysed") == 28 and a.get("frames_in") == 30
             and b.get("analysed") == 3, (a, b))
    # c: 30 fps, history 0.1 and 0.2 s back: frames 6..89 (84), not 2..89
    du.check("cond_history_by_time", c.get("analysed") == 84 and c.get("frames_in") == 90
             and last.get("frames_scored") == 31 + 84, (c, last.get("frames_scored")))
    shutil.rmtree(d, ignore_errors=True)
    du.done()


if __name__ == "__main__":
    main()

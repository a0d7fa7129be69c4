#!/usr/bin/env python3
"""test_daemon_reload_model.py — a reload (SIGHUP) that brings another model
is refused whole, with a message that says a restart is needed: the engine
holds the old weights, and the new model's calibration (threshold, sampler
settings) would be wrong for them. Both ways a model changes: `model =`
names another file, or the file is rewritten in place (a retrained model,
with its new sidecar). The thresholds in force stay the old calibration's.
A recalibration of the same model file is still taken at once.
"""
import json
import os
import shutil
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemon_util as du  # noqa: E402


def sidecar(model, threshold):
    with open(model + ".calib.json", "w") as f:
        json.dump({"threshold": threshold}, f)


def main():
    d = du.tmpdir("lmdd-remodel.")
    a, b = os.path.join(d, "a.safetensors"), os.path.join(d, "b.safetensors")
    shutil.copy(du.FIXTURE, a)
    shutil.copy(du.FIXTURE, b)
    sidecar(a, 0.002)
    sidecar(b, 0.5)
    other = os.path.join(d, "other.safetensors")   # same shape, other weights
    if not du.check("remodel_fixtures", *du.make_model(other, "--seed", "5")):
        du.done()
    clip = os.path.join(d, "calm.mkv")
    du.make_clip(clip, seconds=3)
    ep = "ipc://" + os.path.join(d, "pub.sock")
    streams = {"calm": dict(url=clip, fps=2, loop="on")}   # threshold: the calibration's
    conf = os.path.join(d, "lmdd.conf")
    du.write_config(conf, streams, publish=ep, model=a, status_interval=0.3)
    sub = du.Subscriber(ep, topics=(b"lmdd.status",))
    dm = du.Daemon(conf)

    def threshold_after(t):
        """the stream's threshold in the first status sent after monotonic time t"""
        def got():
            with sub.lock:
                return [json.loads(p[1]) for tm, p in sub.msgs if tm > t]
        sub.wait_for(lambda: got(), 10)
        st = got()
        return (du.stream_status(st[0], "calm") or {}).get("threshold") if st else None

    def reload(expect_in_log, timeout=20):
        n = dm.log().count(expect_in_log)
        dm.signal(signal.SIGHUP)
        t = time.monotonic()
        while time.monotonic() - t < timeout and dm.log().count(expect_in_log) <= n:
            time.sleep(0.1)
        return time.monotonic()

    try:
        ok = sub.wait_for(lambda: sub.statuses(), 60)
        du.check("remodel_runs_on_a", ok and threshold_after(0) == 0.002, dm.log()[-1000:])

        # model = another file: refused
        du.write_config(conf, streams, publish=ep, model=b, status_interval=0.3)
        t = reload("reload refused")
        log = dm.log()
        du.check("remodel_other_path_refused",
                 "reload refused: model changed from" in log and "needs a restart" in log
                 and threshold_after(t) == 0.002 and dm.p.poll() is None,
                 (threshold_after(t), log[-1200:]))

        # the same path, the file rewritten with another model and its sidecar: refused
        du.write_config(conf, streams, publish=ep, model=a, status_interval=0.3)
        shutil.copy(other, a + ".new")
        os.replace(a + ".new", a)
        sidecar(a, 0.7)
        t = reload("changed since it was loaded")
        log = dm.log()
        du.check("remodel_rewritten_file_refused",
                 "the model file" in log and "changed since it was loaded" in log
                 and threshold_after(t) == 0.002, (threshold_after(t), log[-1200:]))

        # the original file back, recalibrated: taken
        shutil.copy(du.FIXTURE, a + ".new")
        os.replace(a + ".new", a)
        sidecar(a, 0.003)
        t = reload("reloaded:")
        du.check("remodel_recalibration_taken", threshold_after(t) == 0.003, dm.log()[-1000:])
    finally:
        rc = dm.stop()
        sub.close()
        shutil.rmtree(d, ignore_errors=True)
    du.check("remodel_stops_clean", rc == 0, rc)
    du.done()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""test_daemon_lifecycle.py — `lmdd run` under the systemd protocol, with a
unix datagram socket of ours as $NOTIFY_SOCKET and WATCHDOG_USEC set:
READY=1 (after model and engine are up), STATUS= lines, WATCHDOG=1 pings;
SIGHUP with a broken file (RELOADING=1, READY=1, keeps running on the old
one), SIGHUP with a changed file (only the changed stream restarts, a new
one starts, an unchanged one runs on without a gap and its open event stays
open); SIGTERM: STOPPING=1, the open event is closed with an "end"
(reason "shutdown") that reaches the subscriber, exit 0.
"""
import os
import shutil
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemon_util as du  # noqa: E402


class Notify:
    def __init__(self, path):
        self.path = path
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.s.bind(path)
        self.s.settimeout(0.2)
        self.msgs = []   # (monotonic, text)

    def pump(self, seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                self.msgs.append((time.monotonic(), self.s.recv(4096).decode()))
            except socket.timeout:
                pass

    def wait(self, pred, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if any(pred(m) for _, m in self.msgs):
                return True
            self.pump(0.2)
        return any(pred(m) for _, m in self.msgs)

    def since(self, t):
        return [m for tm, m in self.msgs if tm >= t]


def main():
    d = du.tmpdir("lmdd-life.")
    always = os.path.join(d, "always.mkv")
    calm = os.path.join(d, "calm.mkv")
    du.make_clip(always, seconds=3, anomaly=(0, 10))   # anomalous all along
    du.make_clip(calm, seconds=3)
    ep = "ipc://" + os.path.join(d, "pub.sock")
    # min_duration = 3 analysed frames at 2 fps of a realtime file: the "start"
    # comes >= 1 s after the stream opens whatever the machine's speed. With 1
    # it went out with the very first frame scored, which a fast machine did
    # before the subscriber's connect was through (a PUB socket drops it).
    streams = {
        "always": dict(url=always, fps=2, loop="on", threshold=du.THRESHOLD, min_duration=3),
        "calm": dict(url=calm, fps=2, loop="on", threshold=du.THRESHOLD),
    }
    conf = os.path.join(d, "lmdd.conf")
    du.write_config(conf, streams, publish=ep, update_interval=60, status_interval=0.5)
    n = Notify(os.path.join(d, "notify.sock"))
    sub = du.Subscriber(ep)
    t_start = time.monotonic()
    dm = du.Daemon(conf, env={"NOTIFY_SOCKET": n.path, "WATCHDOG_USEC": "2000000"})
    try:
        ok = n.wait(lambda m: "READY=1" in m, 60)
        ready = [m for _, m in n.msgs if "READY=1" in m]
        du.check("lifecycle_ready", ok and "STATUS=2 streams" in ready[0], n.msgs[:5])
        n.pump(3)
        st = [m for _, m in n.msgs if m.startswith("STATUS=") and "streams running" in m]
        du.check("lifecycle_status_lines", len(st) >= 2, n.msgs[-5:])
        wd = [tm for tm, m in n.msgs if m == "WATCHDOG=1"]
        gaps = [b - a for a, b in zip(wd, wd[1:])]
        du.check("lifecycle_watchdog_pings", len(wd) >= 3 and max(gaps) < 2.0, (len(wd), gaps))

        # an event opens on the anomalous stream
        ok = sub.wait_for(lambda: any(j["type"] == "start" for j, _ in sub.events("always")), 60)
        du.check("lifecycle_event_opens", ok, dm.log()[-1500:])
        start_id = next((j["id"] for j, _ in sub.events("always") if j["type"] == "start"), None)

        # 1. a broken file: reload refused, old config kept
        good = open(conf).read()
        with open(conf, "w") as f:
            f.write(good + "\n[stream broken]\nspeed = 3\n")
        t = time.monotonic()
        dm.signal(signal.SIGHUP)
        end = time.monotonic() + 30
        while time.monotonic() < end and not any(m.startswith("READY=1") for m in n.since(t)):
            n.pump(0.2)
        after = n.since(t)
        rel = [i for i, m in enumerate(after) if m.startswith("RELOADING=1")]
        rdy = [i for i, m in enumerate(after) if m.startswith("READY=1")]
        ok = (rel and rdy and rel[0] < rdy[0] and "MONOTONIC_USEC=" in after[rel[0]]
              and dm.p.poll() is None and "unknown key 'speed' in [stream broken]" in dm.log()
              and "reload failed" in dm.log())
        du.check("lifecycle_reload_bad_file_kept_running", ok, (after, dm.log()[-1500:]))

        # 2. calm changes (fps), extra is new, always is untouched
        def snap():
            sts = sub.statuses()
            return sts[-1] if sts else {}
        before = du.stream_status(snap(), "always") or {}
        streams["calm"]["fps"] = 3
        streams["extra"] = dict(url=calm, fps=1, loop="on", threshold=du.THRESHOLD)
        du.write_config(conf, streams, publish=ep, update_interval=60, status_interval=0.5)
        t = time.monotonic()
        dm.signal(signal.SIGHUP)
        end = time.monotonic() + 30
        while time.monotonic() < end and not any(m.startswith("READY=1") for m in n.since(t)):
            n.pump(0.2)
        after = n.since(t)
        rel = [i for i, m in enumerate(after) if m.startswith("RELOADING=1")]
        rdy = [i for i, m in enumerate(after) if m.startswith("READY=1")]
        du.check("lifecycle_reload_notify", bool(rel and rdy and rel[0] < rdy[0]), after)
        ok = sub.wait_for(lambda: (du.stream_status(snap(), "extra") or {}).get("frames_in", 0) > 0, 30)
        s = snap()
        a, c = du.stream_status(s, "always") or {}, du.stream_status(s, "calm") or {}
        ok = (ok and a.get("frames_in", 0) > before.get("frames_in", 1 << 30) and a.get("event_open")
              and c.get("frames_in", 1 << 30) < 40 and a.get("reconnects") == 0
              and "stream calm: changed, restarting" in dm.log()
              and "1 stream unchanged, 1 stopped, 2 started" in dm.log())
        no_reconf_end = not any(j["type"] == "end" for j, _ in sub.events("always"))
        du.check("lifecycle_reload_restarts_only_changed", ok and no_reconf_end,
                 (before, a, c, dm.log()[-1500:]))

        # 3. SIGTERM: STOPPING=1, the open event ends with reason shutdown, exit 0
        t = time.monotonic()
        dm.signal(signal.SIGTERM)
        rc = dm.wait(30)
        n.pump(0.5)
        sub.wait_for(lambda: any(j["type"] == "end" for j, _ in sub.events("always")), 3)
        ends = [j for j, _ in sub.events("always") if j["type"] == "end"]
        du.check("lifecycle_sigterm_stopping", rc == 0 and any(m.startswith("STOPPING=1") for m in n.since(t)),
                 (rc, n.since(t), dm.log()[-1000:]))
        du.check("lifecycle_sigterm_flushes_open_event",
                 len(ends) == 1 and ends[0]["reason"] == "shutdown" and ends[0]["id"] == start_id, ends)
    finally:
        dm.stop()
        sub.close()
        shutil.rmtree(d, ignore_errors=True)
    print(f"  ({time.monotonic() - t_start:.1f} s)")
    du.done()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""test_daemon_rtsp.py — a real RTSP camera (tools/rtsp_server.py, GStreamer)
killed mid-stream and restarted: the daemon notices, backs off, reconnects,
resumes, counts the reconnect and the gap; a second stream (a looping file)
runs on untouched the whole time. Then the camera freezes (SIGSTOP: the
connection stays open, nothing arrives): the I/O timeout catches it. Everything is checked through the
lmdd.status messages a subscriber receives.
"""
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemon_util as du  # noqa: E402

SERVER = os.path.join(du.ROOT, "tools", "rtsp_server.py")


def start_server(port):
    p = subprocess.Popen(["/usr/bin/python3", SERVER, "--port", str(port), "--size", "192x128",
                          "--fps", "10"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = p.stdout.readline()
    return p, line.startswith("READY")


def main():
    d = du.tmpdir("lmdd-rtsp.")
    clip = os.path.join(d, "file.mkv")
    du.make_clip(clip, seconds=3)
    port = du.free_port()
    url = f"rtsp://127.0.0.1:{port}/cam"
    srv, ok = start_server(port)
    if not du.check("rtsp_server_starts", ok):
        srv.kill()
        du.done()
    ep = "ipc://" + os.path.join(d, "pub.sock")
    conf = du.write_config(os.path.join(d, "lmdd.conf"), {
        "cam": dict(url=url, fps=5, threshold=1e9, timeout=2),
        "file": dict(url=clip, fps=5, loop="on", threshold=1e9),
    }, publish=ep, status_interval=0.5, reconnect_min=0.3, reconnect_max=2, reps=1, steps=2)
    sub = du.Subscriber(ep, topics=(b"lmdd.status",))
    dm = du.Daemon(conf)

    def last(name):
        st = sub.statuses()
        return du.stream_status(st[-1], name) if st else None
    try:
        ok = sub.wait_for(lambda: (last("cam") or {}).get("frames_in", 0) >= 10, 60)
        du.check("rtsp_frames_arrive", ok, dm.log()[-2000:])
        n_before = len(sub.statuses())

        # the camera dies
        srv.send_signal(signal.SIGKILL)
        srv.wait()
        t_kill = time.monotonic()
        ok = sub.wait_for(lambda: (last("cam") or {}).get("state") in ("reconnecting", "connecting")
                          and (last("cam") or {}).get("connect_failures", 0) >= 1, 20)
        du.check("rtsp_loss_detected_and_retried", ok, (last("cam"), dm.log()[-1500:]))
        time.sleep(max(0, 3 - (time.monotonic() - t_kill)))

        # ... and comes back on the same port
        srv, ok = start_server(port)
        frames_back = (last("cam") or {}).get("frames_in", 0)
        ok = ok and sub.wait_for(lambda: (last("cam") or {}).get("state") == "running"
                                 and (last("cam") or {}).get("frames_in", 0) >= frames_back + 10, 40)
        c = last("cam") or {}
        du.check("rtsp_reconnects_and_resumes", ok and c.get("reconnects") == 1, (c, dm.log()[-2000:]))
        du.check("rtsp_gap_counted", 2.5 <= c.get("gap_s", 0) < 30, c)

        # the file stream never noticed
        seq = [du.stream_status(s, "file") for s in sub.statuses()[n_before:]]
        seq = [s for s in seq if s]
        ins = [s["frames_in"] for s in seq]
        ok = (len(seq) >= 6 and all(s["state"] == "running" for s in seq)
              and all(s["reconnects"] == 0 and s["connect_failures"] == 0 for s in seq)
              and all(b > a for a, b in zip(ins, ins[1:])) and all(s["fps_in"] > 0 for s in seq))
        du.check("rtsp_other_stream_uninterrupted", ok, [(s["state"], s["frames_in"], s["fps_in"]) for s in seq])
        # a frozen camera: the connection stays open but nothing comes
        # (SIGSTOP); the I/O timeout (2 s) notices, and it reconnects once
        # the camera thaws
        srv.send_signal(signal.SIGSTOP)
        ok = sub.wait_for(lambda: "timeout" in (last("cam") or {}).get("last_error", ""), 20)
        srv.send_signal(signal.SIGCONT)
        ok = ok and sub.wait_for(lambda: (last("cam") or {}).get("reconnects") == 2
                                 and (last("cam") or {}).get("state") == "running", 40)
        du.check("rtsp_stall_times_out_and_reconnects", ok, (last("cam"), dm.log()[-1500:]))
        rc = dm.stop()
        du.check("rtsp_daemon_stops_clean", rc == 0, rc)
    finally:
        dm.stop()
        srv.kill()
        srv.wait()
        sub.close()
        shutil.rmtree(d, ignore_errors=True)
    du.done()


if __name__ == "__main__":
    main()

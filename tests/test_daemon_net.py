#!/usr/bin/env python3
"""test_daemon_net.py — network sources other than RTSP (test_daemon_rtsp.py),
end to end with real senders, all in one daemon:

- http: a clip served by Python's http.server is read and analysed; a
  network URL is a camera, so when the server's file ends the daemon treats
  it as a lost connection and reconnects (docs/daemon.md, Ingest);
- a URL on the same server that answers 404 is reported in the status with
  the reason and retried, without stopping the other streams;
- udp: the daemon listens, ffmpeg sends MPEG-TS (MPEG-2 video) to it;
- srt: ffmpeg listens, the daemon calls (and retries until the sender is up).
"""
import functools
import http.server
import os
import re
import shutil
import socket
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemon_util as du  # noqa: E402


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass


def sender(clip, url):
    """ffmpeg playing clip in real time, looped, as MPEG-TS to url."""
    return subprocess.Popen(["ffmpeg", "-v", "error", "-re", "-stream_loop", "-1", "-i", clip,
                             "-c:v", "mpeg2video", "-q:v", "4", "-g", "5", "-f", "mpegts", url],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def last(st, name):
    return next((du.stream_status(s, name) for s in reversed(st) if du.stream_status(s, name)), {})


def main():
    d = du.tmpdir("lmdd-net.")
    clip = os.path.join(d, "clip.mkv")
    du.make_clip(clip, seconds=3)   # 30 frames
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=d))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{srv.server_address[1]}"
    udp = du.free_port(socket.SOCK_DGRAM)
    srt = du.free_port(socket.SOCK_DGRAM)
    ep = "ipc://" + os.path.join(d, "pub.sock")
    conf = du.write_config(os.path.join(d, "lmdd.conf"), {
        "web": dict(url=base + "/clip.mkv", fps=0, threshold=1e9),
        "gone": dict(url=base + "/missing.mkv", fps=0, threshold=1e9),
        "udp": dict(url=f"udp://127.0.0.1:{udp}", fps=5, threshold=1e9),
        "srt": dict(url=f"srt://127.0.0.1:{srt}", fps=5, threshold=1e9),
    }, publish=ep, model=du.FIXTURE, steps=2, reps=1, t0=100, status_interval=0.5,
        reconnect_min=0.2, reconnect_max=0.5)
    sub = du.Subscriber(ep)
    dm = du.Daemon(conf)
    senders = [sender(clip, f"udp://127.0.0.1:{udp}?pkt_size=1316"),
               sender(clip, f"srt://127.0.0.1:{srt}?mode=listener")]

    def done(s):
        web, u, r = (du.stream_status(s, n) or {} for n in ("web", "udp", "srt"))
        return (web.get("reconnects", 0) >= 1 and web.get("analysed", 0) >= 1
                and u.get("analysed", 0) >= 3 and r.get("analysed", 0) >= 3)
    ok = sub.wait_for(lambda: any(done(s) for s in sub.statuses()), 120)
    sub.wait_for(lambda: False, 1.0)   # a few more status messages
    dm.stop()
    for p in senders:
        p.kill()
    errs_s = [p.communicate()[1].decode(errors="replace")[-300:] for p in senders]
    sub.close()
    srv.shutdown()
    st = sub.statuses()
    log = dm.log()
    web, u, r = last(st, "web"), last(st, "udp"), last(st, "srt")
    du.check("http_stream_read_and_reconnected",
             web.get("frames_in", 0) >= 30 and web.get("analysed", 0) >= 1 and web.get("reconnects", 0) >= 1
             and web.get("corrupt") == 0 and "opened " + base + "/clip.mkv" in log
             and "stream web: connection lost: source ended the stream" in log,
             (ok, web, log[-1500:]))
    errs = [g.get("last_error", "") for g in (du.stream_status(s, "gone") or {} for s in st) if g.get("last_error")]
    du.check("http_404_reported_and_retried",
             any("404" in e or "Not Found" in e for e in errs)
             and re.search(r"stream gone: reconnecting to \S+ in [0-9.]+ s \(attempt 2\)", log),
             (errs[-3:], log[-1500:]))
    du.check("udp_mpegts_analysed", u.get("analysed", 0) >= 3 and u.get("width") == 192, (ok, u, errs_s[0]))
    du.check("srt_caller_analysed", r.get("analysed", 0) >= 3 and r.get("width") == 192, (ok, r, errs_s[1]))
    shutil.rmtree(d, ignore_errors=True)
    du.done()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""test_daemon_http.py — an HTTP source, end to end: a clip served by a real
HTTP server (Python's http.server on 127.0.0.1) is read by the daemon
through FFmpeg's http protocol and analysed; a network URL is a camera, so
when the server's file ends the daemon treats it as a lost connection and
reconnects (docs/daemon.md, Ingest); a URL on the same server that answers
404 is reported in the status with the reason and retried, without
stopping the other stream.
"""
import functools
import http.server
import os
import re
import shutil
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemon_util as du  # noqa: E402


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass


def main():
    d = du.tmpdir("lmdd-http.")
    clip = os.path.join(d, "clip.mkv")
    du.make_clip(clip, seconds=3)   # 30 frames
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=d))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{srv.server_address[1]}"
    ep = "ipc://" + os.path.join(d, "pub.sock")
    conf = du.write_config(os.path.join(d, "lmdd.conf"), {
        "web": dict(url=base + "/clip.mkv", fps=0, threshold=1e9),
        "gone": dict(url=base + "/missing.mkv", fps=0, threshold=1e9),
    }, publish=ep, model=du.FIXTURE, steps=2, reps=1, t0=100, status_interval=0.5,
        reconnect_min=0.2, reconnect_max=0.5)
    sub = du.Subscriber(ep)
    dm = du.Daemon(conf)
    ok = sub.wait_for(lambda: any((du.stream_status(s, "web") or {}).get("reconnects", 0) >= 1
                                  and (du.stream_status(s, "web") or {}).get("analysed", 0) >= 1
                                  for s in sub.statuses()), 120)
    sub.wait_for(lambda: False, 1.5)   # a few more status messages for "gone"
    dm.stop()
    sub.close()
    srv.shutdown()
    st = sub.statuses()
    log = dm.log()
    web = next((du.stream_status(s, "web") for s in reversed(st) if du.stream_status(s, "web")), {})
    gone = [du.stream_status(s, "gone") or {} for s in st]
    du.check("http_stream_read_and_reconnected",
             ok and web.get("frames_in", 0) >= 30 and web.get("analysed", 0) >= 1 and web.get("reconnects", 0) >= 1
             and web.get("corrupt") == 0 and "opened " + base + "/clip.mkv" in log
             and "stream web: connection lost: source ended the stream" in log,
             (web, log[-1500:]))
    errs = [g.get("last_error", "") for g in gone if g.get("last_error")]
    du.check("http_404_reported_and_retried",
             any("404" in e or "Not Found" in e for e in errs)
             and re.search(r"stream gone: reconnecting to \S+ in [0-9.]+ s \(attempt 2\)", log),
             (errs[-3:], gone[-1:] if gone else None, log[-1500:]))
    shutil.rmtree(d, ignore_errors=True)
    du.done()


if __name__ == "__main__":
    main()

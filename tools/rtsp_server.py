#!/usr/bin/env python3
"""rtsp_server.py — a small RTSP server (GStreamer's gst-rtsp-server through
python3-gi) for testing and demonstrating lmdd with a real network camera
protocol.

    rtsp_server.py [--port 8554] [--mount /cam] [--file CLIP] [--loop]
                   [--pattern ball] [--size 320x240] [--fps 10]

Serves rtsp://127.0.0.1:PORT/MOUNT as RTP/JPEG (RFC 2435), which needs no
encoder beyond gstreamer1.0-plugins-good:
  --file CLIP    a video file (e.g. a UCSD Ped2 clip), decoded, scaled to
                 --size and re-encoded as JPEG; --loop restarts it at the end
                 (seek to 0 on end of stream), otherwise the stream ends;
  (default)      a live test pattern (videotestsrc, --pattern).
One shared pipeline serves every client, like a camera. Prints
"READY rtsp://..." on stdout once listening; stops on SIGTERM/SIGINT.
"""
import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=8554)
    ap.add_argument("--mount", default="/cam")
    ap.add_argument("--file")
    ap.add_argument("--loop", action="store_true")
    ap.add_argument("--pattern", default="ball", help="videotestsrc pattern")
    ap.add_argument("--size", default="320x240", help="WxH")
    ap.add_argument("--fps", type=int, default=10)
    ap.add_argument("--quality", type=int, default=85, help="JPEG quality")
    a = ap.parse_args()
    w, h = (int(v) for v in a.size.lower().split("x"))
    caps = f"video/x-raw,width={w},height={h},framerate={a.fps}/1"
    if a.file:
        src = (f'filesrc location="{a.file}" ! decodebin ! videoconvert ! videoscale ! '
               f'videorate ! {caps} ! queue')
    else:
        src = f"videotestsrc is-live=true pattern={a.pattern} ! {caps}"
    launch = (f"( {src} ! videoconvert ! video/x-raw,format=I420 ! jpegenc quality={a.quality} ! "
              f"rtpjpegpay name=pay0 pt=26 )")

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(a.port))
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(launch)
    factory.set_shared(True)
    # keep the pipeline between clients, as a camera would
    factory.set_eos_shutdown(False)

    def on_configure(factory, media):
        if not (a.file and a.loop):
            return
        pipeline = media.get_element()

        # files: seek back to the start at end of stream
        def on_eos(pad, info):
            ev = info.get_event()
            if ev and ev.type == Gst.EventType.EOS:
                GLib.idle_add(lambda: pipeline.seek_simple(
                    Gst.Format.TIME, Gst.SeekFlags.FLUSH | Gst.SeekFlags.KEY_UNIT, 0) and False)
                return Gst.PadProbeReturn.DROP
            return Gst.PadProbeReturn.OK
        pay = pipeline.get_by_name("pay0")
        if pay:
            pay.get_static_pad("sink").add_probe(Gst.PadProbeType.EVENT_DOWNSTREAM, on_eos)

    factory.connect("media-configure", on_configure)
    server.get_mount_points().add_factory(a.mount, factory)
    if server.attach(None) == 0:
        print(f"cannot listen on port {a.port}", file=sys.stderr)
        return 1
    loop = GLib.MainLoop()
    for s in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, s, lambda *x: (loop.quit(), False)[1])
    print(f"READY rtsp://127.0.0.1:{a.port}{a.mount}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())

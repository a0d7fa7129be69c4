#!/usr/bin/env python3
"""test_daemon_e2e.py — the daemon end to end with the real engine and a real
ZeroMQ subscriber: a clip with a synthetic anomaly gives exactly one event
(start ... end) at the right frames, with valid JSON, a decodable JPEG
snapshot and PNG heat-map, regions where the anomaly is; a normal clip under
the threshold gives none; a file with corrupted bytes is decoded with its
corrupt frames skipped and counted; status messages carry the counters; the
daemon exits 0 when every file has ended (--exit-at-end).

Files are read with realtime = off (decode waits for analysis, nothing
dropped) so the frames scored do not depend on how loaded the machine is,
and scored one frame per engine call (batch_max = 1): the sampler's noise
is drawn per batch slot, so in shared batches a frame's map depended on
which other streams' frames happened to be ready (thread timing), and one
of those draws merged the patch and background noise into one frame-wide
region. reps = 4 gives every pixel two inpainting attempts (the
checkerboard alternates), so the regions do not hang on one noise draw
(seeds 0-3 all locate the patch; with reps = 2 seed 0 does not).
"""
import json
import os
import random
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemon_util as du  # noqa: E402

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
EVENT_KEYS = {"type", "id", "seq", "stream", "model", "frame", "pts", "time", "score", "threshold",
              "peak_score", "peak_frame", "first_frame", "frames", "started", "duration",
              "frame_width", "frame_height", "regions", "snapshot", "heatmap"}


def probe(path):
    r = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,width,height",
                        "-of", "json", path], capture_output=True, text=True)
    if r.returncode:
        return None
    s = json.loads(r.stdout).get("streams", [])
    return s[0] if s else None


def main():
    if not os.path.exists(du.LMDD):
        du.check("e2e_binary", False, du.LMDD + " missing")
        du.done()
    d = du.tmpdir("lmdd-e2e.")
    anom, norm, bad = (os.path.join(d, n) for n in ("anom.mkv", "norm.mkv", "bad.mkv"))
    du.make_clip(anom, seconds=4, anomaly=(1.5, 2.5))
    du.make_clip(norm, seconds=4)
    # a longer clip with garbage written over byte ranges
    du.make_clip(bad, seconds=6)
    size = os.path.getsize(bad)
    with open(bad, "r+b") as f:
        rnd = random.Random(2500).randbytes(2500)   # fixed garbage: the same damage every run
        for k in range(2, 7):
            f.seek(size * k // 9)
            f.write(rnd)
    ep = "ipc://" + os.path.join(d, "pub.sock")
    conf = du.write_config(os.path.join(d, "lmdd.conf"), {
        "anom": dict(url=anom, fps=0, realtime="off", threshold=du.THRESHOLD, min_duration=2,
                     hysteresis=0.8, heatmap="on"),
        "norm": dict(url=norm, fps=0, realtime="off", threshold=du.THRESHOLD),
        "bad": dict(url=bad, fps=0, realtime="off", threshold=1e9, snapshot="off"),
    }, publish=ep, batch_max=1, reps=4)
    sub = du.Subscriber(ep)
    dm = du.Daemon(conf, ["--exit-at-end"])
    rc = dm.run_to_end(240)
    du.check("e2e_exits_at_end", rc == 0,
             ("still running after 240 s" if rc is None else f"exit {rc}") + "\n" + dm.log()[-3000:])
    sub.wait_for(lambda: any(s.get("streams") and all(x["state"] == "ended" for x in s["streams"])
                             for s in sub.statuses()), 3)
    sub.close()
    log = dm.log()

    ev = sub.events("anom")
    types = [j["type"] for j, _ in ev]
    starts = [(j, p) for j, p in ev if j["type"] == "start"]
    ends = [(j, p) for j, p in ev if j["type"] == "end"]
    ok = len(starts) == 1 and len(ends) == 1 and types[0] == "start" and types[-1] == "end"
    if ok:
        s, e = starts[0][0], ends[0][0]
        # patch visible in frames 15..25 (t = 1.5..2.5 s at 10 fps)
        ok = (s["id"] == e["id"] and 14 <= s["first_frame"] <= 17 and s["frame"] == s["first_frame"] + 1
              and 25 <= e["frame"] <= 28 and e["reason"] == "score" and e["frames"] >= 8
              and e["peak_score"] >= e["threshold"] > e["score"])
    du.check("e2e_anomaly_start_end", ok, json.dumps([j for j, _ in ev])[:1500] + "\n" + log[-2000:])

    du.check("e2e_normal_clip_no_events", not sub.events("norm"),
             json.dumps([j for j, _ in sub.events("norm")])[:500])

    # schema and sequence numbers over every event message
    allev = sub.events()
    bad_schema = []
    for j, _ in allev:
        missing = EVENT_KEYS - set(j)
        if missing or not UUID.match(j["id"]) or not RFC3339.match(j["time"]) \
                or not RFC3339.match(j["started"]) or j["model"] != "tiny-gray" \
                or j["frame_width"] != 192 or j["frame_height"] != 128:
            bad_schema.append((sorted(missing), j))
    seqs = [j["seq"] for j, _ in allev]
    du.check("e2e_event_json_schema", allev and not bad_schema, bad_schema[:2])
    du.check("e2e_sequence_numbers", seqs == list(range(seqs[0], seqs[0] + len(seqs))) if seqs else False,
             seqs)

    # regions: the patch is at y 40..88 (source pixels), x moving from 20
    ok = False
    if starts:
        rs = starts[0][0]["regions"]
        ok = bool(rs) and all(k in rs[0] for k in ("x", "y", "w", "h", "score"))
        if ok:
            r = rs[0]
            ok = (r["y"] < 88 and r["y"] + r["h"] > 40 and r["x"] < 120 and r["x"] + r["w"] > 20
                  and r["w"] <= 120 and r["h"] <= 100 and r["score"] > du.THRESHOLD)
    du.check("e2e_regions_locate_anomaly", ok, starts[0][0]["regions"] if starts else "no start")

    # images: start has [topic][json][jpeg][png]
    ok, why = False, "no start"
    if starts:
        j, parts = starts[0]
        ok = len(parts) == 4 and j["snapshot"] and j["heatmap"]
        why = [len(p) for p in parts]
        if ok:
            jp, pp = os.path.join(d, "snap.jpg"), os.path.join(d, "heat.png")
            open(jp, "wb").write(parts[2])
            open(pp, "wb").write(parts[3])
            pj, pn = probe(jp), probe(pp)
            ok = (parts[2][:2] == b"\xff\xd8" and parts[2][-2:] == b"\xff\xd9" and pj
                  and pj["codec_name"] == "mjpeg" and pj["width"] == 192 and pj["height"] == 128
                  and parts[3][:8] == b"\x89PNG\r\n\x1a\n" and pn and pn["width"] == 48
                  and pn["height"] == 32)
            why = (pj, pn)
        ok = ok and bool(ends) and len(ends[0][1]) == 2   # "end" carries no images
    du.check("e2e_snapshot_jpeg_and_heatmap", ok, why)

    st = sub.statuses()
    last = st[-1] if st else {}
    a, n, b = (du.stream_status(last, x) or {} for x in ("anom", "norm", "bad"))
    ok = (a.get("state") == "ended" and a.get("analysed") == 40 and a.get("dropped") == 0
          and n.get("analysed") == 40 and last.get("frames_scored", 0) >= 80 + b.get("analysed", 0)
          and last.get("events") == 1 and last.get("events_open") == 0
          and last["latency_ms"]["scored"]["n"] > 0 and last["latency_ms"]["published"]["n"] >= 2
          and last.get("device") and last.get("backend") == "cpu")
    du.check("e2e_status_counters", ok, json.dumps(last)[:1500])
    ok = b.get("corrupt", 0) > 0 and b.get("state") == "ended" and 30 <= b.get("analysed", 0) < 60
    du.check("e2e_corrupt_frames_skipped_and_counted", ok, json.dumps(b))
    shutil.rmtree(d, ignore_errors=True)
    du.done()


if __name__ == "__main__":
    main()

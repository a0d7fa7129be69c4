#!/usr/bin/python3
"""model_interval.py — write `cond_interval` into a conditioned model file
trained before train.py recorded it.

    /usr/bin/python3 tools/model_interval.py models/ucsd-ped2/model.safetensors
    /usr/bin/python3 tools/model_interval.py COPY.safetensors --seconds 0.3

A model conditioned on previous frames learned them at its training videos'
frame interval (docs/model-format.md `cond_interval`); without the key the
daemon feeds it consecutive decoded frames, which is right only for cameras
at the training rate (media/history.h). This reads the interval the way
train.py now does — the file's training record names its videos and
--every; ffprobe gives their rate (train/data.py probe_rate) — and rewrites
the header only: the tensor bytes are copied unchanged. The calibration
sidecar (<model>.calib.json) names the file by CRC-32; when it matched the
old file it is pointed at the new one, because the history of a video at
the training rate is the same frames either way, so its scores and
threshold still hold. Files are replaced atomically.

--seconds S writes S instead, for a study only: the model then sees history
further back (or nearer) than it was trained with, and its scores change, so
the sidecar is left alone (docs/evaluation.md, Decision log: history spacing).
"""
import json
import os
import struct
import sys
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "train"))
import data  # noqa: E402


def crc32(path):
    with open(path, "rb") as f:
        return f"{zlib.crc32(f.read()) & 0xffffffff:08x}"


def replace(path, blob):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(blob)
    os.replace(tmp, path)


def write_header(path, header, tensors):
    """the file again with this header and the same tensor bytes"""
    body = json.dumps(header, separators=(",", ":")).encode()
    body += b" " * (-len(body) % 8)
    replace(path, struct.pack("<Q", len(body)) + body + tensors)


def main(argv):
    seconds = None
    if len(argv) == 3 and argv[1] == "--seconds":
        try:
            seconds = float(argv[2])
        except ValueError:
            seconds = -1
        if not 1e-4 <= seconds <= 3600:
            sys.exit(f"model_interval: --seconds '{argv[2]}': expected a number in [0.0001, 3600]")
        argv = argv[:1]
    if len(argv) != 1:
        sys.exit("usage: " + __doc__.strip().split("\n\n")[1].strip())
    path = argv[0]
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    md = header.get("__metadata__", {})
    if int(md.get("cond_frames", "0")) == 0:
        sys.exit(f"model_interval: {path}: not conditioned on previous frames (cond_frames 0)")
    if seconds is not None:
        md["cond_interval"] = f"{seconds:.6g}"
        write_header(path, header, raw[8 + n:])
        print(f"{path}: cond_interval {md['cond_interval']} s (--seconds; the sidecar is left alone)")
        return
    tr = json.loads(md.get("training") or "{}")
    sources = tr.get("data") or []
    if not sources or any(s.get("kind") != "video" for s in sources):
        sys.exit(f"model_interval: {path}: its training record does not name videos only; "
                 f"the interval is unknown")
    rates = {s["path"]: data.probe_rate(s["path"]) for s in sources}
    missing = [p for p, r in rates.items() if not r]
    if missing:
        sys.exit(f"model_interval: {missing[0]}: no frame rate (is the file there?)")
    every = int((tr.get("decode") or {}).get("every") or 1)
    try:
        interval = f"{data.frame_interval(rates, every):.6g}"
    except data.DataError as e:
        sys.exit(f"model_interval: {path}: {e}")
    lo = min(rates.values())
    old_crc = crc32(path)
    md["cond_interval"] = interval
    write_header(path, header, raw[8 + n:])
    print(f"{path}: cond_interval {interval} s ({len(sources)} videos at {lo:g} fps, every {every})")
    side = path + ".calib.json"
    if os.path.exists(side):
        with open(side) as f:
            text = f.read()
        cal = json.loads(text)
        if cal.get("model_crc32") == old_crc:
            new = crc32(path)   # the one string changes; the file keeps its layout
            replace(side, text.replace(f'"{old_crc}"', f'"{new}"', 1).encode())
            print(f"{side}: model_crc32 {old_crc} -> {new}")
        else:
            print(f"{side}: calibrated for another file ({cal.get('model_crc32')}); left alone")


if __name__ == "__main__":
    main(sys.argv[1:])

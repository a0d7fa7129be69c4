"""test_model_interval.py — tools/model_interval.py adds `cond_interval` to a
conditioned model file from its training record (videos at 25 fps, every 2nd
frame: 0.08 s), copies the tensors byte for byte, and re-points a sidecar
that matched the old file, leaves one for another file alone; it refuses a
single-frame model and a record without videos, naming why. --seconds
writes a given spacing and leaves the sidecar alone."""
import json
import os
import struct
import subprocess
import sys
import zlib

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, os.path.join(ROOT, "train"))
import export  # noqa: E402
import make_model  # noqa: E402

TOOL = os.path.join(ROOT, "tools", "model_interval.py")


def header_and_data(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8:8 + n]), raw[8 + n:]


def with_training(path, training):
    h, blob = header_and_data(path)
    h["__metadata__"]["training"] = json.dumps(training)
    body = json.dumps(h).encode()
    body += b" " * (-len(body) % 8)
    open(path, "wb").write(struct.pack("<Q", len(body)) + body + blob)


def crc(path):
    return f"{zlib.crc32(open(path, 'rb').read()) & 0xffffffff:08x}"


def run(*args):
    return subprocess.run(["/usr/bin/python3", TOOL, *args], capture_output=True, text=True)


def test_adds_interval(tmp_path):
    vid = tmp_path / "clip.mkv"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=s=32x24:r=25:d=0.4",
                    "-c:v", "ffv1", str(vid)], check=True)
    m = str(tmp_path / "m.safetensors")
    make_model.make(m, cond=2, base=8, attn=(), frame=(16, 16))
    with_training(m, {"data": [{"kind": "video", "path": str(vid), "frames": 10}],
                      "decode": {"every": 2}})
    side = m + ".calib.json"
    open(side, "w").write('{\n\t"threshold":\t0.5,\n\t"model_crc32":\t"%s"\n}\n' % crc(m))
    tensors_before, _ = export.load_safetensors(m)
    _, blob_before = header_and_data(m)
    r = run(m)
    assert r.returncode == 0, r.stderr
    h, blob = header_and_data(m)
    assert h["__metadata__"]["cond_interval"] == "0.08"
    assert blob == blob_before
    tensors, meta = export.load_safetensors(m)
    assert all(np.array_equal(tensors[k].numpy(), tensors_before[k].numpy()) for k in tensors)
    assert json.load(open(side))["model_crc32"] == crc(m) and "\t0.5" in open(side).read()
    # a sidecar measured on another file is left alone
    other = tmp_path / "o.safetensors"
    make_model.make(str(other), cond=2, base=8, attn=(), frame=(16, 16), seed=3)
    open(str(other) + ".calib.json", "w").write('{"model_crc32": "00000000"}')
    with_training(str(other), {"data": [{"kind": "video", "path": str(vid), "frames": 10}]})
    r = run(str(other))
    assert r.returncode == 0 and "left alone" in r.stdout, r.stdout + r.stderr
    assert json.load(open(str(other) + ".calib.json"))["model_crc32"] == "00000000"
    assert header_and_data(str(other))[0]["__metadata__"]["cond_interval"] == "0.04"
    # --seconds: any spacing, for a study; the sidecar stays
    side_text = open(side).read()
    r = run(m, "--seconds", "0.3")
    assert r.returncode == 0, r.stderr
    assert header_and_data(m)[0]["__metadata__"]["cond_interval"] == "0.3"
    assert header_and_data(m)[1] == blob_before and open(side).read() == side_text
    r = run(m, "--seconds", "-1")
    assert r.returncode != 0 and "--seconds '-1'" in r.stderr, r.stderr


def test_refusals(tmp_path):
    single = str(tmp_path / "s.safetensors")
    make_model.make(single, base=8, attn=(), frame=(16, 16))
    r = run(single)
    assert r.returncode != 0 and "cond_frames 0" in r.stderr, r.stderr
    cond = str(tmp_path / "c.safetensors")
    make_model.make(cond, cond=1, base=8, attn=(), frame=(16, 16))
    before = open(cond, "rb").read()
    r = run(cond)
    assert r.returncode != 0 and "does not name videos only" in r.stderr, r.stderr
    assert open(cond, "rb").read() == before

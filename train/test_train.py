#!/usr/bin/env python3
"""test_train.py — end-to-end tests of train/ on tiny generated data (< 1 min, CPU).

Run:  /usr/bin/python3 -m pytest train/      or      /usr/bin/python3 train/test_train.py

Covers: training a few steps on generated images, export -> reload gives the
identical ε-prediction as the checkpoint's EMA weights, --init warm start, the safetensors layout
and metadata keys of docs/model-format.md, exact resume (same final step,
same loss history as an uninterrupted run, here with --cond-frames on a
generated video), idx files (resize and pad to 32x32), clip-aware
conditioning, and clear errors naming the path for bad inputs.
"""
import gzip
import json
import os
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
import export  # noqa: E402
import train  # noqa: E402
import unet  # noqa: E402

TINY = ["--base-channels", "8", "--channel-mult", "1,2", "--num-res-blocks", "1",
        "--attn-levels", "1", "--groups", "4", "--batch", "4", "--warmup", "2",
        "--threads", "1", "--device", "cpu", "--ckpt-every", "0", "--log-every", "1000"]
META_KEYS = {"format", "name", "in_channels", "cond_frames", "base_channels", "channel_mult",
             "num_res_blocks", "attn_levels", "groups", "timesteps", "schedule", "beta_start",
             "beta_end", "frame_height", "frame_width", "train_size", "pixel_range", "training"}


def write_images(folder, n=6, size=(16, 16), sizes=None):
    from PIL import Image
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        w, h = sizes[i] if sizes else size
        a = (rng.random((h, w)) * 255).astype(np.uint8)
        Image.fromarray(a).save(folder / f"img{i:02d}.png")
    return folder


def write_video(path, size="32x24", seconds=1, rate=10):
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"testsrc=size={size}:rate={rate}", "-t", str(seconds), "-pix_fmt", "yuv420p",
                    "-c:v", "mjpeg", str(path)], check=True)
    return path


def write_idx(path, n=5, h=28, w=28):
    a = (np.arange(n * h * w) % 251).astype(np.uint8)
    with gzip.open(path, "wb") as f:
        f.write(b"\0\0\x08\x03" + struct.pack(">III", n, h, w) + a.tobytes())
    return path


def expect_error(fn, *needles):
    try:
        fn()
    except data.DataError as e:
        for s in needles:
            assert str(s) in str(e), f"'{s}' not in error: {e}"
        return
    raise AssertionError("no DataError raised")


def expect_exit(fn, needle):
    """fn() must stop with SystemExit whose message names needle."""
    try:
        fn()
    except SystemExit as e:
        assert needle in str(e), f"'{needle}' not in: {e}"
        return
    raise AssertionError(f"no SystemExit (expected one naming {needle})")


def test_train_export_reload(tmp_path):
    imgs = write_images(tmp_path / "imgs")
    out = tmp_path / "run"
    r = train.run(["--data", str(imgs), "--out", str(out), "--max-steps", "3", "--flip",
                   "--cache-dir", str(tmp_path / "cache"), "--publish", str(tmp_path / "pub")] + TINY)
    assert r["step"] == 3 and len(r["losses"]) == 3
    for f in ("checkpoint.pt", "model.safetensors", "loss.png"):
        assert (out / f).exists(), f
    for f in ("model.safetensors", "loss.png", "README.md"):
        assert (tmp_path / "pub" / f).exists(), f

    raw = (out / "model.safetensors").read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    assert (8 + n) % 8 == 0
    header = json.loads(raw[8:8 + n])
    assert set(header["__metadata__"]) == META_KEYS

    model, meta = export.model_from_file(str(out / "model.safetensors"))
    assert meta["format"] == "lmdd-unet-1" and meta["pixel_range"] == "-1,1"
    assert meta["frame_width"] == "16" and meta["attn_levels"] == "1"
    assert json.loads(meta["training"])["steps"] == 3
    ck = torch.load(out / "checkpoint.pt")
    ref = unet.UNet(1, 0, 8, [1, 2], 1, [1], 4).eval()
    ref.load_state_dict(ck["ema"])
    x = torch.randn(2, 1, 16, 24)
    t = torch.tensor([0, 999])
    with torch.no_grad():
        assert torch.equal(model(x, t), ref(x, t))

    # the card's "Engine check" section (tools/card_check.py) survives regeneration
    card = tmp_path / "pub" / "README.md"
    card.write_text(card.read_text() + "\n## Notes\n\nheld-out split\n\n## Engine check\n\n- AUROC 0.5 at step 3\n")
    export.write_card(str(card), meta, 123, "CMD-X", "RESUME-X", "INIT-X")
    txt = card.read_text()
    assert "- AUROC 0.5 at step 3" in txt and txt.count("## Engine check") == 1 and "CMD-X" in txt
    assert txt.count("held-out split") == 1

    # tools/ship_model.py: snapshot -> models/NAME, the warm start pointed at
    # the shipped file, the shipped card's own sections kept over the snapshot's
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
    import ship_model
    pub, dst = tmp_path / "pub", tmp_path / "models" / "m"
    export.write_card(str(card), meta, 123, "CMD-X --init a/b.safetensors", "RESUME-X", f"--init {pub}/model.safetensors")
    dst.mkdir(parents=True)
    (dst / "README.md").write_text("old\n## Notes\n\nshipped notes\n")
    ship_model.ship(str(pub), str(dst))
    txt = (dst / "README.md").read_text()
    assert f"--init {dst}/model.safetensors" in txt and f"{pub}/model.safetensors" not in txt
    assert "shipped notes" in txt and "held-out split" not in txt and "RESUME-X" in txt
    assert "CMD-X --init a/b.safetensors" in txt
    assert (dst / "model.safetensors").read_bytes() == (pub / "model.safetensors").read_bytes()

    # a lone model file (its run folder stayed on a lent GPU): the card from its own record
    dst2 = tmp_path / "models" / "m2"
    ship_model.main([str(out / "model.safetensors"), str(dst2), str(out / "loss.png")])
    txt = (dst2 / "README.md").read_text()
    rec = json.loads(meta["training"])
    assert rec["command"] in txt and ship_model.GONE in txt
    assert f"--out {out}-2" in txt and f"--init {dst2}/model.safetensors" in txt
    assert (dst2 / "model.safetensors").read_bytes() == (out / "model.safetensors").read_bytes()
    assert (dst2 / "loss.png").read_bytes() == (out / "loss.png").read_bytes()
    bare = dict(meta, training=json.dumps({k: v for k, v in rec.items() if k != "command"}))
    export.save_safetensors(str(tmp_path / "bare.safetensors"), ck["ema"], bare)
    expect_exit(lambda: ship_model.main([str(tmp_path / "bare.safetensors"), str(tmp_path / "m3")]),
                "bare.safetensors: its training record has no command")

    warm = train.run(["--data", str(imgs), "--out", str(tmp_path / "warm"), "--max-steps", "5",
                      "--init", str(out / "model.safetensors"),
                      "--cache-dir", str(tmp_path / "cache")] + TINY)
    assert warm["step"] == 5 and len(warm["losses"]) == 2
    _, wmeta = export.load_safetensors(str(tmp_path / "warm" / "model.safetensors"))
    assert json.loads(wmeta["training"])["init"]["steps"] == 3

    export.export_state(ck["ema"], ck["cfg"], ck["training"], str(tmp_path / "h.safetensors"), fp16=True)
    tensors, _ = export.load_safetensors(str(tmp_path / "h.safetensors"))
    for k, v in ck["ema"].items():
        assert torch.allclose(tensors[k], v, rtol=1e-3, atol=1e-4), k


def test_lr_schedule(tmp_path):
    assert [train.lr_at(k, 1.0, 4, 0) for k in (0, 1, 3, 4, 10**6)] == [0.25, 0.5, 1.0, 1.0, 1.0]
    assert train.lr_at(0, 2.0, 0, 0) == 2.0
    d = [train.lr_at(k, 2.0, 2, 4) for k in range(7)]
    assert d[:3] == [1.0, 2.0, 2.0] and abs(d[4] - 1.0) < 1e-12 and 0 < d[5] < d[4] < d[3]
    assert d[6] is None  # the decay is over: the run ends

    # a decayed warm start ends by itself after warm-up + decay steps, the
    # optimizer saw the scheduled LR, the card says so, and a resumed decay
    # run continues the same schedule to the same end
    imgs = write_images(tmp_path / "imgs")
    common = ["--data", str(imgs), "--cache-dir", str(tmp_path / "cache")] + TINY
    train.run(common + ["--out", str(tmp_path / "a"), "--max-steps", "2"])
    init = ["--init", str(tmp_path / "a" / "model.safetensors"), "--lr", "1e-3",
            "--decay-steps", "4", "--publish", str(tmp_path / "pub")]
    r = train.run(common + init + ["--out", str(tmp_path / "d")])
    assert r["step"] == 2 + 2 + 4 and len(r["losses"]) == 6 and r["stopped"] is None
    ck = torch.load(tmp_path / "d" / "checkpoint.pt")
    assert abs(ck["opt"]["param_groups"][0]["lr"] - train.lr_at(5, 1e-3, 2, 4)) < 1e-15
    assert ck["training"]["decay_steps"] == 4
    card = (tmp_path / "pub" / "README.md").read_text()
    assert "cosine decay to 0 over 4 steps" in card
    # the card's Reproduce gives both stages: the run it started from, then this one
    first = json.loads(export.load_safetensors(str(tmp_path / "a" / "model.safetensors"))[1]["training"])
    assert "--max-steps 2" in first["command"] and "--out " + str(tmp_path / "a") in first["command"]
    assert card.index(first["command"]) < card.index("--decay-steps 4") and "to step 2" in card
    part = train.run(common + init + ["--out", str(tmp_path / "e"), "--max-steps", "5"])
    assert part["step"] == 5
    rest = train.run(["--out", str(tmp_path / "e"), "--resume", "--threads", "1", "--log-every", "1000"])
    assert rest["step"] == 8 and np.allclose(rest["losses"], r["losses"], rtol=1e-5, atol=1e-7)
    expect_exit(lambda: train.run(common + ["--out", str(tmp_path / "f"), "--decay-steps", "-1"]),
                "--decay-steps")


def test_resume_matches_uninterrupted(tmp_path):
    vid = write_video(tmp_path / "clip.mkv")
    common = ["--data", str(vid), "--crop", "16", "--cond-frames", "2",
              "--cache-dir", str(tmp_path / "cache")] + TINY
    full = train.run(common + ["--out", str(tmp_path / "a"), "--max-steps", "6"])
    first = train.run(common + ["--out", str(tmp_path / "b"), "--max-steps", "3"])
    assert first["step"] == 3
    resumed = train.run(["--out", str(tmp_path / "b"), "--resume", "--max-steps", "6",
                         "--threads", "1", "--log-every", "1000"])
    assert resumed["step"] == full["step"] == 6
    assert len(resumed["losses"]) == 6
    assert np.allclose(resumed["losses"], full["losses"], rtol=1e-5, atol=1e-7)
    _, meta = export.load_safetensors(str(tmp_path / "b" / "model.safetensors"))
    assert meta["cond_frames"] == "2" and meta["frame_width"] == "32" and meta["train_size"] == "16"
    assert meta["cond_interval"] == "0.1"  # 10 fps, every frame: the daemon's history spacing
    # a fresh run over an existing checkpoint is refused
    expect_exit(lambda: train.run(common + ["--out", str(tmp_path / "b"), "--max-steps", "1"]),
                "--resume")


def test_idx_and_clips(tmp_path):
    idx = write_idx(tmp_path / "t10k-images-idx3-ubyte.gz")
    fs = data.FrameSet([str(idx)], data.DecodeOptions(size=(32, 32)), str(tmp_path / "c"))
    assert fs.frames.shape == (5, 1, 32, 32)
    fs = data.FrameSet([str(idx)], data.DecodeOptions(size=(32, 32), fit="pad", limit=3),
                       str(tmp_path / "c"))
    assert fs.frames.shape == (3, 1, 32, 32) and fs.frames[:, :, :2].max() == 0
    assert len(fs.valid_indices(1)) == 0  # idx images are not a sequence

    vids = tmp_path / "vids"
    vids.mkdir()
    write_video(vids / "a.mkv", seconds=0.5)
    write_video(vids / "b.mkv", seconds=0.5)
    fs = data.FrameSet([str(vids)], data.DecodeOptions(size=(16, 16), every=2), str(tmp_path / "c"))
    assert len(fs) == 6 and fs.frames.shape[2:] == (16, 16)
    assert list(fs.valid_indices(1)) == [1, 2, 4, 5]
    assert abs(fs.frame_interval() - 0.2) < 1e-9  # 10 fps, every 2nd frame
    x0, cond = data.BatchSampler(fs, 8, True, 2).sample(5, torch.Generator().manual_seed(1))
    assert x0.shape == (5, 1, 8, 8) and cond.shape == (5, 2, 8, 8)
    assert x0.min() >= -1 and x0.max() <= 1


def test_bad_inputs(tmp_path):
    opts = data.DecodeOptions()
    cache = str(tmp_path / "c")
    missing = tmp_path / "nope.mkv"
    expect_error(lambda: data.FrameSet([str(missing)], opts, cache), missing, "no such file")
    empty = tmp_path / "empty"
    empty.mkdir()
    expect_error(lambda: data.FrameSet([str(empty)], opts, cache), empty, "no videos, images")
    bad = tmp_path / "bad.mkv"
    bad.write_bytes(b"this is not a video" * 100)
    expect_error(lambda: data.FrameSet([str(bad)], opts, cache), bad, "cannot read")
    mixed = write_images(tmp_path / "mixed", n=3, sizes=[(16, 16), (16, 16), (20, 12)])
    expect_error(lambda: data.FrameSet([str(mixed)], opts, cache), mixed / "img02.png", "--size")
    fs = data.FrameSet([str(mixed)], data.DecodeOptions(size=(16, 16)), cache)
    assert fs.frames.shape == (3, 1, 16, 16)
    assert fs.frame_interval() is None  # images carry no frame rate
    # a conditioned model needs one frame interval: videos at two rates are refused
    rates = tmp_path / "rates"
    rates.mkdir()
    write_video(rates / "a.mkv", seconds=0.5, rate=10)
    write_video(rates / "b.mkv", seconds=0.5, rate=25)
    fs = data.FrameSet([str(rates)], opts, cache)
    expect_error(fs.frame_interval, rates / "b.mkv", "10 fps")
    expect_error(lambda: train.run(["--data", str(rates), "--cond-frames", "1", "--crop", "16",
                                    "--cache-dir", cache, "--out", str(tmp_path / "r"),
                                    "--max-steps", "1"] + TINY), "one frame interval")
    badidx = tmp_path / "x-idx3-ubyte"
    badidx.write_bytes(b"\1\2\3\4" * 8)
    expect_error(lambda: data.FrameSet([str(badidx)], opts, cache), badidx, "magic")


if __name__ == "__main__":
    for name, fn in list(globals().items()):
        if name.startswith("test_"):
            with tempfile.TemporaryDirectory() as d:
                fn(Path(d))
            print(f"ok  {name}")

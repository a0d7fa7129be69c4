#!/usr/bin/env python3
"""data.py — training frames for lmdd: decode, cache, and sample batches.

Sources (each a path given to train.py --data):
  * a video file or stream URL (anything the ffmpeg CLI opens): decoded by
    `ffmpeg ... -f rawvideo -pix_fmt gray|rgb24 -` through a pipe, optionally
    every Nth frame (--every), a time range (--start/--end seconds) and
    scaled by swscale (bilinear) to --size WxH — the same library the daemon
    uses to bring frames to the model's size (media/media.h);
  * an image file (PNG, JPEG, BMP, TIFF, ... also via ffmpeg);
  * an idx file (MNIST / Fashion-MNIST, plain or .gz), resized bilinearly
    (as in the LMD paper: 28x28 -> 32x32) or zero-padded (--fit pad);
  * a folder: its videos are clips, its images form one clip in name order,
    and if it has neither, each sub-folder is searched the same way.

A "clip" is a run of consecutive frames. Conditioning frames (--cond-frames K)
are always the K predecessors of a frame within the same clip, oldest first;
for video sources their spacing in seconds (--every / frame rate) is recorded
in the model (`cond_interval`) so that the daemon keeps it at any camera rate.

Every leaf source (one video, one image folder, one idx file) is decoded once
into a uint8 array (N, C, H, W) cached as <cache>/<stem>-<key>.npy, where key
hashes the absolute path, the file size and mtime (for a folder: every image's
name, size and mtime) and the decoding options; epochs and resumed runs reuse
it memory-mapped. Problems raise DataError naming the offending path.
"""
import gzip
import hashlib
import json
import os
import re
import shutil
import struct
import subprocess
from dataclasses import dataclass, asdict
from typing import Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F

VIDEO_EXT = {".mkv", ".mp4", ".avi", ".mov", ".webm", ".mpg", ".mpeg", ".m4v",
             ".ts", ".flv", ".wmv", ".ogv", ".y4m", ".mjpeg", ".gif"}
IMAGE_EXT = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".pgm", ".ppm",
             ".pnm", ".webp"}
URL_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
CACHE_VERSION = 1


class DataError(Exception):
    """A source cannot be used; the message names the path and the reason."""


@dataclass(frozen=True)
class DecodeOptions:
    """How sources become frames. size is (width, height) or None (native)."""
    channels: int = 1
    size: Optional[Tuple[int, int]] = None
    fit: str = "resize"          # resize | pad (centre, zeros) to size
    every: int = 1               # keep every Nth frame of a video
    start: Optional[float] = None  # seconds
    end: Optional[float] = None    # seconds
    limit: Optional[int] = None    # at most this many frames per leaf source


def parse_size(text):
    """'180x120' -> (180, 120) (width, height)."""
    m = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text or "")
    if not m or int(m.group(1)) <= 0 or int(m.group(2)) <= 0:
        raise ValueError(f"bad size '{text}': expected WxH, e.g. 180x120")
    return int(m.group(1)), int(m.group(2))


def default_cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "lmdd", "frames")


# ---------------------------------------------------------------- decoding --

def _need_ffmpeg():
    for tool in ("ffmpeg", "ffprobe"):
        if shutil.which(tool) is None:
            raise DataError(f"'{tool}' not found on PATH: install FFmpeg (apt-get install ffmpeg)")


def _probe(path, entries):
    """ffprobe's fields (entries, comma-separated) of the first video stream
    of path -> (dict, None), or (None, why) when it has no video stream."""
    _need_ffmpeg()
    r = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0",
                        "-show_entries", "stream=" + entries, "-of", "json", path],
                       capture_output=True, text=True)
    try:
        return json.loads(r.stdout)["streams"][0], None
    except (ValueError, KeyError, IndexError):
        return None, r.stderr.strip().splitlines()[-1] if r.stderr.strip() else "no video stream"


def _probe_size(path):
    """(width, height) of the first video stream of path, via ffprobe."""
    s, why = _probe(path, "width,height")
    try:
        return int(s["width"]), int(s["height"])
    except (TypeError, ValueError, KeyError):
        raise DataError(f"{path}: cannot read as video/image ({why or 'no size'})") from None


def probe_rate(path):
    """Frames per second of the first video stream of path (ffprobe's
    avg_frame_rate, else r_frame_rate), or None when it has none."""
    s, _ = _probe(path, "avg_frame_rate,r_frame_rate")
    if s is None:
        return None
    for key in ("avg_frame_rate", "r_frame_rate"):
        num, _, den = str(s.get(key, "0/0")).partition("/")
        try:
            fps = float(num) / float(den or 1)
        except (ValueError, ZeroDivisionError):
            continue
        if 0 < fps < 10000:
            return fps
    return None


def frame_interval(rates, every):
    """Seconds between kept frames of videos at rates {path: fps} with every
    every-th frame kept. Rates more than 1% apart give no one interval:
    DataError naming the fastest and the slowest file."""
    lo = min(rates, key=rates.get)
    hi = max(rates, key=rates.get)
    if rates[hi] > rates[lo] * 1.01:
        raise DataError(f"{hi} runs at {rates[hi]:.4g} fps but {lo} at {rates[lo]:.4g} fps: a model "
                        f"conditioned on previous frames needs one frame interval; train on videos "
                        f"of one rate")
    return every / rates[lo]


def _ffmpeg_frames(path, opts, single_image=False):
    """Decode path with the ffmpeg CLI -> uint8 (N, C, H, W)."""
    _need_ffmpeg()
    if opts.size is not None and opts.fit == "resize":
        w, h = opts.size
        scale = [f"scale={w}:{h}:flags=bilinear"]
    else:
        w, h = _probe_size(path)
        scale = []
    cmd = ["ffmpeg", "-nostdin", "-v", "error"]
    if not single_image and opts.start is not None:
        cmd += ["-ss", str(opts.start)]
    cmd += ["-i", path]
    if not single_image and opts.end is not None:
        cmd += ["-t", str(opts.end - (opts.start or 0.0))]
    vf = []
    if not single_image and opts.every > 1:
        vf.append(f"select=not(mod(n\\,{opts.every}))")
    vf += scale
    if vf:
        cmd += ["-vf", ",".join(vf)]
    if single_image:
        cmd += ["-frames:v", "1"]
    else:
        cmd += ["-vsync", "passthrough"]
        if opts.limit:
            cmd += ["-frames:v", str(opts.limit)]
    c = opts.channels
    cmd += ["-an", "-f", "rawvideo", "-pix_fmt", "gray" if c == 1 else "rgb24", "-"]
    r = subprocess.run(cmd, capture_output=True)
    frame_bytes = w * h * c
    if r.returncode != 0 or len(r.stdout) < frame_bytes:
        why = r.stderr.decode(errors="replace").strip().splitlines()
        why = why[-1] if why else "no frames decoded"
        raise DataError(f"{path}: cannot decode ({why})")
    n = len(r.stdout) // frame_bytes
    a = np.frombuffer(r.stdout, np.uint8, count=n * frame_bytes).reshape(n, h, w, c)
    return _fit(np.ascontiguousarray(a.transpose(0, 3, 1, 2)), opts, path)


def _fit(a, opts, path):
    """Bring uint8 (N, C, H, W) to opts.size by bilinear resize or centre padding."""
    if opts.size is None:
        return a
    w, h = opts.size
    if a.shape[2:] == (h, w):
        return a
    if opts.fit == "pad":
        ih, iw = a.shape[2:]
        if ih > h or iw > w:
            raise DataError(f"{path}: {iw}x{ih} frames do not fit in --size {w}x{h} with --fit pad")
        out = np.zeros(a.shape[:2] + (h, w), np.uint8)
        y, x = (h - ih) // 2, (w - iw) // 2
        out[:, :, y:y + ih, x:x + iw] = a
        return out
    out = np.empty(a.shape[:2] + (h, w), np.uint8)
    down = h < a.shape[2] or w < a.shape[3]
    for i in range(0, len(a), 4096):
        t = torch.from_numpy(np.array(a[i:i + 4096], np.float32))
        t = F.interpolate(t, size=(h, w), mode="bilinear", align_corners=False,
                          antialias=down)
        out[i:i + 4096] = t.round().clamp(0, 255).to(torch.uint8).numpy()
    return out


def _read_idx(path, opts):
    """MNIST-style idx3 ubyte file (optionally gzip) -> uint8 (N, C, H, W)."""
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            head = f.read(16)
            if len(head) < 16 or head[:3] != b"\0\0\x08" or head[3] != 3:
                raise DataError(f"{path}: not an idx3-ubyte image file (bad magic)")
            n, h, w = struct.unpack(">III", head[4:])
            if opts.limit:
                n = min(n, opts.limit)
            buf = f.read(n * h * w)
    except (OSError, EOFError) as e:
        raise DataError(f"{path}: cannot read idx file ({e})") from None
    if len(buf) < n * h * w:
        raise DataError(f"{path}: truncated idx file ({len(buf)} of {n * h * w} bytes)")
    a = np.frombuffer(buf, np.uint8).reshape(n, 1, h, w)
    if opts.channels == 3:
        a = np.repeat(a, 3, axis=1)
    return _fit(a, opts, path)


def _read_images(paths, opts, where):
    """Image files (one clip, in the given order) -> uint8 (N, C, H, W)."""
    paths = paths[:opts.limit] if opts.limit else paths
    frames, shape0 = [], None
    for p in paths:
        a = _ffmpeg_frames(p, opts, single_image=True)[:1]
        if shape0 is None:
            shape0 = (a.shape, p)
        elif a.shape != shape0[0]:
            raise DataError(f"{p}: image size {a.shape[3]}x{a.shape[2]} differs from "
                            f"{shape0[0][3]}x{shape0[0][2]} of {shape0[1]} in {where}; "
                            f"give --size WxH to resize all images")
        frames.append(a)
    return np.concatenate(frames)


def _is_idx(path):
    name = os.path.basename(path).lower()
    return "idx" in name or name.endswith("-ubyte") or name.endswith("-ubyte.gz")


def _ext(path):
    return os.path.splitext(path)[1].lower()


def _leaves(path):
    """Expand a source path into leaf sources: (kind, path, [image files])."""
    if URL_RE.match(path) or path.startswith("/dev/video"):
        return [("video", path, None)]
    if not os.path.exists(path):
        raise DataError(f"{path}: no such file or folder")
    if os.path.isfile(path):
        if _is_idx(path):
            return [("idx", path, None)]
        if _ext(path) in IMAGE_EXT:
            return [("images", path, [path])]
        return [("video", path, None)]
    names = sorted(os.listdir(path))
    full = [os.path.join(path, n) for n in names if not n.startswith(".")]
    files = [p for p in full if os.path.isfile(p)]
    videos = [p for p in files if _ext(p) in VIDEO_EXT]
    images = [p for p in files if _ext(p) in IMAGE_EXT]
    idx = [p for p in files if _is_idx(p) and "labels" not in os.path.basename(p)]
    out = [("video", p, None) for p in videos] + [("idx", p, None) for p in idx]
    if images:
        out.append(("images", path, images))
    if not out:
        for d in (p for p in full if os.path.isdir(p)):
            try:
                out += _leaves(d)
            except DataError:
                pass
    if not out:
        raise DataError(f"{path}: folder holds no videos, images or idx files")
    return out


def _key(kind, path, images, opts):
    """Cache key: source identity (path, size, mtime) + decoding options."""
    def stamp(p):
        try:
            st = os.stat(p)
            return [os.path.abspath(p), st.st_size, st.st_mtime_ns]
        except OSError:
            return [p]  # stream URL or device
    ident = [stamp(p) for p in images] if images else [stamp(path)]
    o = asdict(opts)
    if kind == "images":
        o.update(every=1, start=None, end=None)
    blob = json.dumps([CACHE_VERSION, kind, ident, o], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def decode_leaf(kind, path, images, opts, cache_dir):
    """Decoded uint8 (N, C, H, W) for one leaf, from the cache when possible."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", os.path.basename(path.rstrip("/")) or "src")
    cpath = os.path.join(cache_dir, f"{stem}-{_key(kind, path, images, opts)}.npy")
    if os.path.exists(cpath):
        return np.load(cpath, mmap_mode="r")
    if kind == "video":
        a = _ffmpeg_frames(path, opts)
    elif kind == "idx":
        a = _read_idx(path, opts)
    else:
        a = _read_images(images, opts, path)
    os.makedirs(cache_dir, exist_ok=True)
    tmp = f"{cpath}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        np.save(f, a)
    os.replace(tmp, cpath)
    return np.load(cpath, mmap_mode="r")


class FrameSet:
    """All training frames: uint8 array (N, C, H, W) plus a clip id per frame."""

    def __init__(self, sources, opts, cache_dir=None):
        if not sources:
            raise DataError("no data sources given (--data PATH ...)")
        cache_dir = cache_dir or default_cache_dir()
        arrays, clips, self.info = [], [], []
        first = None
        for src in sources:
            for kind, path, images in _leaves(src):
                a = decode_leaf(kind, path, images, opts, cache_dir)
                if len(a) == 0:
                    raise DataError(f"{path}: no frames decoded")
                if first is None:
                    first = (a.shape[1:], path)
                elif a.shape[1:] != first[0]:
                    raise DataError(f"{path}: frames are {a.shape[3]}x{a.shape[2]}, but "
                                    f"{first[1]} gave {first[0][2]}x{first[0][1]}; "
                                    f"give --size WxH to resize all sources")
                clip_id = len(arrays)
                if kind == "idx":  # independent images: every image its own clip
                    clips.append(np.arange(len(a), dtype=np.int64) + (1 << 40) * (clip_id + 1))
                else:
                    clips.append(np.full(len(a), clip_id, np.int64))
                arrays.append(a)
                self.info.append({"path": path, "kind": kind, "frames": int(len(a))})
                if kind == "video":
                    self.info[-1]["fps"] = probe_rate(path)
        self.every = opts.every
        self.frames = arrays[0] if len(arrays) == 1 else np.concatenate(arrays)
        self.clips = np.concatenate(clips)
        self.channels, self.height, self.width = (int(s) for s in self.frames.shape[1:])

    def __len__(self):
        return len(self.frames)

    def frame_interval(self):
        """Seconds between consecutive training frames (--every / the videos'
        frame rate): what a conditioned model's history means in time, for the
        daemon to pick the same spacing from a camera at another rate
        (media/history.h). None when a source is not a video or has no rate.
        Videos at different rates give no one interval: DataError."""
        if not self.info or any(i["kind"] != "video" or not i.get("fps") for i in self.info):
            return None
        return frame_interval({i["path"]: i["fps"] for i in self.info}, self.every)

    def valid_indices(self, k):
        """Indices i whose K predecessors i-k..i-1 lie in the same clip."""
        idx = np.arange(len(self.frames))
        if k == 0:
            return idx
        ok = np.zeros(len(idx), bool)
        ok[k:] = self.clips[k:] == self.clips[:-k]
        return idx[ok]


class BatchSampler:
    """Random training batches: uniform frames, random crops, optional flips.

    Returns (x0, cond): float tensors in [-1, 1]; x0 [B, C, s, s] (or the full
    frame when crop is None), cond [B, K*C, s, s] (oldest first) or None. The
    same crop and flip apply to a frame and its conditioning frames. All
    randomness comes from `generator` (a CPU torch.Generator), so a resumed
    run restoring its state draws the same batches.
    """

    def __init__(self, frameset, crop=None, flip=False, cond_frames=0):
        self.fs = frameset
        self.k = cond_frames
        self.flip = flip
        self.valid = torch.from_numpy(frameset.valid_indices(cond_frames))
        if len(self.valid) == 0:
            raise DataError(f"no frame has {cond_frames} predecessors in the same clip "
                            f"(clips too short for --cond-frames {cond_frames})")
        h, w = frameset.height, frameset.width
        self.crop = crop
        if crop is not None and (crop > h or crop > w):
            raise DataError(f"--crop {crop} is larger than the {w}x{h} frames")

    def sample(self, batch, generator):
        fs, k = self.fs, self.k
        pick = self.valid[torch.randint(len(self.valid), (batch,), generator=generator)]
        h, w = fs.height, fs.width
        s_h, s_w = (self.crop, self.crop) if self.crop else (h, w)
        ys = torch.randint(h - s_h + 1, (batch,), generator=generator)
        xs = torch.randint(w - s_w + 1, (batch,), generator=generator)
        flips = (torch.rand(batch, generator=generator) < 0.5) if self.flip else torch.zeros(batch, dtype=torch.bool)
        out = np.empty((batch, (1 + k) * fs.channels, s_h, s_w), np.uint8)
        for b in range(batch):
            i, y, x = int(pick[b]), int(ys[b]), int(xs[b])
            seq = [fs.frames[i]] + [fs.frames[j] for j in range(i - k, i)]
            a = np.concatenate([f[:, y:y + s_h, x:x + s_w] for f in seq])
            out[b] = a[:, :, ::-1] if flips[b] else a
        t = torch.from_numpy(out).float().div_(127.5).sub_(1.0)
        c = fs.channels
        return t[:, :c], (t[:, c:] if k else None)

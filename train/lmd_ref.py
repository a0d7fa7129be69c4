"""lmd_ref.py — an independent PyTorch implementation of the LMD sampler.

The reference the C engine's full inpainting is checked against
(tests/test_parity.py), written from the method, not from the C code:
Philox4x32-10 Gaussian noise (compute/rng.h's definition), the DDIM step
schedule, RePaint moves, checkerboard masks, Song et al.'s replacement, and
the MSE detect step. Same seed => the same noise as every C backend, so the
comparison is number for number.
"""
import math

import numpy as np
import torch

M0, M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
W0, W1 = np.uint32(0x9E3779B9), np.uint32(0xBB67AE85)
MASK32 = np.uint64(0xFFFFFFFF)


def philox(c0, c1, c2, c3, k0, k1):
    """Vectorised Philox4x32-10 on uint32 arrays -> four uint32 arrays."""
    c = [np.asarray(v, dtype=np.uint32) for v in (c0, c1, c2, c3)]
    k0, k1 = np.uint32(k0), np.uint32(k1)
    with np.errstate(over="ignore"):
        for _ in range(10):
            p0 = M0 * c[0].astype(np.uint64)
            p1 = M1 * c[2].astype(np.uint64)
            n0 = (p1 >> np.uint64(32)).astype(np.uint32) ^ c[1] ^ k0
            n1 = (p1 & MASK32).astype(np.uint32)
            n2 = (p0 >> np.uint64(32)).astype(np.uint32) ^ c[3] ^ k1
            n3 = (p0 & MASK32).astype(np.uint32)
            c = [n0, n1, n2, n3]
            k0 = np.uint32(k0 + W0)
            k1 = np.uint32(k1 + W1)
    return c


def gauss(seed, stream, n):
    """z[i] = N(0,1) for i < n, as lmd_gauss(seed, stream, i) in compute/rng.h."""
    nb = (n + 3) // 4
    b = np.arange(nb, dtype=np.uint64)
    r = philox((b & MASK32).astype(np.uint32), (b >> np.uint64(32)).astype(np.uint32),
               np.full(nb, stream, np.uint32), np.zeros(nb, np.uint32),
               seed & 0xFFFFFFFF, (seed >> 32) & 0xFFFFFFFF)
    out = np.empty((nb, 4), np.float32)
    for j in (0, 2):
        u0 = ((r[j] >> np.uint32(8)).astype(np.float32) + np.float32(0.5)) * np.float32(1 / 16777216)
        u1 = ((r[j + 1] >> np.uint32(8)).astype(np.float32) + np.float32(0.5)) * np.float32(1 / 16777216)
        rad = np.sqrt(np.float32(-2) * np.log(u0))
        th = np.float32(6.2831853071795864) * u1
        out[:, j] = rad * np.cos(th)
        out[:, j + 1] = rad * np.sin(th)
    return out.reshape(-1)[:n]


def steps(S, t0):
    return [((i + 1) * (t0 + 1)) // S - 1 for i in range(S)]


def moves(S, jump=0, resample=0):
    """[(down, k)]: down k -> k-1 evaluates at tau[k]; up k -> k+1 re-noises."""
    jump = jump if jump > 0 and resample > 1 else 0
    left = {}
    if jump:
        for j in range(S - 1 - jump, -1, -jump):
            left[j] = resample - 1
    out, k = [], S - 1
    while k >= 0:
        out.append((True, k))
        k -= 1
        if k >= 0 and left.get(k, 0) > 0:
            left[k] -= 1
            for _ in range(jump):
                out.append((False, k))
                k += 1
    return out


def checkerboard(h, w, blocks, rep):
    """1 = known, 0 = inpaint; attempt rep inpaints blocks with (by+bx+rep) even."""
    by = (np.arange(h) * blocks // h)[:, None]
    bx = (np.arange(w) * blocks // w)[None, :]
    return ((by + bx + rep) % 2 != 0).astype(np.float32)


def inpaint(model, abar, images, S, reps, t0, seed=0, eta=0.0, blocks=8, jump=0,
            resample=0, cond=None):
    """images: [n, C, H, W] in [0,1] (H, W already multiples of the model's
    stride). Returns (recon [n, reps, C, H, W] in [-1,1], masks [n, reps, H, W]).
    Batch layout and noise streams follow compute/engine.c."""
    n, C, H, W = images.shape
    x0 = (2 * images - 1).repeat_interleave(reps, dim=0).double()
    B = n * reps
    m = np.stack([checkerboard(H, W, blocks, r) for _ in range(n) for r in range(reps)])
    m = torch.from_numpy(m)[:, None].expand(B, C, H, W).double()
    tau = steps(S, t0)
    ab = lambda k: 1.0 if k < 0 else float(abar[tau[k]])  # noqa: E731
    per = reps * C * H * W   # one image's attempts; every image gets the same noise
    stream = 0

    def z():
        nonlocal stream
        v = np.tile(gauss(seed, stream, per).astype(np.float64), n)
        v = torch.from_numpy(v).reshape(B, C, H, W)
        stream += 1
        return v

    dt = next(model.parameters()).dtype
    c = None
    if cond is not None:
        c = (2 * cond - 1).repeat_interleave(reps, dim=0).to(dt)
    a = ab(S - 1)
    x = math.sqrt(a) * x0 + math.sqrt(1 - a) * z()
    for down, k in moves(S, jump, resample):
        if down:
            at, ap = ab(k), ab(k - 1)
            x = m * (math.sqrt(at) * x0 + math.sqrt(1 - at) * z()) + (1 - m) * x
            t = torch.full((B,), tau[k], dtype=torch.long)
            with torch.no_grad():
                e = model(x.to(dt), t, c).double()
            sigma = eta * math.sqrt((1 - ap) / (1 - at)) * math.sqrt(1 - at / ap)
            x0p = ((x - math.sqrt(1 - at) * e) / math.sqrt(at)).clamp(-1, 1)
            ep = (x - math.sqrt(at) * x0p) / math.sqrt(1 - at)
            x = math.sqrt(ap) * x0p + math.sqrt(max(1 - ap - sigma ** 2, 0)) * ep
            if sigma > 0:
                x = x + sigma * z()
        else:
            r = ab(k + 1) / ab(k)
            x = math.sqrt(r) * x + math.sqrt(1 - r) * z()
    x = m * x0 + (1 - m) * x
    return x.reshape(n, reps, C, H, W), m[:, 0].reshape(n, reps, H, W)


def mse_scores(images, recon, masks):
    """Median over attempts of the mean squared error on inpainted pixels ([0,1] units)."""
    rec = ((recon + 1) / 2).clamp(0, 1)
    d = ((rec - images[:, None].double()) ** 2).mean(dim=2)  # [n, reps, H, W]
    w = 1 - masks
    per = (d * w).sum(dim=(2, 3)) / w.sum(dim=(2, 3))
    return per.median(dim=1).values if per.shape[1] % 2 else per.sort(dim=1).values[:, per.shape[1] // 2 - 1:per.shape[1] // 2 + 1].mean(dim=1)

"""unet.py — the reference DDPM U-Net and noise schedule for lmdd.

This is the model the C engine (compute/unet.c) must reproduce number for
number: same architecture, same parameter names as the safetensors file
(docs/model-format.md). Ho et al. 2020's ε-prediction U-Net in the layout of
pytorch_diffusion: GroupNorm/SiLU residual blocks with a time embedding,
single-head self-attention at chosen levels, stride-2 conv down, nearest ×2 +
conv up, skip concatenations. Fully convolutional: any H, W that are
multiples of 2^(levels-1).

Runs under Debian's python3-torch (1.13, CPU) and current CUDA PyTorch alike.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

GN_EPS = 1e-6


def timestep_embedding(t, dim):
    """Sinusoidal embedding of integer steps t (shape [N]) -> [N, dim]."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) / (half - 1)
                      * torch.arange(half, dtype=torch.float32, device=t.device))
    args = t.float()[:, None] * freqs[None, :]
    emb = torch.cat([torch.sin(args), torch.cos(args)], dim=1)
    if dim % 2:
        emb = F.pad(emb, (0, 1))
    return emb


def alpha_bars(schedule, timesteps, beta_start=1e-4, beta_end=0.02):
    """ᾱ_t for t = 0..T-1 as float64, as compute/model.c computes them."""
    T = timesteps
    if schedule == "linear":
        betas = torch.linspace(beta_start, beta_end, T, dtype=torch.float64)
    elif schedule == "cosine":
        s = 0.008
        def f(t):
            return math.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2
        betas = torch.tensor([min(1 - f(i + 1) / f(i), 0.999) for i in range(T)],
                             dtype=torch.float64)
    else:
        raise ValueError(f"unknown schedule '{schedule}' (linear or cosine)")
    return torch.cumprod(1 - betas, dim=0)


class ResBlock(nn.Module):
    def __init__(self, cin, cout, temb_ch, groups, dropout=0.0):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin, eps=GN_EPS)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.temb_proj = nn.Linear(temb_ch, cout)
        self.norm2 = nn.GroupNorm(groups, cout, eps=GN_EPS)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        if cin != cout:
            self.nin_shortcut = nn.Conv2d(cin, cout, 1)
        else:
            self.nin_shortcut = None

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.temb_proj(F.silu(temb))[:, :, None, None]
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        skip = x if self.nin_shortcut is None else self.nin_shortcut(x)
        return skip + h


class AttnBlock(nn.Module):
    def __init__(self, c, groups):
        super().__init__()
        self.norm = nn.GroupNorm(groups, c, eps=GN_EPS)
        self.q = nn.Conv2d(c, c, 1)
        self.k = nn.Conv2d(c, c, 1)
        self.v = nn.Conv2d(c, c, 1)
        self.proj_out = nn.Conv2d(c, c, 1)

    def forward(self, x):
        n, c, h, w = x.shape
        y = self.norm(x)
        q = self.q(y).reshape(n, c, h * w)
        k = self.k(y).reshape(n, c, h * w)
        v = self.v(y).reshape(n, c, h * w)
        att = torch.softmax(torch.bmm(q.transpose(1, 2), k) / math.sqrt(c), dim=2)  # [n, i, j]
        out = torch.bmm(v, att.transpose(1, 2)).reshape(n, c, h, w)
        return x + self.proj_out(out)


class Downsample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, stride=2, padding=1)

    def forward(self, x):
        return self.conv(x)


class Upsample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class Level(nn.Module):
    pass


class UNet(nn.Module):
    """ε-prediction U-Net. cfg keys: in_channels, cond_frames, base_channels,
    channel_mult (list), num_res_blocks, attn_levels (list), groups, dropout."""

    def __init__(self, in_channels=1, cond_frames=0, base_channels=32,
                 channel_mult=(1, 2, 2), num_res_blocks=2, attn_levels=(2,),
                 groups=8, dropout=0.0):
        super().__init__()
        ch = base_channels
        self.cfg = dict(in_channels=in_channels, cond_frames=cond_frames,
                        base_channels=ch, channel_mult=list(channel_mult),
                        num_res_blocks=num_res_blocks,
                        attn_levels=list(attn_levels), groups=groups)
        self.ch = ch
        self.levels = len(channel_mult)
        temb_ch = 4 * ch
        self.temb = nn.Module()
        self.temb.dense = nn.ModuleList([nn.Linear(ch, temb_ch), nn.Linear(temb_ch, temb_ch)])
        self.conv_in = nn.Conv2d(in_channels * (1 + cond_frames), ch, 3, padding=1)

        skip_ch = [ch]
        block_in = ch
        self.down = nn.ModuleList()
        for i, mult in enumerate(channel_mult):
            lvl = Level()
            lvl.block = nn.ModuleList()
            lvl.attn = nn.ModuleList()
            block_out = ch * mult
            for _ in range(num_res_blocks):
                lvl.block.append(ResBlock(block_in, block_out, temb_ch, groups, dropout))
                block_in = block_out
                if i in attn_levels:
                    lvl.attn.append(AttnBlock(block_in, groups))
                skip_ch.append(block_in)
            if i != self.levels - 1:
                lvl.downsample = Downsample(block_in)
                skip_ch.append(block_in)
            self.down.append(lvl)

        self.mid = nn.Module()
        self.mid.block_1 = ResBlock(block_in, block_in, temb_ch, groups, dropout)
        self.mid.attn_1 = AttnBlock(block_in, groups)
        self.mid.block_2 = ResBlock(block_in, block_in, temb_ch, groups, dropout)

        up = [None] * self.levels
        for i in reversed(range(self.levels)):
            lvl = Level()
            lvl.block = nn.ModuleList()
            lvl.attn = nn.ModuleList()
            block_out = ch * channel_mult[i]
            for _ in range(num_res_blocks + 1):
                lvl.block.append(ResBlock(block_in + skip_ch.pop(), block_out,
                                          temb_ch, groups, dropout))
                block_in = block_out
                if i in attn_levels:
                    lvl.attn.append(AttnBlock(block_in, groups))
            if i != 0:
                lvl.upsample = Upsample(block_in)
            up[i] = lvl
        self.up = nn.ModuleList(up)
        assert not skip_ch

        self.norm_out = nn.GroupNorm(groups, block_in, eps=GN_EPS)
        self.conv_out = nn.Conv2d(block_in, in_channels, 3, padding=1)

    def forward(self, x, t, cond=None):
        """x: [N, C, H, W] noisy image; t: [N] integer steps; cond: [N, k*C, H, W]."""
        temb = timestep_embedding(t, self.ch).to(x.dtype)
        temb = self.temb.dense[1](F.silu(self.temb.dense[0](temb)))
        if cond is not None:
            x = torch.cat([x, cond], dim=1)
        hs = [self.conv_in(x)]
        for i in range(self.levels):
            lvl = self.down[i]
            for j, block in enumerate(lvl.block):
                h = block(hs[-1], temb)
                if len(lvl.attn):
                    h = lvl.attn[j](h)
                hs.append(h)
            if i != self.levels - 1:
                hs.append(lvl.downsample(hs[-1]))
        h = hs[-1]
        h = self.mid.block_2(self.mid.attn_1(self.mid.block_1(h, temb)), temb)
        for i in reversed(range(self.levels)):
            lvl = self.up[i]
            for j, block in enumerate(lvl.block):
                h = block(torch.cat([h, hs.pop()], dim=1), temb)
                if len(lvl.attn):
                    h = lvl.attn[j](h)
            if i != 0:
                h = lvl.upsample(h)
        return self.conv_out(F.silu(self.norm_out(h)))


def count_params(model):
    return sum(p.numel() for p in model.parameters())

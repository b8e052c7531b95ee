"""A small class-conditional UNet for 32x32 one-channel images (the stage-1 denoiser)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class UNetConfig:
    num_classes: int = 15      # class ``num_classes`` is the null class (guidance)
    size: int = 32
    base: int = 48
    mults: tuple[int, ...] = (1, 2, 2)
    blocks: int = 2            # residual blocks per resolution
    attn_res: tuple[int, ...] = (8,)
    heads: int = 4
    dropout: float = 0.1
    cond_channels: int = 0     # extra input planes (completion: the user's partial sketch)

    @classmethod
    def from_dict(cls, d: dict) -> UNetConfig:
        d = dict(d)
        for k in ("mults", "attn_res"):
            if k in d:
                d[k] = tuple(d[k])
        return cls(**d)


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """(B,) float timesteps in [0, 1000) -> (B, dim) sinusoidal features."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=t.device) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([args.cos(), args.sin()], dim=-1)


class ResBlock(nn.Module):
    """GroupNorm-SiLU-conv twice, with the embedding as a per-channel scale and shift."""

    def __init__(self, cin: int, cout: int, emb: int, dropout: float):
        super().__init__()
        self.norm1 = nn.GroupNorm(8, cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.emb = nn.Linear(emb, 2 * cout)
        self.norm2 = nn.GroupNorm(8, cout)
        self.drop = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        nn.init.zeros_(self.conv2.weight)
        nn.init.zeros_(self.conv2.bias)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        scale, shift = self.emb(e)[:, :, None, None].chunk(2, dim=1)
        h = self.norm2(h) * (1 + scale) + shift
        h = self.conv2(self.drop(F.silu(h)))
        return self.skip(x) + h


class SelfAttention2d(nn.Module):
    def __init__(self, ch: int, heads: int):
        super().__init__()
        self.norm = nn.GroupNorm(8, ch)
        self.attn = nn.MultiheadAttention(ch, heads, batch_first=True)

    def forward(self, x: torch.Tensor, e: torch.Tensor | None = None) -> torch.Tensor:
        B, C, H, W = x.shape
        h = self.norm(x).flatten(2).transpose(1, 2)          # (B, HW, C)
        h, _ = self.attn(h, h, h, need_weights=False)
        return x + h.transpose(1, 2).view(B, C, H, W)


class UNet(nn.Module):
    """forward(x (B, 1, S, S), t (B,) float, y (B,) long, cond (B, C, S, S) | None)
    -> (B, 1, S, S) prediction. ``cond`` are ``cfg.cond_channels`` planes stacked on the
    input (zeros when None: nothing given)."""

    def __init__(self, cfg: UNetConfig):
        super().__init__()
        self.cfg = cfg
        b = cfg.base
        emb = 4 * b
        self.time = nn.Sequential(nn.Linear(b, emb), nn.SiLU(), nn.Linear(emb, emb))
        self.label = nn.Embedding(cfg.num_classes + 1, emb)
        self.inp = nn.Conv2d(1 + cfg.cond_channels, b, 3, padding=1)
        self.down = nn.ModuleList()
        chans = [b]
        ch, res = b, cfg.size
        for li, m in enumerate(cfg.mults):
            for _ in range(cfg.blocks):
                layer = nn.ModuleList([ResBlock(ch, b * m, emb, cfg.dropout)])
                ch = b * m
                if res in cfg.attn_res:
                    layer.append(SelfAttention2d(ch, cfg.heads))
                self.down.append(layer)
                chans.append(ch)
            if li < len(cfg.mults) - 1:
                self.down.append(nn.ModuleList([nn.Conv2d(ch, ch, 3, stride=2, padding=1)]))
                chans.append(ch)
                res //= 2
        self.mid = nn.ModuleList([ResBlock(ch, ch, emb, cfg.dropout),
                                  SelfAttention2d(ch, cfg.heads),
                                  ResBlock(ch, ch, emb, cfg.dropout)])
        self.up = nn.ModuleList()
        for li, m in reversed(list(enumerate(cfg.mults))):
            for _ in range(cfg.blocks + 1):
                layer = nn.ModuleList([ResBlock(ch + chans.pop(), b * m, emb, cfg.dropout)])
                ch = b * m
                if res in cfg.attn_res:
                    layer.append(SelfAttention2d(ch, cfg.heads))
                self.up.append(layer)
            if li > 0:
                self.up.append(nn.ModuleList([nn.Upsample(scale_factor=2, mode="nearest"),
                                              nn.Conv2d(ch, ch, 3, padding=1)]))
                res *= 2
        self.out = nn.Sequential(nn.GroupNorm(8, ch), nn.SiLU(), nn.Conv2d(ch, 1, 3, padding=1))
        nn.init.zeros_(self.out[-1].weight)
        nn.init.zeros_(self.out[-1].bias)

    @staticmethod
    def _run(layer: nn.ModuleList, h: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        for mod in layer:
            h = mod(h, e) if isinstance(mod, (ResBlock, SelfAttention2d)) else mod(h)
        return h

    def forward(self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor,
                cond: torch.Tensor | None = None) -> torch.Tensor:
        e = self.time(timestep_embedding(t, self.cfg.base)) + self.label(y)   # (B, emb)
        if self.cfg.cond_channels:
            if cond is None:
                cond = x.new_zeros((x.shape[0], self.cfg.cond_channels, *x.shape[2:]))
            x = torch.cat([x, cond], dim=1)                     # (B, 1 + C, S, S)
        h = self.inp(x)
        skips = [h]
        for layer in self.down:
            h = self._run(layer, h, e)
            skips.append(h)
        for mod in self.mid:
            h = mod(h, e)
        for layer in self.up:
            if isinstance(layer[0], ResBlock):
                h = torch.cat([h, skips.pop()], dim=1)
            h = self._run(layer, h, e)
        return self.out(h)


def widen_input(state: dict, cond_channels: int) -> dict:
    """A state dict of a UNet without conditioning planes, made to load into one with
    ``cond_channels``: the new input weights start at zero, so the widened model computes
    exactly what the old one did until training moves them."""
    out = dict(state)
    w = out["inp.weight"]                                       # (b, 1 + old, 3, 3)
    extra = 1 + cond_channels - w.shape[1]
    if extra > 0:
        out["inp.weight"] = torch.cat([w, w.new_zeros((w.shape[0], extra, *w.shape[2:]))], 1)
    return out

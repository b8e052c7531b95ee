"""The leaf tokenizer: a VQ-VAE over 32x32 SDF patches (taming-transformers' interface).

encode(x) -> (z_q, vq_loss, indices); decode(z_q); decode_indices(indices). The quantizer
keeps its codebook as an exponential moving average of the encoder outputs assigned to
each code, and restarts codes that fall out of use on random encoder outputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class VQVAEConfig:
    patch: int = 32
    grid: int = 4               # codes per side: 4 (16 tokens a leaf) or 8 (64 tokens)
    codebook: int = 512
    code_dim: int = 32
    width: int = 64
    beta: float = 0.25          # commitment weight
    decay: float = 0.99         # EMA decay of the codebook
    dead_after: float = 0.03    # a code whose EMA usage (per batch) falls below this restarts
    edge_weight: float = 4.0    # extra reconstruction weight near the ink boundary
    binary: bool = False        # ablation: patches are +-1 ink masks instead of SDFs
    stretch: float = 0.5        # model space = sign(x) |x|**stretch: opens up the thin band
                                # of small SDF values where the ink is (1.0: off)

    @property
    def tokens(self) -> int:
        return self.grid * self.grid


class ResBlock(nn.Module):
    def __init__(self, ch: int):
        super().__init__()
        self.net = nn.Sequential(nn.GELU(), nn.Conv2d(ch, ch, 3, padding=1), nn.GELU(),
                                 nn.Conv2d(ch, ch, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.net(x)


class EMAQuantizer(nn.Module):
    """Nearest-code quantizer with EMA codebook updates and dead-code restarts.

    forward(z (B, D, H, W)) -> (z_q (B, D, H, W) straight-through, loss, indices (B, H, W)).
    """

    def __init__(self, *, codebook: int, dim: int, beta: float, decay: float, dead_after: float):
        super().__init__()
        self.beta, self.decay, self.dead_after = beta, decay, dead_after
        embed = torch.randn(codebook, dim) * 0.1
        self.register_buffer("embed", embed)
        self.register_buffer("usage", torch.ones(codebook))
        self.register_buffer("embed_sum", embed.clone())
        self.register_buffer("count", torch.ones(codebook))
        self.last_perplexity = 0.0

    def lookup(self, indices: torch.Tensor) -> torch.Tensor:
        """(B, H, W) long -> (B, D, H, W)."""
        return self.embed[indices].permute(0, 3, 1, 2).contiguous()

    def nearest(self, flat: torch.Tensor) -> torch.Tensor:
        """(N, D) -> (N,) index of the nearest code."""
        d = (flat.pow(2).sum(1, keepdim=True) - 2 * flat @ self.embed.t()
             + self.embed.pow(2).sum(1)[None])
        return d.argmin(1)

    def forward(self, z: torch.Tensor):
        B, D, H, W = z.shape
        flat = z.permute(0, 2, 3, 1).reshape(-1, D)              # (N, D)
        idx = self.nearest(flat.detach())
        onehot = F.one_hot(idx, self.embed.shape[0]).type(flat.dtype)  # (N, K)
        probs = onehot.mean(0)
        self.last_perplexity = float(torch.exp(-(probs * (probs + 1e-10).log()).sum()))
        if self.training:
            self._update(flat.detach(), onehot)
        z_q = self.embed[idx].view(B, H, W, D).permute(0, 3, 1, 2)
        loss = self.beta * F.mse_loss(z, z_q.detach())
        z_q = z + (z_q - z).detach()                              # straight-through
        return z_q, loss, idx.view(B, H, W)

    @torch.no_grad()
    def _update(self, flat: torch.Tensor, onehot: torch.Tensor) -> None:
        d = self.decay
        count = onehot.sum(0)
        self.count.mul_(d).add_(count, alpha=1 - d)
        self.embed_sum.mul_(d).add_(onehot.t() @ flat, alpha=1 - d)
        n = self.count.sum()
        smoothed = (self.count + 1e-5) / (n + 1e-5 * len(self.count)) * n   # Laplace
        self.embed.copy_(self.embed_sum / smoothed[:, None])
        self.usage.mul_(d).add_(count, alpha=1 - d)
        dead = self.usage < self.dead_after
        k = int(dead.sum())
        if k:
            pick = flat[torch.randint(0, len(flat), (k,), device=flat.device)]
            pick = pick + 0.01 * torch.randn_like(pick)
            self.embed[dead] = pick
            self.embed_sum[dead] = pick
            self.count[dead] = 1.0
            self.usage[dead] = 1.0


class VQVAE(nn.Module):
    """forward(x (B, 1, 32, 32) SDF in [-1, 1], targets=None) -> dict(recon, loss, indices,
    rec_loss, vq_loss, perplexity). Reconstructions are in [-1, 1] (tanh)."""

    def __init__(self, cfg: VQVAEConfig):
        super().__init__()
        self.cfg = cfg
        w = cfg.width
        downs = {4: 3, 8: 2}[cfg.grid]
        enc: list[nn.Module] = [nn.Conv2d(1, w, 3, padding=1)]
        for _ in range(downs):
            enc += [nn.GELU(), nn.Conv2d(w, w, 4, stride=2, padding=1)]
        enc += [ResBlock(w), ResBlock(w), nn.GELU(), nn.Conv2d(w, cfg.code_dim, 1)]
        self.encoder = nn.Sequential(*enc)
        self.quantizer = EMAQuantizer(codebook=cfg.codebook, dim=cfg.code_dim, beta=cfg.beta,
                                      decay=cfg.decay, dead_after=cfg.dead_after)
        dec: list[nn.Module] = [nn.Conv2d(cfg.code_dim, w, 3, padding=1), ResBlock(w), ResBlock(w)]
        for _ in range(downs):
            dec += [nn.GELU(), nn.ConvTranspose2d(w, w, 4, stride=2, padding=1)]
        dec += [nn.GELU(), nn.Conv2d(w, 1, 3, padding=1)]
        self.decoder = nn.Sequential(*dec)

    def _in(self, x: torch.Tensor) -> torch.Tensor:
        s = self.cfg.stretch
        return x if s == 1.0 else x.sign() * x.abs().clamp(min=1e-8).pow(s)

    def _out(self, y: torch.Tensor) -> torch.Tensor:
        s = self.cfg.stretch
        return y if s == 1.0 else y.sign() * y.abs().pow(1.0 / s)

    def encode(self, x: torch.Tensor):
        """(B, 1, P, P) SDF -> (z_q (B, D, g, g), vq_loss, indices (B, g, g))."""
        return self.quantizer(self.encoder(self._in(x)))

    def decode(self, z_q: torch.Tensor) -> torch.Tensor:
        """(B, D, g, g) -> (B, 1, P, P) SDF in [-1, 1]."""
        return self._out(torch.tanh(self.decoder(z_q)))

    def decode_indices(self, indices: torch.Tensor) -> torch.Tensor:
        """(B, g*g) or (B, g, g) long -> (B, 1, P, P)."""
        g = self.cfg.grid
        return self.decode(self.quantizer.lookup(indices.view(-1, g, g)))

    @torch.no_grad()
    def tokenize(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, P, P) -> (B, g*g) long, without touching the codebook."""
        z = self.encoder(self._in(x)).permute(0, 2, 3, 1).reshape(-1, self.cfg.code_dim)
        idx = self.quantizer.nearest(z)
        return idx.view(x.shape[0], -1)

    def forward(self, x: torch.Tensor, targets: torch.Tensor | None = None) -> dict:
        z_q, vq_loss, idx = self.encode(x)
        y = torch.tanh(self.decoder(z_q))                         # (B, 1, P, P) model space
        t = self._in(x)
        # weight pixels near the zero level set: that is where ink is won or lost
        w = 1.0 + self.cfg.edge_weight * torch.exp(-4.0 * t.abs())
        rec = (w * (y - t).abs()).mean()
        recon = self._out(y)
        return {"recon": recon, "indices": idx.flatten(1), "rec_loss": rec, "vq_loss": vq_loss,
                "loss": rec + vq_loss, "perplexity": self.quantizer.last_perplexity}


def ink_iou(recon: torch.Tensor, target: torch.Tensor) -> float:
    """Pooled IoU of ink (value < 0) over a batch of patches."""
    a, b = recon < 0, target < 0
    inter = (a & b).sum().item()
    union = (a | b).sum().item()
    return inter / union if union else 1.0

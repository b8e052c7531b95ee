"""Small composable attention blocks (pre-norm), shared by every model."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class FeedForward(nn.Module):
    def __init__(self, *, dim: int, hidden: int, dropout: float = 0.0):
        super().__init__()
        self.net = nn.Sequential(
            nn.LayerNorm(dim), nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(dropout),
            nn.Linear(hidden, dim), nn.Dropout(dropout),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class Attention(nn.Module):
    """Multi-head attention: ``x`` attends to ``context`` (default: itself).

    mask: bool (B, Tk), True = key may be attended to. causal: lower-triangular mask.
    """

    def __init__(self, *, dim: int, heads: int, dropout: float = 0.0, cross: bool = False):
        super().__init__()
        assert dim % heads == 0, "dim must divide by heads"
        self.heads = heads
        self.norm = nn.LayerNorm(dim)
        self.norm_ctx = nn.LayerNorm(dim) if cross else nn.Identity()
        self.to_q = nn.Linear(dim, dim, bias=False)
        self.to_kv = nn.Linear(dim, 2 * dim, bias=False)
        self.out = nn.Sequential(nn.Linear(dim, dim), nn.Dropout(dropout))
        self.dropout = dropout

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None,
                mask: torch.Tensor | None = None, causal: bool = False) -> torch.Tensor:
        B, T, C = x.shape
        x = self.norm(x)
        ctx = x if context is None else self.norm_ctx(context)
        h = self.heads
        q = self.to_q(x).view(B, T, h, C // h).transpose(1, 2)  # (B, h, T, c)
        k, v = self.to_kv(ctx).chunk(2, dim=-1)
        k = k.view(B, -1, h, C // h).transpose(1, 2)  # (B, h, Tk, c)
        v = v.view(B, -1, h, C // h).transpose(1, 2)
        attn_mask = None if mask is None else mask[:, None, None, :]  # (B, 1, 1, Tk)
        y = F.scaled_dot_product_attention(
            q, k, v, attn_mask=attn_mask, is_causal=causal and attn_mask is None,
            dropout_p=self.dropout if self.training else 0.0,
        )
        return self.out(y.transpose(1, 2).reshape(B, T, C))


class Transformer(nn.Module):
    """A stack of pre-norm self-attention (+ optional cross-attention) and MLP blocks."""

    def __init__(self, *, dim: int, depth: int, heads: int, mlp_ratio: float = 2.0,
                 dropout: float = 0.0, cross: bool = False):
        super().__init__()
        self.layers = nn.ModuleList()
        for _ in range(depth):
            self.layers.append(nn.ModuleList([
                Attention(dim=dim, heads=heads, dropout=dropout),
                Attention(dim=dim, heads=heads, dropout=dropout, cross=True) if cross
                else nn.Identity(),
                FeedForward(dim=dim, hidden=int(dim * mlp_ratio), dropout=dropout),
            ]))
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None,
                context: torch.Tensor | None = None, context_mask: torch.Tensor | None = None,
                causal: bool = False) -> torch.Tensor:
        for attn, cross, ff in self.layers:
            x = x + attn(x, mask=mask, causal=causal)
            if context is not None and isinstance(cross, Attention):
                x = x + cross(x, context=context, mask=context_mask)
            x = x + ff(x)
        return self.norm(x)


class PatchEmbed(nn.Module):
    """32x32 patch -> one token: a strided conv stem and a linear map.

    kind "light": a 4x4 then a 2x2 patchifying conv (each pixel seen once);
    kind "conv3": three overlapping 3x3 stride-2 convs (32 -> 16 -> 8 -> 4), which see
    stroke shapes across cell borders at about 4x the cost of "light".

    x: (N, 1, P, P) float -> (N, dim). Identical patches give identical tokens, so the
    all-background patches (SDF = +1 everywhere, far from ink) are embedded once per call.
    """

    def __init__(self, *, dim: int, patch: int = 32, width: int = 32, kind: str = "light"):
        super().__init__()
        if kind == "light":
            self.stem = nn.Sequential(
                nn.Conv2d(1, width, 4, 4), nn.GELU(),              # (N, w, P/4, P/4)
                nn.Conv2d(width, 2 * width, 2, 2), nn.GELU(),      # (N, 2w, P/8, P/8)
            )
            out = 2 * width * (patch // 8) ** 2
        elif kind == "conv3":
            self.stem = nn.Sequential(
                nn.Conv2d(1, width, 3, 2, 1), nn.GELU(),               # (N, w, P/2, P/2)
                nn.Conv2d(width, 2 * width, 3, 2, 1), nn.GELU(),       # (N, 2w, P/4, P/4)
                nn.Conv2d(2 * width, 4 * width, 3, 2, 1), nn.GELU(),   # (N, 4w, P/8, P/8)
            )
            out = 4 * width * (patch // 8) ** 2
        else:
            raise ValueError(f"unknown patch stem {kind!r}")
        self.proj = nn.Linear(out, dim)

    def _embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(self.stem(x).flatten(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        blank = (x >= 1.0).flatten(1).all(dim=1)                 # (N,)
        if not bool(blank.any()):
            return self._embed(x)
        out = x.new_empty(x.shape[0], self.proj.out_features)
        keep = ~blank
        if bool(keep.any()):
            out[keep] = self._embed(x[keep])
        out[blank] = self._embed(torch.ones_like(x[:1])).to(out.dtype)
        return out

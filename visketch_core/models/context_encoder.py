"""The context encoder: a ViT over each leaf's multi-scale context, one CLS vector per leaf.

Shared by the classifier and the generation refiner.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from visketch_core.models.layers import PatchEmbed, Transformer
from visketch_core.models.pyramid import PyramidEmbed


@dataclass(frozen=True)
class ContextEncoderConfig:
    dim: int = 96
    layers: int = 2
    heads: int = 4
    mlp_ratio: float = 2.0
    dropout: float = 0.0      # see docs/method.md: dropout cost a third of CPU step time
    depth: int = 4          # quadtree levels; tokens per context = depth * 9 (+ CLS)
    patch: int = 32
    stem_width: int = 24
    stem: str = "light"       # "light" (patchifying convs) | "conv3" (3x3 stride-2 convs)
    use_context: bool = True  # False: each leaf sees only its own patch (ablation)
    embed: str = "patch"      # node embeddings: "patch" (a stem per node's 32x32 patch),
    #                           "pyramid" (cells of one CNN over the sketch), "both" (summed)
    pyramid_width: int = 32
    pyramid_size: int = 64


class ContextEncoder(nn.Module):
    """Embed every quadtree node once, gather each leaf's context, encode it.

    forward(patches, tokens, level, boxes, mask) -> (B, L, dim) per-leaf CLS vectors.
      patches: float (B, M, P, P) node SDF patches
      tokens:  long (B, L, depth*9) node index per slot, -1 = dummy
      level:   long (B, L) leaf depth
      boxes:   float (B, L, 4) leaf boxes in canvas pixels (0..256)
      mask:    bool (B, L) True for real leaves
    """

    def __init__(self, cfg: ContextEncoderConfig):
        super().__init__()
        self.cfg = cfg
        d = cfg.dim
        assert cfg.embed in ("patch", "pyramid", "both"), cfg.embed
        self.embed = (PatchEmbed(dim=d, patch=cfg.patch, width=cfg.stem_width, kind=cfg.stem)
                      if cfg.embed != "pyramid" else None)
        self.pyramid = (PyramidEmbed(d, cfg.depth, cfg.pyramid_width, cfg.pyramid_size)
                        if cfg.embed != "patch" else None)
        self.level_emb = nn.Parameter(torch.randn(cfg.depth, d) * 0.02)
        self.slot_emb = nn.Parameter(torch.randn(9, d) * 0.02)
        self.dummy = nn.Parameter(torch.randn(d) * 0.02)
        self.cls = nn.Parameter(torch.randn(d) * 0.02)
        self.leaf_pos = nn.Sequential(nn.Linear(4 + cfg.depth, d), nn.GELU(), nn.Linear(d, d))
        self.encoder = Transformer(dim=d, depth=cfg.layers, heads=cfg.heads,
                                   mlp_ratio=cfg.mlp_ratio, dropout=cfg.dropout)
        slots = torch.arange(cfg.depth * 9)
        self.register_buffer("slot_pos", slots, persistent=False)

    def node_embeddings(self, patches: torch.Tensor) -> torch.Tensor:
        """(B, M, P, P) -> (B, M, dim): every node embedded exactly once."""
        B, M, P, _ = patches.shape
        out = None
        if self.embed is not None:
            out = self.embed(patches.reshape(B * M, 1, P, P).float()).view(B, M, -1)
        if self.pyramid is not None:
            cells, _ = self.pyramid(patches)
            out = cells if out is None else out + cells
        return out

    def leaf_query(self, level: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
        """(B, L, dim): CLS token plus the leaf's position, size and depth."""
        size = 2.0 ** (self.cfg.depth - 1) * self.cfg.patch
        b = boxes / size
        geo = torch.cat([b[..., :2], b[..., 2:] - b[..., :2],
                         nn.functional.one_hot(level.clamp(min=0), self.cfg.depth).float()], -1)
        return self.cls + self.leaf_pos(geo)

    def forward(self, patches, tokens, level, boxes, mask) -> torch.Tensor:
        return self.encode(self.node_embeddings(patches), tokens, level, boxes, mask)

    def encode(self, nodes, tokens, level, boxes, mask) -> torch.Tensor:
        """Per-leaf CLS vectors from node embeddings ``nodes`` (B, M, dim)."""
        cfg = self.cfg
        B, L, S = tokens.shape
        d = nodes.shape[-1]
        if not cfg.use_context:
            own = (level * 9 + 4).clamp(min=0)                    # (B, L)
            tokens = tokens.gather(2, own[..., None])             # (B, L, 1)
            slot_ids = own[..., None]
        else:
            slot_ids = self.slot_pos.expand(B, L, S)
        idx = tokens.clamp(min=0).reshape(B, -1)                  # (B, L*S')
        x = nodes.gather(1, idx[..., None].expand(-1, -1, d)).view(B, L, -1, d)
        x = torch.where((tokens >= 0)[..., None], x, self.dummy)  # (B, L, S', d)
        x = x + self.level_emb[slot_ids // 9] + self.slot_emb[slot_ids % 9]
        q = self.leaf_query(level, boxes)                         # (B, L, d)
        x = torch.cat([q[:, :, None], x], dim=2)                  # (B, L, 1+S', d)
        # encode only real leaves: padding never costs compute nor changes a result
        flat = x[mask]                                            # (N, 1+S', d)
        enc = self.encoder(flat)[:, 0]                            # (N, d)
        out = x.new_zeros(B, L, d)
        out[mask] = enc
        return out

"""The quadtree-context classifier: per-leaf context encoder -> leaves attend to each other
-> attention pooling to class logits; every leaf also votes."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from visketch_core.models.context_encoder import ContextEncoder, ContextEncoderConfig
from visketch_core.models.layers import Transformer


@dataclass(frozen=True)
class ClassifierConfig:
    num_classes: int = 15
    encoder: ContextEncoderConfig = field(default_factory=ContextEncoderConfig)
    leaf_layers: int = 2
    leaf_heads: int = 4
    dropout: float = 0.0
    pooling: str = "attention"      # "attention" | "mean" (ablation)
    vote_weight: float = 0.3        # weight of the per-leaf vote loss
    label_smoothing: float = 0.1
    head: str = "quadtree"          # "quadtree" (contexts, leaf mixer, pooling, votes) |
    #                                 "gap" (the node-embedding CNN, global average pooled:
    #                                 a plain CNN on the same backbone; needs embed "pyramid")
    fuse_gap: bool = False          # quadtree head: add the pyramid's global-average-pooled
    #                                 logits to the pooled leaves' (the CNN's view of the whole
    #                                 sketch, plus what the leaves and their contexts add)
    temperature: float = 1.0        # logits are divided by it (fitted after training on the
    #                                 validation split: label smoothing and outlier exposure
    #                                 leave the raw probabilities too low)
    outlier_weight: float = 0.5     # weight of the loss that pushes drawings of no class
    #                                 (target -1) toward a uniform distribution

    @staticmethod
    def from_dict(d: dict) -> ClassifierConfig:
        d = dict(d)
        d["encoder"] = ContextEncoderConfig(**d.get("encoder", {}))
        return ClassifierConfig(**d)


class QuadtreeClassifier(nn.Module):
    """forward(batch, targets=None) -> dict with logits (B, C), probs, leaf_weights (B, L),
    leaf_logits (B, L, C), leaf_probs and, given targets (B,), loss."""

    def __init__(self, cfg: ClassifierConfig):
        super().__init__()
        assert cfg.pooling in ("attention", "mean"), cfg.pooling
        assert cfg.head in ("quadtree", "gap"), cfg.head
        assert cfg.head == "quadtree" or cfg.encoder.embed == "pyramid", \
            "the gap head reads the pyramid's features"
        self.cfg = cfg
        d = cfg.encoder.dim
        self.encoder = ContextEncoder(cfg.encoder)
        if cfg.head == "gap" or cfg.fuse_gap:
            assert cfg.encoder.embed == "pyramid", "fusing gap logits needs embed 'pyramid'"
            self.gap_head = nn.Sequential(nn.Dropout(0.2), nn.Linear(
                self.encoder.pyramid.backbone.channels, cfg.num_classes))
        self.mixer = Transformer(dim=d, depth=cfg.leaf_layers, heads=cfg.leaf_heads,
                                 dropout=cfg.dropout)
        self.pool_score = (nn.Sequential(nn.Linear(d, d), nn.Tanh(), nn.Linear(d, 1))
                           if cfg.pooling == "attention" else None)
        self.head = nn.Sequential(nn.LayerNorm(d), nn.Dropout(cfg.dropout),
                                  nn.Linear(d, cfg.num_classes))
        self.vote = nn.Linear(d, cfg.num_classes)

    def forward(self, batch: dict, targets: torch.Tensor | None = None) -> dict:
        if self.cfg.head == "gap":
            return self._forward_gap(batch, targets)
        mask = batch["mask"]                                      # (B, L) bool
        gap_logits = None
        if self.cfg.fuse_gap:
            nodes, gap = self.encoder.pyramid(batch["patches"])
            gap_logits = self.gap_head(gap)
        else:
            nodes = self.encoder.node_embeddings(batch["patches"])
        h = self.encoder.encode(nodes, batch["tokens"], batch["level"], batch["boxes"], mask)
        h = self.mixer(h, mask=mask)                              # (B, L, d)
        if self.cfg.pooling == "attention":
            score = self.pool_score(h).squeeze(-1)                # (B, L)
        else:
            score = torch.zeros(mask.shape, device=h.device)
        score = score.masked_fill(~mask, float("-inf"))
        w = score.softmax(dim=-1)                                 # (B, L)
        pooled = torch.einsum("bl,bld->bd", w, h)
        logits = self.head(pooled)                                # (B, C)
        if gap_logits is not None:
            logits = logits + gap_logits
        logits = logits / self.cfg.temperature
        leaf_logits = self.vote(h)                                # (B, L, C)
        out = {
            "logits": logits,
            "probs": logits.softmax(-1),
            "leaf_weights": w,
            "leaf_logits": leaf_logits,
            "leaf_probs": leaf_logits.softmax(-1),
            "pooled": pooled,
        }
        if targets is not None:
            out["loss"] = self.loss(logits, targets, leaf_logits, mask)
        return out

    def _forward_gap(self, batch: dict, targets: torch.Tensor | None) -> dict:
        """The plain-CNN head. Its leaf outputs are a class activation map read at the
        leaves: the logits are the mean over the 4x4 cells of ``head(cell feature)``, so each
        leaf's vote is the head applied to the cells under it (overlap-weighted), and its
        weight a softmax over leaves of that vote's logit for the predicted class."""
        mask = batch["mask"]
        maps = self.encoder.pyramid.maps(batch["patches"])
        cells = maps[2]                                           # (B, C, 4, 4)
        pooled = cells.mean(dim=(2, 3))
        T = self.cfg.temperature
        logits = self.gap_head(pooled) / T
        B, Cf, n, _ = cells.shape
        size = 2.0 ** (self.cfg.encoder.depth - 1) * self.cfg.encoder.patch
        edges = torch.linspace(0, size, n + 1, device=cells.device)
        box = batch["boxes"]                                      # (B, L, 4) x0 y0 x1 y1

        def overlap(lo, hi):                                      # (B, L, n)
            return (torch.minimum(hi[..., None], edges[1:]) -
                    torch.maximum(lo[..., None], edges[:-1])).clamp(min=0)

        wx, wy = overlap(box[..., 0], box[..., 2]), overlap(box[..., 1], box[..., 3])
        w = wy[..., :, None] * wx[..., None, :]                   # (B, L, n, n)
        w = w.flatten(2) / w.flatten(2).sum(-1, keepdim=True).clamp(min=1e-6)
        feats = torch.einsum("blk,bck->blc", w, cells.flatten(2))   # (B, L, C)
        leaf_logits = self.gap_head(feats) / T                    # (B, L, classes)
        top = logits.argmax(-1)                                   # (B,)
        score = leaf_logits.gather(2, top[:, None, None].expand(-1, mask.shape[1], 1))[..., 0]
        weights = score.masked_fill(~mask, float("-inf")).softmax(-1)
        out = {"logits": logits, "probs": logits.softmax(-1), "leaf_weights": weights,
               "leaf_logits": leaf_logits, "leaf_probs": leaf_logits.softmax(-1),
               "pooled": pooled}
        if targets is not None:
            out["loss"] = self.loss(logits, targets, None, mask)
        return out

    def loss(self, logits, targets, leaf_logits, mask) -> torch.Tensor:
        """Label-smoothed cross-entropy on the sketch and (weighted) on every leaf's vote;
        rows with target -1 are drawings of no class: their loss is the cross-entropy to
        the uniform distribution (outlier exposure), scaled by ``outlier_weight``."""
        ls = self.cfg.label_smoothing
        known = targets >= 0
        loss = logits.new_zeros(())
        if known.any():
            loss = loss + F.cross_entropy(logits[known], targets[known], label_smoothing=ls)
            if leaf_logits is not None and self.cfg.vote_weight > 0:
                m = mask & known[:, None]
                t = targets[:, None].expand_as(mask)[m]
                loss = loss + self.cfg.vote_weight * F.cross_entropy(
                    leaf_logits[m], t, label_smoothing=ls)
        if (~known).any() and self.cfg.outlier_weight > 0:
            lp = logits[~known].log_softmax(-1)
            loss = loss + self.cfg.outlier_weight * (-lp.mean(-1)).mean()
        return loss

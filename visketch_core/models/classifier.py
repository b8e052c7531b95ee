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
        self.cfg = cfg
        d = cfg.encoder.dim
        self.encoder = ContextEncoder(cfg.encoder)
        self.mixer = Transformer(dim=d, depth=cfg.leaf_layers, heads=cfg.leaf_heads,
                                 dropout=cfg.dropout)
        self.pool_score = (nn.Sequential(nn.Linear(d, d), nn.Tanh(), nn.Linear(d, 1))
                           if cfg.pooling == "attention" else None)
        self.head = nn.Sequential(nn.LayerNorm(d), nn.Dropout(cfg.dropout),
                                  nn.Linear(d, cfg.num_classes))
        self.vote = nn.Linear(d, cfg.num_classes)

    def forward(self, batch: dict, targets: torch.Tensor | None = None) -> dict:
        mask = batch["mask"]                                      # (B, L) bool
        h = self.encoder(batch["patches"], batch["tokens"], batch["level"], batch["boxes"], mask)
        h = self.mixer(h, mask=mask)                              # (B, L, d)
        if self.cfg.pooling == "attention":
            score = self.pool_score(h).squeeze(-1)                # (B, L)
        else:
            score = torch.zeros(mask.shape, device=h.device)
        score = score.masked_fill(~mask, float("-inf"))
        w = score.softmax(dim=-1)                                 # (B, L)
        pooled = torch.einsum("bl,bld->bd", w, h)
        logits = self.head(pooled)                                # (B, C)
        leaf_logits = self.vote(h)                                # (B, L, C)
        out = {
            "logits": logits,
            "probs": logits.softmax(-1),
            "leaf_weights": w,
            "leaf_logits": leaf_logits,
            "leaf_probs": leaf_logits.softmax(-1),
        }
        if targets is not None:
            ls = self.cfg.label_smoothing
            loss = F.cross_entropy(logits, targets, label_smoothing=ls)
            if self.cfg.vote_weight > 0:
                t = targets[:, None].expand_as(mask)[mask]
                loss = loss + self.cfg.vote_weight * F.cross_entropy(
                    leaf_logits[mask], t, label_smoothing=ls)
            out["loss"] = loss
        return out

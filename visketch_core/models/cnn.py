"""A plain CNN on 64x64 renders: the recognition baseline, and the generation judge."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from visketch_core.geometry.raster import render
from visketch_core.sketch.model import FRAME, Sketch, normalise


@dataclass(frozen=True)
class CNNConfig:
    num_classes: int = 15
    size: int = 64
    width: int = 32
    dropout: float = 0.2
    label_smoothing: float = 0.1


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
    )


class SketchCNN(nn.Module):
    """forward(x (B, 1, S, S) ink in [0, 1], targets=None) -> dict with logits (B, C), probs,
    features (B, 4*width) (penultimate, used for Frechet distances) and, given targets, loss."""

    def __init__(self, cfg: CNNConfig):
        super().__init__()
        self.cfg = cfg
        w = cfg.width
        self.body = nn.Sequential(_block(1, w), _block(w, 2 * w), _block(2 * w, 4 * w),
                                  _block(4 * w, 4 * w))
        self.head = nn.Sequential(nn.Dropout(cfg.dropout), nn.Linear(4 * w, cfg.num_classes))

    def forward(self, x: torch.Tensor, targets: torch.Tensor | None = None) -> dict:
        f = self.body(x).mean(dim=(2, 3))                         # (B, 4w)
        logits = self.head(f)
        out = {"logits": logits, "probs": logits.softmax(-1), "features": f}
        if targets is not None:
            out["loss"] = F.cross_entropy(logits, targets, label_smoothing=self.cfg.label_smoothing)
        return out


def render_small(sketch: Sketch, size: int = 64, width: float = 3.0) -> np.ndarray:
    """float32 (size, size) ink of a normalised sketch: drawn at 256, area-resized."""
    ink = render(normalise(sketch), FRAME, width)
    return cv2.resize(ink, (size, size), interpolation=cv2.INTER_AREA)


def ink_batch(images: np.ndarray | list[np.ndarray]) -> torch.Tensor:
    """(N, S, S) float ink -> (N, 1, S, S) tensor."""
    return torch.from_numpy(np.ascontiguousarray(np.stack(images), dtype=np.float32))[:, None]

"""The PyTorch dataset over sketches, and the collate function that pads leaves with a mask."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from visketch_core.data.augment import AugmentConfig, augment
from visketch_core.geometry import GeometryConfig, preprocess
from visketch_core.geometry.context import Contexts
from visketch_core.sketch.model import Sketch


def binarise(ctx: Contexts) -> Contexts:
    """Binary patches instead of SDF (ablation): -1 on ink, +1 elsewhere."""
    patches = np.where(ctx.node_patches < 0, -1.0, 1.0).astype(np.float16)
    return Contexts(patches, ctx.tokens, ctx.boxes, ctx.level)


class SketchDataset(Dataset):
    """Items are (Contexts, label index).

    With a ``cache`` (a ContextCache), contexts are read from it: view ``epoch % views``
    (view 0 is the clean sketch, others fixed augmentations), so no geometry is recomputed.
    Else, with ``augment`` set, each access draws a fresh random augmentation (seeded by
    ``seed``, the index and the epoch); without it, contexts are computed once and kept.
    """

    def __init__(self, sketches: Sequence[Sketch], labels: Sequence[int],
                 geometry: GeometryConfig | None = None, *, augment: AugmentConfig | None = None,
                 seed: int = 0, binary: bool = False, cache=None):
        assert len(sketches) == len(labels)
        self.sketches = list(sketches)
        self.labels = np.asarray(labels, np.int64)
        self.geometry = geometry or GeometryConfig()
        self.augment = augment
        self.seed = seed
        self.binary = binary
        self.epoch = 0
        self.cache = cache
        self._memo: dict[int, Contexts] = {}

    def __len__(self) -> int:
        return len(self.sketches)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def contexts(self, i: int) -> Contexts:
        if self.cache is not None:
            return self.cache.get(i, self.epoch % self.cache.views)
        if self.augment is not None:
            rng = np.random.default_rng((self.seed, self.epoch, i))
            sk = augment(self.sketches[i], rng, self.augment)
            lo, hi = self.augment.width_range
            geo = self.geometry
            from dataclasses import replace

            geo = replace(geo, line_width=float(rng.uniform(lo, hi)))
            return preprocess(sk, geo)
        if i not in self._memo:
            self._memo[i] = preprocess(self.sketches[i], self.geometry)
        return self._memo[i]

    def __getitem__(self, i: int) -> tuple[Contexts, int]:
        ctx = self.contexts(i)
        if self.binary:
            ctx = binarise(ctx)
        return ctx, int(self.labels[i])


def collate(items: Sequence[tuple[Contexts, int]]) -> dict[str, torch.Tensor]:
    """Pad a list of (Contexts, label) to a batch.

    Returns patches float16 (B, M, P, P), tokens long (B, L, S) (-1 in padding),
    level long (B, L), boxes float (B, L, 4), mask bool (B, L), label long (B,).
    Sketches without leaves get one all-dummy leaf so every row has a key to attend to.
    """
    B = len(items)
    L = max(1, max(len(c) for c, _ in items))
    c0 = items[0][0]
    M, P, _ = c0.node_patches.shape
    S = c0.tokens.shape[1]
    patches = np.empty((B, M, P, P), np.float16)
    tokens = np.full((B, L, S), -1, np.int64)
    level = np.zeros((B, L), np.int64)
    boxes = np.zeros((B, L, 4), np.float32)
    mask = np.zeros((B, L), bool)
    for b, (c, _) in enumerate(items):
        n = len(c)
        patches[b] = c.node_patches
        tokens[b, :n] = c.tokens
        level[b, :n] = c.level
        boxes[b, :n] = c.boxes
        mask[b, : max(n, 1)] = True
    return {
        "patches": torch.from_numpy(patches),
        "tokens": torch.from_numpy(tokens),
        "level": torch.from_numpy(level),
        "boxes": torch.from_numpy(boxes),
        "mask": torch.from_numpy(mask),
        "label": torch.tensor([y for _, y in items], dtype=torch.long),
    }

"""The PyTorch dataset over sketches, and the collate function that pads leaves with a mask."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

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
    """Items are (Contexts, label index), or (Contexts, label, ink) with ``render_size``:
    ``ink`` is a (S, S) render of the same (augmented) sketch, the input of a CNN teacher.

    With a ``cache`` (a ContextCache), contexts are read from it: view ``epoch % views``
    (view 0 is the clean sketch, others fixed augmentations), so no geometry is recomputed.
    Else, with ``augment`` set, each access draws a fresh random augmentation (seeded by
    ``seed``, the index and the epoch); without it, contexts are computed once and kept.
    """

    def __init__(self, sketches: Sequence[Sketch], labels: Sequence[int],
                 geometry: GeometryConfig | None = None, *, augment: AugmentConfig | None = None,
                 seed: int = 0, binary: bool = False, cache=None,
                 render_size: int | None = None):
        assert len(sketches) == len(labels)
        self.sketches = list(sketches)
        self.labels = np.asarray(labels, np.int64)
        self.geometry = geometry or GeometryConfig()
        self.augment = augment
        self.seed = seed
        self.binary = binary
        self.epoch = 0
        self.cache = cache
        self.render_size = render_size
        if render_size is not None and cache is not None:
            raise ValueError("a render for a teacher needs live preprocessing, not a cache")
        self._memo: dict[int, Contexts] = {}

    def __len__(self) -> int:
        return len(self.sketches)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def view(self, i: int) -> tuple[Sketch, GeometryConfig]:
        """The sketch this epoch shows for item ``i`` and the geometry to draw it with."""
        if self.augment is None:
            return self.sketches[i], self.geometry
        rng = np.random.default_rng((self.seed, self.epoch, i))
        sk = augment(self.sketches[i], rng, self.augment)
        lo, hi = self.augment.width_range
        return sk, replace(self.geometry, line_width=float(rng.uniform(lo, hi)))

    def contexts(self, i: int) -> Contexts:
        if self.cache is not None:
            return self.cache.get(i, self.epoch % self.cache.views)
        if self.augment is not None:
            return preprocess(*self.view(i))
        if i not in self._memo:
            self._memo[i] = preprocess(self.sketches[i], self.geometry)
        return self._memo[i]

    def __getitem__(self, i: int) -> tuple:
        ctx = self.contexts(i)
        if self.binary:
            ctx = binarise(ctx)
        if self.render_size is None:
            return ctx, int(self.labels[i])
        from visketch_core.models.cnn import render_small

        sk, geo = self.view(i)
        if not sk.strokes:
            ink = np.zeros((self.render_size, self.render_size), np.float32)
        else:
            ink = render_small(sk, self.render_size, geo.line_width)
        return ctx, int(self.labels[i]), ink


def collate(items: Sequence[tuple]) -> dict[str, torch.Tensor]:
    """Pad a list of (Contexts, label) or (Contexts, label, ink) to a batch.

    Returns patches float16 (B, M, P, P), tokens long (B, L, S) (-1 in padding),
    level long (B, L), boxes float (B, L, 4), mask bool (B, L), label long (B,).
    With inks: ink float (B, 1, S, S).
    Sketches without leaves get one all-dummy leaf so every row has a key to attend to.
    """
    B = len(items)
    L = max(1, max(len(it[0]) for it in items))
    c0 = items[0][0]
    M, P, _ = c0.node_patches.shape
    S = c0.tokens.shape[1]
    patches = np.empty((B, M, P, P), np.float16)
    tokens = np.full((B, L, S), -1, np.int64)
    level = np.zeros((B, L), np.int64)
    boxes = np.zeros((B, L, 4), np.float32)
    mask = np.zeros((B, L), bool)
    for b, it in enumerate(items):
        c = it[0]
        n = len(c)
        patches[b] = c.node_patches
        tokens[b, :n] = c.tokens
        level[b, :n] = c.level
        boxes[b, :n] = c.boxes
        mask[b, : max(n, 1)] = True
    batch = {
        "patches": torch.from_numpy(patches),
        "tokens": torch.from_numpy(tokens),
        "level": torch.from_numpy(level),
        "boxes": torch.from_numpy(boxes),
        "mask": torch.from_numpy(mask),
        "label": torch.tensor([it[1] for it in items], dtype=torch.long),
    }
    if len(items[0]) > 2:
        batch["ink"] = torch.from_numpy(np.stack([it[2] for it in items]).astype(np.float32))[:, None]
    return batch

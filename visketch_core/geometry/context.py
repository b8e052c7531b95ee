"""Per-leaf multi-scale contexts.

For every leaf at level d, and every level k = 0..depth-1: the cell at level k holding the
leaf and its 3x3 neighbours (slot = 3*(dr+1) + (dc+1)). Levels finer than the leaf (k > d)
and neighbours outside the canvas are dummy slots. The token at position k*9 + slot thus
always has level k and slot ``slot``; the CLS token is added by the model.

Patches are not copied per slot: every cell of every level is resized to one 32x32 patch
once (``node_patches``), and a context is a table of indices into it, so a model embeds
each node once and gathers.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from visketch_core.geometry.config import GeometryConfig
from visketch_core.geometry.quadtree import Quadtree

DUMMY = -1
_OFFSETS = np.array([-1, 0, 1])


@dataclass
class Contexts:
    """Everything a recognition model needs for one sketch.

    node_patches: float16 (M, P, P) SDF patch of every cell of every level, M = 85 at depth 4;
        node index of (k, r, c) is (4**k - 1) // 3 + r * 2**k + c.
    tokens: int64 (L, depth*9) node index per context slot, DUMMY (-1) for dummy slots.
    boxes: float32 (L, 4) leaf boxes (x0, y0, x1, y1) in canvas pixels.
    level: int64 (L,) leaf depths.
    """

    node_patches: np.ndarray
    tokens: np.ndarray
    boxes: np.ndarray
    level: np.ndarray

    def __len__(self) -> int:
        return int(len(self.tokens))

    @property
    def leaf_patches(self) -> np.ndarray:
        """float16 (L, P, P): each leaf's own patch."""
        own = self.tokens[np.arange(len(self)), self.level * 9 + 4]
        return self.node_patches[own]


def node_offset(level: int | np.ndarray) -> int | np.ndarray:
    """Index of the first node of ``level`` in the flat node table."""
    return (4**level - 1) // 3


def node_patches(sdf: np.ndarray, cfg: GeometryConfig) -> np.ndarray:
    """float16 (M, P, P): the SDF of every cell, resized to P x P (area interpolation).

    Resizing the whole SDF to P * 2**k and cutting it into P x P blocks equals resizing
    each level-k cell on its own, in one call per level.
    """
    p = cfg.patch
    out = []
    for k in range(cfg.depth):
        n = 2**k
        side = p * n
        img = sdf if side == sdf.shape[0] else cv2.resize(sdf, (side, side),
                                                          interpolation=cv2.INTER_AREA)
        out.append(img.reshape(n, p, n, p).transpose(0, 2, 1, 3).reshape(n * n, p, p))
    return np.concatenate(out).astype(np.float16)


def context_tokens(tree: Quadtree, depth: int) -> np.ndarray:
    """int64 (L, depth*9): node index per (level, slot) for every leaf, DUMMY where none."""
    L = len(tree)
    tokens = np.full((L, depth, 3, 3), DUMMY, np.int64)
    if L == 0:
        return tokens.reshape(0, depth * 9)
    for k in range(depth):
        shift = np.maximum(tree.level - k, 0)
        r = (tree.row >> shift)[:, None, None] + _OFFSETS[None, :, None]  # (L, 3, 1)
        c = (tree.col >> shift)[:, None, None] + _OFFSETS[None, None, :]  # (L, 1, 3)
        n = 2**k
        valid = (r >= 0) & (r < n) & (c >= 0) & (c < n) & (k <= tree.level)[:, None, None]
        idx = node_offset(k) + r * n + c
        tokens[:, k] = np.where(valid, idx, DUMMY)
    return tokens.reshape(L, depth * 9)


def build_contexts(sdf: np.ndarray, tree: Quadtree, cfg: GeometryConfig | None = None) -> Contexts:
    """Contexts for every leaf of ``tree`` over the SDF ``sdf`` (float32 (size, size))."""
    cfg = cfg or GeometryConfig()
    return Contexts(
        node_patches=node_patches(sdf, cfg),
        tokens=context_tokens(tree, cfg.depth),
        boxes=tree.boxes,
        level=tree.level.copy(),
    )

"""The quadtree: nodes split while they hold significant ink; leaves are where they stop.

Cells are addressed by (level, row, col): level 0 is the whole canvas, level ``depth-1``
the finest grid of ``leaf_size`` cells. All counts come from one reshape-sum per level.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from visketch_core.geometry.config import GeometryConfig


@dataclass
class Quadtree:
    """Leaves of a sketch's quadtree (L leaves, ordered by level, then row, then col).

    level: int64 (L,) depth of each leaf (0 = root).
    row, col: int64 (L,) cell position within that level's 2**level x 2**level grid.
    ink: list of int64 (2**k, 2**k) ink-pixel counts per level, k = 0..depth-1.
    size: canvas side in pixels.
    """

    level: np.ndarray
    row: np.ndarray
    col: np.ndarray
    ink: list[np.ndarray]
    size: int

    def __len__(self) -> int:
        return int(len(self.level))

    @property
    def cell_size(self) -> np.ndarray:
        """int64 (L,) side of each leaf in pixels."""
        return self.size >> self.level

    @property
    def boxes(self) -> np.ndarray:
        """float32 (L, 4) leaf boxes (x0, y0, x1, y1) in canvas pixels."""
        s = self.cell_size
        x0, y0 = self.col * s, self.row * s
        return np.stack([x0, y0, x0 + s, y0 + s], axis=1).astype(np.float32)


def ink_counts(ink_mask: np.ndarray, depth: int) -> list[np.ndarray]:
    """Ink pixels per cell for every level; list index k holds a (2**k, 2**k) int64 array."""
    n = 2 ** (depth - 1)
    size = ink_mask.shape[0]
    c = size // n
    finest = ink_mask.reshape(n, c, n, c).sum(axis=(1, 3), dtype=np.int64)
    counts = [finest]
    while counts[-1].shape[0] > 1:
        g = counts[-1]
        m = g.shape[0] // 2
        counts.append(g.reshape(m, 2, m, 2).sum(axis=(1, 3)))
    return counts[::-1]


def build_quadtree(ink: np.ndarray, cfg: GeometryConfig | None = None) -> Quadtree:
    """Split rule: a node splits while it is larger than the leaf size and holds at least
    ``cfg.min_ink`` ink pixels; a node with ink that stops splitting is a leaf.

    ink: float (size, size) in [0, 1].
    """
    cfg = cfg or GeometryConfig()
    assert ink.shape == (cfg.size, cfg.size), f"expected {(cfg.size, cfg.size)}, got {ink.shape}"
    counts = ink_counts(np.asarray(ink) > cfg.ink_threshold, cfg.depth)
    levels, rows, cols = [], [], []
    # alive[k]: cells at level k whose ancestors all split (the root is always alive)
    alive = np.ones((1, 1), bool)
    for k in range(cfg.depth):
        c = counts[k]
        has_ink = alive & (c > 0)
        last = k == cfg.depth - 1
        splits = has_ink & (c >= cfg.min_ink) if not last else np.zeros_like(has_ink)
        leaf = has_ink & ~splits
        r, q = np.nonzero(leaf)
        levels.append(np.full(len(r), k, np.int64))
        rows.append(r.astype(np.int64))
        cols.append(q.astype(np.int64))
        alive = np.repeat(np.repeat(splits, 2, axis=0), 2, axis=1)
    return Quadtree(np.concatenate(levels), np.concatenate(rows), np.concatenate(cols),
                    counts, cfg.size)

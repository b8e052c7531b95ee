"""Leaf schedules: the order (and batching) in which stage 2 refines leaves.

``sequential``: one leaf at a time in quadtree order, as in the paper; every leaf sees all
earlier ones refined. ``parallel``: leaves coloured by the parity of their grid cell
(row % 2, col % 2) so that no two leaves of one colour touch, not even at a corner; each
colour is one batch. Leaves of mixed sizes can break the parity rule, so the colouring is
greedy: a leaf takes its parity colour unless a touching leaf already holds it.
"""

from __future__ import annotations

from enum import Enum

import numpy as np

from visketch_core.geometry.quadtree import Quadtree


class Schedule(str, Enum):
    SEQUENTIAL = "sequential"
    PARALLEL = "parallel"


def touching(boxes: np.ndarray) -> np.ndarray:
    """bool (L, L): boxes (x0, y0, x1, y1) that overlap or share an edge or a corner."""
    b = np.asarray(boxes, np.float64)
    x = (b[:, None, 0] <= b[None, :, 2]) & (b[None, :, 0] <= b[:, None, 2])
    y = (b[:, None, 1] <= b[None, :, 3]) & (b[None, :, 1] <= b[:, None, 3])
    t = x & y
    np.fill_diagonal(t, False)
    return t


def parity_colours(tree: Quadtree) -> np.ndarray:
    """int64 (L,) colour per leaf; touching leaves never share one."""
    L = len(tree)
    adj = touching(tree.boxes)
    pref = (tree.row % 2) * 2 + (tree.col % 2)
    colour = np.full(L, -1, np.int64)
    for i in np.argsort(-tree.cell_size, kind="stable"):   # big leaves first
        used = set(colour[adj[i]].tolist())
        c = int(pref[i])
        if c in used:
            c = next(k for k in range(L + 4) if k not in used)
        colour[i] = c
    return colour


def leaf_batches(tree: Quadtree, schedule: Schedule | str) -> list[np.ndarray]:
    """The leaves to refine, as a list of index batches refined one after another."""
    schedule = Schedule(schedule)
    L = len(tree)
    if schedule is Schedule.SEQUENTIAL:
        return [np.array([i]) for i in range(L)]
    colour = parity_colours(tree)
    return [np.flatnonzero(colour == c) for c in np.unique(colour)]

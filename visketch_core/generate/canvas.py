"""The generation canvas: one representation shared by training and sampling.

- coarse image: float32 (32, 32) in [0, 1], what stage 1 draws. It is the 256 px ink
  area-resized to 32 and brightened (``COARSE_GAIN``) so that a 3 px stroke becomes a
  ~1 px line of value ~1 instead of a faint grey one.
- S-hat: the coarse image upsampled (bilinear) to 256 and thresholded: thick ink whose
  quadtree gives the leaves to refine, and whose SDF is the canvas before refinement.
- the canvas: float32 (256, 256) SDF; refined leaves paste their decoded 32x32 SDF patch
  (resized to the leaf's size) into it. Ink is ``canvas < 0``.

The refiner is trained on exactly this: real ink -> coarse -> S-hat (``shat_from_coarse``).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from visketch_core.geometry import GeometryConfig, build_quadtree, render, sdf_from_ink
from visketch_core.geometry.context import context_tokens, node_offset
from visketch_core.geometry.quadtree import Quadtree
from visketch_core.sketch.model import Sketch, normalise

COARSE = 32
COARSE_GAIN = 2.5
SHAT_THRESHOLD = 0.5


def ink_of(sketch: Sketch, cfg: GeometryConfig | None = None) -> np.ndarray:
    """float32 (256, 256) ink of a sketch normalised into the frame."""
    cfg = cfg or GeometryConfig()
    return render(normalise(sketch, size=cfg.size, margin=cfg.margin), cfg.size, cfg.line_width)


def coarse_from_ink(ink: np.ndarray) -> np.ndarray:
    """float32 (32, 32) in [0, 1]: (256, 256) ink -> area-resized and brightened."""
    small = cv2.resize(np.asarray(ink, np.float32), (COARSE, COARSE), interpolation=cv2.INTER_AREA)
    return np.clip(small * COARSE_GAIN, 0.0, 1.0)


def shat_ink(coarse: np.ndarray, size: int = 256) -> np.ndarray:
    """float32 (size, size) 0/1: the coarse image upsampled (bilinear) and thresholded."""
    up = cv2.resize(np.asarray(coarse, np.float32), (size, size), interpolation=cv2.INTER_LINEAR)
    return (up > SHAT_THRESHOLD).astype(np.float32)


@dataclass
class Shat:
    """A coarse sketch lifted to the canvas: its ink, SDF canvas, quadtree and contexts.

    ink: float32 (256, 256) 0/1. sdf: float32 (256, 256). tree: the quadtree of ``ink``.
    tokens: int64 (L, 36) context node indices of every leaf (see geometry.context).
    """

    ink: np.ndarray
    sdf: np.ndarray
    tree: Quadtree
    tokens: np.ndarray


def shat_from_coarse(coarse: np.ndarray, cfg: GeometryConfig | None = None) -> Shat:
    cfg = cfg or GeometryConfig()
    ink = shat_ink(coarse, cfg.size)
    tree = build_quadtree(ink, cfg)
    return Shat(ink, sdf_from_ink(ink, cfg.sdf_scale), tree, context_tokens(tree, cfg.depth))


def leaf_slices(tree: Quadtree, i: int) -> tuple[slice, slice]:
    """(rows, cols) slices of leaf ``i`` in the canvas."""
    x0, y0, x1, y1 = (int(v) for v in tree.boxes[i])
    return slice(y0, y1), slice(x0, x1)


def leaf_node(tree: Quadtree, i: int | np.ndarray) -> int | np.ndarray:
    """Flat node index of leaf(s) ``i`` (into ``geometry.context.node_patches``)."""
    k = tree.level[i]
    return node_offset(k) + tree.row[i] * (2 ** k) + tree.col[i]


def paste(canvas: np.ndarray, tree: Quadtree, i: int, patch: np.ndarray) -> None:
    """Write a 32x32 SDF patch into leaf ``i``'s cell of the canvas (resized to fit)."""
    rows, cols = leaf_slices(tree, i)
    side = rows.stop - rows.start
    p = np.asarray(patch, np.float32)
    if p.shape[0] != side:
        p = cv2.resize(p, (side, side), interpolation=cv2.INTER_LINEAR)
    canvas[rows, cols] = p


def crop(field: np.ndarray, tree: Quadtree, i: int, patch: int = 32) -> np.ndarray:
    """float32 (patch, patch): leaf ``i``'s cell of a (256, 256) field, area-resized."""
    rows, cols = leaf_slices(tree, i)
    p = field[rows, cols]
    if p.shape[0] != patch:
        p = cv2.resize(p, (patch, patch), interpolation=cv2.INTER_AREA)
    return np.asarray(p, np.float32)


def pack_ink(ink: np.ndarray) -> np.ndarray:
    """(256, 256) float ink -> uint8 (8192,) bits (ink > 0.5)."""
    return np.packbits((np.asarray(ink) > 0.5).reshape(-1))


def unpack_ink(bits: np.ndarray, size: int = 256) -> np.ndarray:
    """uint8 (size*size/8,) -> float32 (size, size) 0/1."""
    return np.unpackbits(bits)[: size * size].reshape(size, size).astype(np.float32)

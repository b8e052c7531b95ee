"""Pictures of the geometry for people: a sketch with its quadtree leaves drawn over it."""

from __future__ import annotations

import cv2
import numpy as np

from visketch_core.geometry.quadtree import Quadtree

# BGR colours per depth (0 = whole canvas ... 3 = finest cells): blue, green, orange, red
DEPTH_COLOURS = [(200, 120, 30), (60, 170, 60), (20, 140, 240), (40, 40, 220)]


def draw_quadtree(ink: np.ndarray, tree: Quadtree, scale: int = 2) -> np.ndarray:
    """uint8 BGR image (size*scale, size*scale, 3): dark ink on white, each leaf's box
    outlined and lightly filled in its depth colour."""
    size = ink.shape[0] * scale
    base = cv2.resize(ink, (size, size), interpolation=cv2.INTER_LINEAR)
    img = np.repeat((255 * (1 - base))[..., None], 3, axis=2).astype(np.float32)
    fill = np.zeros_like(img)
    cover = np.zeros(img.shape[:2], np.float32)
    for x0, y0, x1, y1, lv in zip(*(tree.boxes * scale).T, tree.level):
        c = DEPTH_COLOURS[min(int(lv), len(DEPTH_COLOURS) - 1)]
        fill[int(y0):int(y1), int(x0):int(x1)] = c
        cover[int(y0):int(y1), int(x0):int(x1)] = 1
    a = 0.18 * cover[..., None]
    img = img * (1 - a) + fill * a
    out = img.astype(np.uint8)
    for x0, y0, x1, y1, lv in zip(*(tree.boxes * scale).T, tree.level):
        c = DEPTH_COLOURS[min(int(lv), len(DEPTH_COLOURS) - 1)]
        cv2.rectangle(out, (int(x0), int(y0)), (int(x1) - 1, int(y1) - 1), c, 1)
    return out

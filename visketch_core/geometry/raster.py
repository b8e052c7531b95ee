"""Anti-aliased rasterisation of strokes, and normalisation of pixel-only sketches."""

from __future__ import annotations

import cv2
import numpy as np

from visketch_core.sketch.model import FRAME, MARGIN, Sketch

_SHIFT = 4  # cv2 fixed-point bits: sub-pixel stroke positions
_ONE = 1 << _SHIFT


def render(sketch: Sketch, size: int = FRAME, width: float = 3.0) -> np.ndarray:
    """Draw a sketch's strokes (in the FRAME coordinate system) as ink.

    Returns float32 (size, size) in [0, 1], 1 = ink. A raster-only sketch is resized.
    Single-point strokes become dots.
    """
    if sketch.raster is not None and not sketch.strokes:
        img = sketch.raster.astype(np.float32)
        if img.shape != (size, size):
            img = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)
        return np.clip(img, 0.0, 1.0)
    canvas = np.zeros((size, size), np.uint8)
    scale = size / FRAME
    thickness = max(1, int(round(width * scale)))
    pts = [np.round(s * (scale * _ONE)).astype(np.int32) for s in sketch.strokes if len(s)]
    lines = [p for p in pts if len(p) > 1]
    if lines:
        cv2.polylines(canvas, lines, False, 255, thickness, cv2.LINE_AA, _SHIFT)
    for p in pts:
        if len(p) == 1 or not np.any(p != p[0]):
            radius = max(1, thickness // 2) * _ONE
            cv2.circle(canvas, tuple(int(v) for v in p[0]), radius, 255, -1, cv2.LINE_AA, _SHIFT)
    return canvas.astype(np.float32) * (1.0 / 255.0)


def normalise_raster(img: np.ndarray, size: int = FRAME, margin: float = MARGIN,
                     threshold: float = 0.1) -> np.ndarray:
    """Crop an ink image (float, 1 = ink) to its ink, scale to fit ``size - 2*margin``, centre.

    Returns float32 (size, size). An image without ink gives an empty canvas.
    """
    img = np.asarray(img, dtype=np.float32)
    out = np.zeros((size, size), np.float32)
    ys, xs = np.nonzero(img > threshold)
    if len(xs) == 0:
        return out
    crop = img[ys.min(): ys.max() + 1, xs.min(): xs.max() + 1]
    h, w = crop.shape
    avail = size - 2 * margin
    s = avail / max(h, w)
    nh, nw = max(1, int(round(h * s))), max(1, int(round(w * s))),
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
    crop = cv2.resize(crop, (nw, nh), interpolation=interp)
    y0, x0 = (size - nh) // 2, (size - nw) // 2
    out[y0: y0 + nh, x0: x0 + nw] = crop
    return np.clip(out, 0.0, 1.0)

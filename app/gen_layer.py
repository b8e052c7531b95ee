"""What the canvas shows of a generation in progress: a layer of its own over the ink.

Everything generated lives in the 256 px generation frame; ``frame_to_doc`` places that
frame in the document. The layer holds
- while stage 1 denoises, a faint picture of its current guess, updated at every step
  (so the wait shows the sketch taking shape);
- a faint preview of the stage-1 sketch (S-hat), shown until its leaves are refined;
- the refined leaves, painted as they arrive (each LeafEvent's patch, ink where SDF < 0);
- once a candidate is finished, its traced strokes (in document coordinates), which is
  exactly what Accept would add to the drawing.
The layer never touches the document.
"""

from __future__ import annotations

import time

import cv2
import numpy as np
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QImage, QPainter, QTransform

from app import ink

FRAME = 256
RES = 2                              # layer pixels per frame pixel (smooth leaf edges)
PREVIEW_RGBA = (90, 130, 200, 55)   # faint blue: the stage-1 sketch
STEP_ALPHA = 90                     # the denoising guess: at most this opaque, same blue
LEAF_RGBA = (30, 90, 200, 230)      # the refined leaves
GENERATED_INK = QColor(30, 90, 200)  # finished candidate strokes


def frame_to_doc_transform(matrix: np.ndarray) -> QTransform:
    """The inverse of a (2, 3) document -> frame similarity, as a QTransform."""
    m = np.vstack([np.asarray(matrix, np.float64), [0.0, 0.0, 1.0]])
    inv = np.linalg.inv(m)
    return QTransform(inv[0, 0], inv[1, 0], inv[0, 1], inv[1, 1], inv[0, 2], inv[1, 2])


class GenerationLayer:
    """The state painted for one candidate; ``paint`` is called by the canvas."""

    def __init__(self, frame_to_doc: QTransform):
        self.frame_to_doc = frame_to_doc
        side = FRAME * RES
        self._steps: np.ndarray | None = None         # uint8 alpha of the denoising guess
        self.step = (0, 0)                             # (step, total) of stage 1 shown
        self._preview = np.zeros((side, side), bool)
        self._leaves = np.zeros((side, side), bool)
        self._covered = np.zeros((side, side), bool)
        self._image: QImage | None = None
        self.strokes: list[np.ndarray] | None = None   # finished: traced strokes (document)
        self.painted: list[int] = []                   # leaf indices in the order received
        self.paint_log: list[tuple[float, int]] = []   # (perf_counter, leaves) at each paint
                                                        # that showed new leaves
        self.first_step_painted_at: float | None = None  # first paint of a stage-1 guess

    def set_step(self, step: int, total: int, x0: np.ndarray) -> None:
        """Stage 1's guess at one denoising step: float (32, 32) in [0, 1], 1 = ink."""
        guess = cv2.resize(np.clip(np.asarray(x0, np.float32), 0, 1), (FRAME * RES,) * 2,
                           interpolation=cv2.INTER_LINEAR)
        self._steps = np.round(guess * STEP_ALPHA).astype(np.uint8)
        self.step = (int(step), int(total))
        self._image = None

    def set_preview(self, shat_ink: np.ndarray) -> None:
        self._steps = None          # S-hat replaces the denoising guess
        ink = np.asarray(shat_ink, np.float32)
        self._preview = cv2.resize(ink, (FRAME * RES, FRAME * RES),
                                   interpolation=cv2.INTER_LINEAR) > 0.5
        self._image = None

    def add_leaf(self, index: int, box: tuple[int, int, int, int], patch: np.ndarray) -> None:
        x0, y0, x1, y1 = (int(v) * RES for v in box)
        side = x1 - x0
        p = np.asarray(patch, np.float32)       # the SDF, upsampled: smooth ink edges
        if p.shape[0] != side:
            p = cv2.resize(p, (side, side), interpolation=cv2.INTER_LINEAR)
        self._leaves[y0:y1, x0:x1] = p < 0
        self._covered[y0:y1, x0:x1] = True
        self.painted.append(int(index))
        self._image = None

    def set_strokes(self, strokes: list[np.ndarray]) -> None:
        self.strokes = list(strokes)

    @property
    def leaf_count(self) -> int:
        return len(self.painted)

    @property
    def showing_steps(self) -> bool:
        """The denoising guess is on screen (stage 1 is still running)."""
        return self._steps is not None

    def image(self) -> QImage:
        """The preview and the refined leaves as one RGBA image (RES pixels a frame pixel)."""
        if self._image is None:
            side = FRAME * RES
            rgba = np.zeros((side, side, 4), np.uint8)
            if self._steps is not None:
                rgba[..., :3] = PREVIEW_RGBA[:3]
                rgba[..., 3] = self._steps
            rgba[self._preview & ~self._covered] = PREVIEW_RGBA
            rgba[self._leaves] = LEAF_RGBA
            self._rgba = np.ascontiguousarray(rgba)     # the QImage borrows this buffer
            self._image = QImage(self._rgba.data, side, side, 4 * side,
                                 QImage.Format.Format_RGBA8888)
        return self._image

    def paint(self, p: QPainter, view: QTransform, pen_width: float) -> None:
        """Draw through ``view`` (document -> widget). Leaves the painter's transform reset."""
        p.save()
        if self.strokes is not None:
            ink.paint_strokes(p, view, [(s, pen_width) for s in self.strokes], GENERATED_INK)
        else:
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            p.setTransform(self.frame_to_doc * view)
            p.drawImage(QRectF(0, 0, FRAME, FRAME), self.image())
        p.restore()
        p.resetTransform()
        if self._steps is not None and self.first_step_painted_at is None:
            self.first_step_painted_at = time.perf_counter()
        n = len(self.painted)
        if n and (not self.paint_log or self.paint_log[-1][1] < n):
            self.paint_log.append((time.perf_counter(), n))

    @property
    def first_painted_at(self) -> float | None:
        """When the first refined leaf reached the screen (perf_counter), if it has."""
        return self.paint_log[0][0] if self.paint_log else None

    def painted_all_at(self, total: int) -> float | None:
        """When a paint first showed ``total`` leaves (perf_counter), if it has."""
        return next((t for t, n in self.paint_log if n >= total), None)

    def doc_strokes(self, frame_strokes: list[np.ndarray]) -> list[np.ndarray]:
        """Frame-coordinate strokes mapped into the document."""
        t = self.frame_to_doc
        m = np.array([[t.m11(), t.m21(), t.dx()], [t.m12(), t.m22(), t.dy()]], np.float64)
        return [(np.asarray(s, np.float64) @ m[:, :2].T + m[:, 2]).astype(np.float32)
                for s in frame_strokes if len(s)]

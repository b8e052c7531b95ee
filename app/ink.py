"""Ink helpers for the canvas: pens, polylines, cached layers and stroke hit-testing.

Pen widths are in document units, like the points: a stroke keeps its width whatever the
zoom, and looks the same in an export as on the canvas. On screen a stroke is never drawn
thinner than MIN_SCREEN_PX, so a zoomed-out drawing stays visible.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen, QPixmap, QTransform
from PySide6.QtWidgets import QWidget

INK = QColor(17, 17, 17)
MIN_SCREEN_PX = 1.0


def ink_pen(width: float, colour: QColor = INK) -> QPen:
    """A round pen ``width`` wide in the painter's coordinates."""
    return QPen(colour, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                Qt.PenJoinStyle.RoundJoin)


def draw_polyline(p: QPainter, pts: np.ndarray, width: float) -> None:
    """One stroke, float (N, 2) in the painter's coordinates, with the painter's pen.

    A stroke that never moved (a single click) is a round dot as wide as the pen: Qt
    draws a point, or a zero-length path, as a single pixel whatever the pen.
    """
    if len(pts) == 0:
        return
    if len(pts) == 1 or not np.any(pts != pts[0]):
        colour = p.pen().color()
        p.save()
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(colour)
        r = width / 2
        p.drawEllipse(QPointF(float(pts[0, 0]), float(pts[0, 1])), r, r)
        p.restore()
        return
    path = QPainterPath(QPointF(float(pts[0, 0]), float(pts[0, 1])))
    for x, y in pts[1:]:
        path.lineTo(float(x), float(y))
    p.drawPath(path)


def paint_strokes(p: QPainter, transform: QTransform, strokes: Iterable[tuple[np.ndarray, float]],
                  colour: QColor = INK) -> None:
    """Antialiased ink for ``(points, width)`` strokes (document coordinates and units)
    through ``transform``."""
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    p.setTransform(transform)
    scale = max(abs(transform.m11()), 1e-9)
    for pts, width in strokes:
        w = max(float(width), MIN_SCREEN_PX / scale)
        p.setPen(ink_pen(w, colour))
        draw_polyline(p, pts, w)


def layer(widget: QWidget, transform: QTransform, paint: Callable[[QPainter], None]) -> QPixmap:
    """A transparent pixmap the size of ``widget`` (HiDPI-aware), painted by ``paint``."""
    dpr = widget.devicePixelRatioF()
    pm = QPixmap(max(1, int(widget.width() * dpr)), max(1, int(widget.height() * dpr)))
    pm.setDevicePixelRatio(dpr)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setTransform(transform)
    paint(p)
    p.end()
    return pm


def distance_to_polyline(pts: np.ndarray, q: np.ndarray) -> float:
    """Smallest distance from point q (2,) to the polyline pts (N, 2)."""
    if len(pts) == 1:
        return float(np.hypot(*(pts[0] - q)))
    a, b = pts[:-1], pts[1:]
    ab = b - a
    denom = np.maximum((ab * ab).sum(1), 1e-12)
    t = np.clip(((q - a) * ab).sum(1) / denom, 0.0, 1.0)
    closest = a + ab * t[:, None]
    return float(np.sqrt(((closest - q) ** 2).sum(1)).min())

"""Ink helpers for the canvas: pens, polylines, cached layers and stroke hit-testing."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen, QPixmap, QTransform
from PySide6.QtWidgets import QWidget

INK = QColor(17, 17, 17)


def ink_pen(width: float, colour: QColor = INK) -> QPen:
    """A round pen whose width is in screen pixels, whatever the zoom (cosmetic)."""
    pen = QPen(colour, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
               Qt.PenJoinStyle.RoundJoin)
    pen.setCosmetic(True)
    return pen


def draw_polyline(p: QPainter, pts: np.ndarray) -> None:
    """One stroke, float (N, 2) in the painter's coordinates; a single point is a dot."""
    if len(pts) == 0:
        return
    if len(pts) == 1:
        p.drawPoint(QPointF(float(pts[0, 0]), float(pts[0, 1])))
        return
    path = QPainterPath(QPointF(float(pts[0, 0]), float(pts[0, 1])))
    for x, y in pts[1:]:
        path.lineTo(float(x), float(y))
    p.drawPath(path)


def paint_strokes(p: QPainter, transform: QTransform, width: float,
                  strokes: Iterable[np.ndarray], colour: QColor = INK) -> None:
    """Antialiased ink for ``strokes`` (document coordinates) through ``transform``."""
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    p.setTransform(transform)
    p.setPen(ink_pen(width, colour))
    for pts in strokes:
        draw_polyline(p, pts)


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

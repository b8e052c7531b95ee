"""What the canvas draws over the ink to show the model's reasoning.

- quadtree: every leaf box, outlined in its depth's colour;
- heatmap: every leaf filled in proportion to its attention-pooling weight;
- leaf vote: the hovered leaf highlighted, with its own top classes in a small card.

All boxes are in document coordinates (the prediction's ``leaf_boxes``); the painter
carries the document -> widget transform.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPen, QTransform

# leaf depth -> colour (0 = whole canvas ... 3 = 32 px cells): blue, green, orange, magenta
DEPTH_COLOURS = [QColor(40, 90, 220), QColor(20, 150, 80), QColor(235, 130, 20), QColor(200, 40, 150)]
HEAT_COLOUR = QColor(255, 60, 0)
HOVER_COLOUR = QColor(10, 10, 10)


def depth_colour(level: int) -> QColor:
    return DEPTH_COLOURS[min(max(int(level), 0), len(DEPTH_COLOURS) - 1)]


@dataclass
class OverlayFlags:
    quadtree: bool = True
    heatmap: bool = False
    leaf_votes: bool = True


def leaf_at(boxes: np.ndarray, x: float, y: float) -> int:
    """Index of the (smallest) leaf box holding document point (x, y), or -1."""
    if boxes is None or len(boxes) == 0:
        return -1
    b = np.asarray(boxes)
    inside = (b[:, 0] <= x) & (x < b[:, 2]) & (b[:, 1] <= y) & (y < b[:, 3])
    idx = np.flatnonzero(inside)
    if len(idx) == 0:
        return -1
    areas = (b[idx, 2] - b[idx, 0]) * (b[idx, 3] - b[idx, 1])
    return int(idx[np.argmin(areas)])


def _rect(box) -> QRectF:
    x0, y0, x1, y1 = (float(v) for v in box)
    return QRectF(x0, y0, x1 - x0, y1 - y0)


def paint_heatmap(p: QPainter, boxes: np.ndarray, weights: np.ndarray) -> None:
    """Fill each leaf with the heat colour, alpha proportional to weight / max weight."""
    if len(boxes) == 0:
        return
    w = np.asarray(weights, dtype=np.float64)
    top = float(w.max()) if len(w) else 0.0
    if top <= 0:
        return
    p.save()
    p.setPen(Qt.PenStyle.NoPen)
    for box, wi in zip(boxes, w, strict=True):
        c = QColor(HEAT_COLOUR)
        c.setAlphaF(float(0.04 + 0.5 * (wi / top) ** 1.5))  # a touch of contrast
        p.fillRect(_rect(box), c)
    p.restore()


def paint_quadtree(p: QPainter, boxes: np.ndarray, levels: np.ndarray) -> None:
    """Outline each leaf in its depth's colour (cosmetic lines; one call per depth)."""
    p.save()
    p.setBrush(Qt.BrushStyle.NoBrush)
    levels = np.asarray(levels)
    for level in np.unique(levels):
        c = QColor(depth_colour(int(level)))
        c.setAlpha(170)
        pen = QPen(c, 1.2)
        pen.setCosmetic(True)
        p.setPen(pen)
        p.drawRects([_rect(b) for b in boxes[levels == level]])
    p.restore()


def paint_hovered_leaf(p: QPainter, box, level: int) -> None:
    p.save()
    pen = QPen(HOVER_COLOUR, 2.5)
    pen.setCosmetic(True)
    p.setPen(pen)
    fill = QColor(depth_colour(level))
    fill.setAlpha(40)
    p.setBrush(QBrush(fill))
    p.drawRect(_rect(box))
    p.restore()


def paint_vote_card(p: QPainter, anchor: QPointF, title: str, votes: list[tuple[str, float]],
                    bounds: QRectF) -> None:
    """A small card near ``anchor`` (widget coordinates, identity transform) listing votes."""
    p.save()
    p.setTransform(QTransform())
    font = QFont(p.font())
    font.setPointSizeF(max(font.pointSizeF(), 9.0))
    p.setFont(font)
    fm = QFontMetricsF(font)
    lines = [title] + [f"{label}  {prob * 100:4.1f}%" for label, prob in votes]
    bar_w = 60.0
    width = max(fm.horizontalAdvance(s) for s in lines) + bar_w + 24
    height = fm.height() * len(lines) + 12
    x, y = anchor.x() + 16, anchor.y() + 16
    if x + width > bounds.right():
        x = anchor.x() - 16 - width
    if y + height > bounds.bottom():
        y = anchor.y() - 16 - height
    card = QRectF(max(x, bounds.left()), max(y, bounds.top()), width, height)
    p.setPen(QPen(QColor(60, 60, 60), 1))
    p.setBrush(QColor(255, 255, 255, 235))
    p.drawRoundedRect(card, 6, 6)
    ty = card.top() + 6
    for i, text in enumerate(lines):
        p.setPen(QColor(20, 20, 20) if i == 0 else QColor(50, 50, 50))
        p.drawText(QPointF(card.left() + 8, ty + fm.ascent()), text)
        if i > 0:
            prob = votes[i - 1][1]
            bx = card.right() - bar_w - 8
            p.fillRect(QRectF(bx, ty + 3, bar_w, fm.height() - 6), QColor(230, 230, 230))
            p.fillRect(QRectF(bx, ty + 3, bar_w * float(prob), fm.height() - 6),
                       QColor(40, 90, 220))
        ty += fm.height()
    p.restore()

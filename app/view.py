"""The canvas's view: document <-> widget coordinates, zoom, pan and fitting.

Kept apart from the drawing surface (``app.canvas``): this part knows nothing of strokes
except the rectangle ``ink_bounds`` gives, which subclasses provide.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, Signal
from PySide6.QtGui import QTransform
from PySide6.QtWidgets import QWidget

MIN_SCALE, MAX_SCALE = 0.05, 20.0
# Fit zooms in no further than this: pen widths are in document units, so a small drawing
# (QuickDraw's 0..255) fitted to a large window would otherwise show heavy, marker-like lines.
FIT_MAX_SCALE = 2.0


class ZoomableView(QWidget):
    """A widget showing document coordinates through a scale and an offset."""

    view_changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._scale = 1.0
        self._offset = QPointF(0.0, 0.0)
        self._auto_fit = False  # refit on resize, until the user zooms or pans

    def ink_bounds(self) -> tuple[float, float, float, float] | None:
        """The document rect the drawing covers (None: empty); subclasses say."""
        return None

    def _invalidate(self, *_args) -> None:
        self.update()

    def transform(self) -> QTransform:
        """Document -> widget coordinates."""
        return QTransform(self._scale, 0, 0, self._scale, self._offset.x(), self._offset.y())

    def to_document(self, pos: QPointF) -> tuple[float, float]:
        return ((pos.x() - self._offset.x()) / self._scale,
                (pos.y() - self._offset.y()) / self._scale)

    def to_widget(self, x: float, y: float) -> QPointF:
        return QPointF(x * self._scale + self._offset.x(), y * self._scale + self._offset.y())

    @property
    def scale(self) -> float:
        return self._scale

    def set_view(self, scale: float, offset: QPointF) -> None:
        self._auto_fit = False  # the user chose a view: keep it on resize
        self._scale = float(min(max(scale, MIN_SCALE), MAX_SCALE))
        self._offset = QPointF(offset)
        self._invalidate()
        self.view_changed.emit()

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        """Zoom keeping the document point under ``anchor`` (default: the centre) fixed."""
        anchor = QPointF(self.width() / 2, self.height() / 2) if anchor is None else anchor
        dx, dy = self.to_document(anchor)
        scale = float(min(max(self._scale * factor, MIN_SCALE), MAX_SCALE))
        self.set_view(scale, QPointF(anchor.x() - dx * scale, anchor.y() - dy * scale))

    def fit_view(self, margin_px: float = 40.0) -> None:
        """Show the whole drawing (or the origin at 1:1 when empty)."""
        box = self.ink_bounds()
        if box is None:
            self.set_view(1.0, QPointF(0, 0))
            return
        self.fit_rect(*box, margin_px, max_scale=FIT_MAX_SCALE)
        self._auto_fit = True  # refit when the widget is resized, until the user zooms or pans

    def view(self) -> tuple[float, QPointF, bool]:
        """(scale, offset, auto-fit): what ``restore_view`` puts back."""
        return self._scale, QPointF(self._offset), self._auto_fit

    def restore_view(self, view: tuple[float, QPointF, bool]) -> None:
        scale, offset, auto_fit = view
        self.set_view(scale, offset)
        self._auto_fit = auto_fit

    def visible_rect(self) -> tuple[float, float, float, float]:
        """The part of the document on screen: (x0, y0, x1, y1) in document coordinates."""
        x0, y0 = self.to_document(QPointF(0, 0))
        x1, y1 = self.to_document(QPointF(self.width(), self.height()))
        return x0, y0, x1, y1

    def ensure_visible(self, x0: float, y0: float, x1: float, y1: float) -> None:
        """Zoom out (never in) so that this document rect is on screen with the drawing."""
        vx0, vy0, vx1, vy1 = self.visible_rect()
        if x0 >= vx0 and y0 >= vy0 and x1 <= vx1 and y1 <= vy1:
            return
        box = self.ink_bounds()
        if box is not None:
            x0, y0 = min(x0, box[0]), min(y0, box[1])
            x1, y1 = max(x1, box[2]), max(y1, box[3])
        self.fit_rect(x0, y0, x1, y1, 20.0, max_scale=self._scale)

    def fit_rect(self, x0: float, y0: float, x1: float, y1: float, margin_px: float = 40.0,
                 max_scale: float = 4.0) -> None:
        """Centre this document rect in the widget, as large as fits (up to ``max_scale``)."""
        w, h = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
        avail_w = max(self.width() - 2 * margin_px, 50.0)
        avail_h = max(self.height() - 2 * margin_px, 50.0)
        scale = min(avail_w / w, avail_h / h, max_scale)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        self.set_view(scale, QPointF(self.width() / 2 - cx * scale, self.height() / 2 - cy * scale))


"""SketchCanvas: paints a SketchDocument and turns pointer input into stroke events.

The canvas never edits the document: it emits ``stroke_finished`` (and ``erase_hit`` for
the stroke eraser) and the window turns those into undo commands. Mouse, tablet and touch
all feed the same begin/extend/end path. Points are stored in document coordinates, which
do not depend on zoom or pan. Finished strokes are cached in a pixmap so that a frame while
drawing only paints the cache plus the stroke in progress.
"""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QMouseEvent,
    QPainter,
    QPen,
    QPixmap,
    QTabletEvent,
    QTouchEvent,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from app import ink, overlays
from app.document import SketchDocument

ERASER_RADIUS_PX = 10.0
MIN_STEP_PX = 0.75  # input points closer than this (on screen) are skipped
MIN_SCALE, MAX_SCALE = 0.05, 20.0


class SketchCanvas(QWidget):
    """The drawing surface. Tools: ``"pen"`` and ``"eraser"`` (stroke eraser)."""

    stroke_started = Signal()
    stroke_progressed = Signal()  # the stroke in progress grew (see ``current_stroke``)
    stroke_finished = Signal(object, object)  # points float32 (N, 2), times float64 (N,) ms
    stroke_cancelled = Signal()
    erase_started = Signal()
    erase_hit = Signal(int)  # index of a document stroke under the eraser
    erase_finished = Signal()
    leaf_hovered = Signal(int)  # leaf index under the pointer, -1 for none
    view_changed = Signal()

    def __init__(self, document: SketchDocument, parent: QWidget | None = None):
        super().__init__(parent)
        self.document = document
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 320)
        self.setMouseTracking(True)
        self.setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents, True)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.CrossCursor)

        self.tool = "pen"
        self.pen_width = 3.0
        self.flags = overlays.OverlayFlags()
        self.prediction = None
        self.input_enabled = True

        self._scale = 1.0
        self._offset = QPointF(0.0, 0.0)
        self._auto_fit = False
        self._cache: QPixmap | None = None  # the finished strokes
        self._under: QPixmap | None = None  # heatmap layer
        self._over: QPixmap | None = None  # quadtree layer
        self._points: list[tuple[float, float]] = []
        self._times: list[float] = []
        self._t0 = 0.0
        self._mode = ""  # "", "draw", "erase", "pan"
        self._pan_from = QPointF()
        self._hover_leaf = -1
        self._hover_pos: QPointF | None = None
        self._replay: list[np.ndarray] | None = None
        self._generation = None  # a GenerationLayer shown over the ink, or None

        document.stroke_inserted.connect(self._on_inserted)
        document.stroke_removed.connect(self._invalidate)
        document.strokes_replaced.connect(self._invalidate)

    # -- view transform ---------------------------------------------------------------
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
        pts = [s.points for s in self.document.strokes if len(s.points)]
        if not pts:
            self.set_view(1.0, QPointF(0, 0))
            return
        allp = np.concatenate(pts)
        x0, y0 = allp.min(0)
        x1, y1 = allp.max(0)
        self.fit_rect(float(x0), float(y0), float(x1), float(y1), margin_px)
        self._auto_fit = True  # refit when the widget is resized, until the user zooms or pans

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
        pts = [s.points for s in self.document.strokes if len(s.points)]
        if pts:
            allp = np.concatenate(pts)
            x0, y0 = min(x0, float(allp[:, 0].min())), min(y0, float(allp[:, 1].min()))
            x1, y1 = max(x1, float(allp[:, 0].max())), max(y1, float(allp[:, 1].max()))
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

    # -- state set by the window -----------------------------------------------------
    def set_pen_width(self, width: float) -> None:
        self.pen_width = float(width)
        self._invalidate()

    def set_tool(self, tool: str) -> None:
        assert tool in ("pen", "eraser"), tool
        self.tool = tool
        self.update()

    def set_prediction(self, prediction) -> None:
        self.prediction = prediction
        self._update_hover(self._hover_pos)
        self._invalidate_overlays()

    def set_overlays(self, flags: overlays.OverlayFlags) -> None:
        self.flags = flags
        self._update_hover(self._hover_pos)
        self._invalidate_overlays()

    def set_replay(self, strokes: list[np.ndarray] | None) -> None:
        """Show these strokes instead of the document (None: back to the document)."""
        self._replay = strokes
        self._invalidate()

    def set_generation_layer(self, layer) -> None:
        """Show a generation in progress (``app.gen_layer.GenerationLayer``) or None."""
        self._generation = layer
        self.update()

    @property
    def generation_layer(self):
        return self._generation

    @property
    def drawing(self) -> bool:
        return self._mode == "draw"

    def current_stroke(self) -> np.ndarray | None:
        """The stroke in progress as float32 (N, 2), or None when the pen is up."""
        if self._mode != "draw" or not self._points:
            return None
        return np.asarray(self._points, dtype=np.float32)

    def cancel_stroke(self) -> None:
        if self._mode == "draw":
            self._mode = ""
            self._points, self._times = [], []
            self.stroke_cancelled.emit()
            self.update()

    # -- the stroke lifecycle (shared by mouse, tablet and touch) ----------------------
    def _begin(self, pos: QPointF) -> None:
        if not self.input_enabled:
            return
        if self.tool == "eraser":
            self._mode = "erase"
            self.erase_started.emit()
            self._erase_at(pos)
            return
        self._mode = "draw"
        self._t0 = time.perf_counter()
        self._points = [self.to_document(pos)]
        self._times = [0.0]
        self._hover_leaf = -1
        self.stroke_started.emit()
        self._update_segment()

    def _extend(self, pos: QPointF) -> None:
        if self._mode == "erase":
            self._hover_pos = pos
            self._erase_at(pos)
            self.update()
            return
        if self._mode != "draw":
            return
        x, y = self.to_document(pos)
        lx, ly = self._points[-1]
        if abs(x - lx) * self._scale < MIN_STEP_PX and abs(y - ly) * self._scale < MIN_STEP_PX:
            return
        self._points.append((x, y))
        self._times.append((time.perf_counter() - self._t0) * 1000.0)
        self._update_segment()
        self.stroke_progressed.emit()

    def _end(self, pos: QPointF | None = None) -> None:
        if self._mode == "erase":
            self._mode = ""
            self.erase_finished.emit()
            return
        if self._mode != "draw":
            self._mode = ""
            return
        if pos is not None:
            self._extend(pos)
        pts = np.asarray(self._points, dtype=np.float32)
        times = np.asarray(self._times, dtype=np.float64)
        self._mode = ""
        self.stroke_finished.emit(pts, times)
        self._points, self._times = [], []
        self.update()

    def _erase_at(self, pos: QPointF) -> None:
        x, y = self.to_document(pos)
        q = np.array([x, y], dtype=np.float32)
        radius = ERASER_RADIUS_PX / self._scale
        hits = [i for i, s in enumerate(self.document.strokes)
                if ink.distance_to_polyline(s.points, q) <= radius]
        for i in sorted(hits, reverse=True):  # highest first: indices below stay valid
            self.erase_hit.emit(i)

    def _update_segment(self) -> None:
        """Repaint only the neighbourhood of the newest segment."""
        tail = self._points[-2:]
        ps = [self.to_widget(x, y) for x, y in tail]
        xs, ys = [p.x() for p in ps], [p.y() for p in ps]
        pad = self.pen_width + 3
        self.update(QRectF(min(xs) - pad, min(ys) - pad, max(xs) - min(xs) + 2 * pad,
                           max(ys) - min(ys) + 2 * pad).toAlignedRect())

    # -- Qt input events ------------------------------------------------------------
    def mousePressEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        if e.button() == Qt.MouseButton.MiddleButton or (
                e.button() == Qt.MouseButton.LeftButton
                and e.modifiers() & Qt.KeyboardModifier.AltModifier):
            self._mode, self._pan_from = "pan", e.position()
        elif e.button() == Qt.MouseButton.LeftButton and not self._mode:
            self._begin(e.position())
        e.accept()

    def mouseMoveEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        if self._mode == "pan":
            d = e.position() - self._pan_from
            self._pan_from = e.position()
            self.set_view(self._scale, self._offset + d)
        elif self._mode:
            self._extend(e.position())
        else:
            self._update_hover(e.position())
        e.accept()

    def mouseReleaseEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        if self._mode == "pan":
            self._mode = ""
        elif e.button() == Qt.MouseButton.LeftButton:
            self._end(e.position())
        e.accept()

    def tabletEvent(self, e: QTabletEvent) -> None:  # noqa: N802
        t = e.type()
        if t == QEvent.Type.TabletPress and not self._mode:
            self._begin(e.position())
        elif t == QEvent.Type.TabletMove:
            if self._mode:
                self._extend(e.position())
            else:
                self._update_hover(e.position())
        elif t == QEvent.Type.TabletRelease:
            self._end(e.position())
        e.accept()  # accepted: Qt synthesises no mouse events for it

    def event(self, e: QEvent) -> bool:
        t = e.type()
        if t in (QEvent.Type.TouchBegin, QEvent.Type.TouchUpdate, QEvent.Type.TouchEnd,
                 QEvent.Type.TouchCancel):
            self._touch(e)  # type: ignore[arg-type]
            return True
        return super().event(e)

    def _touch(self, e: QTouchEvent) -> None:
        pts = e.points()
        t = e.type()
        if t == QEvent.Type.TouchCancel:
            self.cancel_stroke()
        elif pts:
            pos = pts[0].position()
            if t == QEvent.Type.TouchBegin and not self._mode:
                self._begin(pos)
            elif t == QEvent.Type.TouchUpdate:
                self._extend(pos)
            elif t == QEvent.Type.TouchEnd:
                self._end(pos)
        e.accept()

    def wheelEvent(self, e: QWheelEvent) -> None:  # noqa: N802
        delta = e.angleDelta()
        if e.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.zoom_by(1.0015 ** delta.y(), e.position())
        else:
            self.set_view(self._scale, self._offset + QPointF(delta.x(), delta.y()) / 4.0)
        e.accept()

    def leaveEvent(self, e: QEvent) -> None:  # noqa: N802
        self._update_hover(None)
        super().leaveEvent(e)

    def keyPressEvent(self, e) -> None:  # noqa: N802
        if e.key() == Qt.Key.Key_Escape and self._mode == "draw":
            self.cancel_stroke()
        else:
            super().keyPressEvent(e)

    def resizeEvent(self, e) -> None:  # noqa: N802
        self._cache = self._under = self._over = None
        super().resizeEvent(e)
        if self._auto_fit and self._mode != "draw":
            self.fit_view()

    # -- hover -------------------------------------------------------------------------
    def _update_hover(self, pos: QPointF | None) -> None:
        self._hover_pos = pos
        idx = -1
        pred = self.prediction
        if pos is not None and pred is not None and self.flags.leaf_votes and not self._mode:
            idx = overlays.leaf_at(pred.leaf_boxes, *self.to_document(pos))
        if self.tool == "eraser" or idx != -1 or idx != self._hover_leaf:
            self.update()
        if idx != self._hover_leaf:
            self._hover_leaf = idx
            self.leaf_hovered.emit(idx)

    @property
    def hovered_leaf(self) -> int:
        return self._hover_leaf

    # -- painting ------------------------------------------------------------------------
    def _invalidate(self, *_args) -> None:
        self._cache = self._under = self._over = None
        self.update()

    def _invalidate_overlays(self) -> None:
        self._under = self._over = None
        self.update()

    def _on_inserted(self, index: int) -> None:
        if self._cache is not None and self._replay is None and index == len(self.document) - 1:
            p = QPainter(self._cache)  # appended stroke: draw it onto the cache
            self._paint_strokes(p, [self.document.stroke(index).points])
            p.end()
            self.update()
        else:
            self._invalidate()

    def _paint_strokes(self, p: QPainter, strokes) -> None:
        ink.paint_strokes(p, self.transform(), self.pen_width, strokes)

    def _ensure_cache(self) -> QPixmap:
        if self._cache is None:
            strokes = self._replay if self._replay is not None else \
                [s.points for s in self.document.strokes]
            self._cache = self._layer(lambda p: self._paint_strokes(p, strokes))
        return self._cache

    def _layer(self, paint) -> QPixmap:
        return ink.layer(self, self.transform(), paint)

    def _overlay_layers(self) -> tuple[QPixmap | None, QPixmap | None]:
        """(under the ink: heatmap, over the ink: quadtree), cached until the prediction,
        the view or the flags change, so a frame while drawing costs a few blits."""
        pred = self.prediction
        if pred is None or not len(pred.leaf_boxes):
            return None, None
        if self._under is None and self.flags.heatmap:
            self._under = self._layer(
                lambda p: overlays.paint_heatmap(p, pred.leaf_boxes, pred.leaf_weights))
        if self._over is None and self.flags.quadtree:
            self._over = self._layer(
                lambda p: overlays.paint_quadtree(p, pred.leaf_boxes, pred.leaf_levels))
        return (self._under if self.flags.heatmap else None,
                self._over if self.flags.quadtree else None)

    def paintEvent(self, e) -> None:  # noqa: N802
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(255, 255, 255))
        under, over = self._overlay_layers()
        if under is not None:
            p.drawPixmap(0, 0, under)
        p.drawPixmap(0, 0, self._ensure_cache())
        if self._generation is not None and self._replay is None:
            self._generation.paint(p, self.transform(), self.pen_width)
        if self._mode == "draw" and self._points:
            self._paint_strokes(p, [np.asarray(self._points, dtype=np.float32)])
            p.resetTransform()
        if over is not None:
            p.drawPixmap(0, 0, over)
        pred, i = self.prediction, self._hover_leaf
        if pred is not None and self.flags.leaf_votes and 0 <= i < len(pred.leaf_boxes):
            p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            p.setTransform(self.transform())
            overlays.paint_hovered_leaf(p, pred.leaf_boxes[i], int(pred.leaf_levels[i]))
            title = f"leaf {i}  weight {float(pred.leaf_weights[i]) * 100:.1f}%"
            overlays.paint_vote_card(p, self._hover_pos or QPointF(), title,
                                     pred.leaf_top(i, 3), QRectF(self.rect()))
            p.resetTransform()
        if self.tool == "eraser" and self._hover_pos is not None:
            p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            p.setPen(QPen(QColor(120, 120, 120), 1, Qt.PenStyle.DashLine))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawEllipse(self._hover_pos, ERASER_RADIUS_PX, ERASER_RADIUS_PX)
        p.end()


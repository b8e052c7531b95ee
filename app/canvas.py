"""SketchCanvas: paints a SketchDocument and turns pointer input into stroke events.

The canvas never edits the document: it emits ``stroke_finished`` (and ``erase_hit`` for
the stroke eraser) and the window turns those into undo commands. Mouse, tablet and touch
all feed the same begin/extend/end path. Points are stored in document coordinates, which
do not depend on zoom or pan. Finished strokes are cached in a pixmap so that a frame while
drawing only paints the cache plus the stroke in progress.

Pen widths are in document units and belong to each stroke (``Stroke.width``): the pen's
width applies to the strokes drawn next. The leaf-vote card is a hover aid: it appears when
the pointer rests over a leaf, not where the pen has just been lifted, so it never covers
the stroke just drawn.
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
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from app import ink, overlays
from app.document import SketchDocument
from app.hover import HoverCards
from app.view import ZoomableView

ERASER_RADIUS_PX = 10.0
MIN_STEP_PX = 0.75  # input points closer than this (on screen) are skipped


class SketchCanvas(HoverCards, ZoomableView):
    """The drawing surface. Tools: ``"pen"`` and ``"eraser"`` (stroke eraser)."""

    stroke_started = Signal()
    stroke_progressed = Signal()  # the stroke in progress grew (see ``current_stroke``)
    stroke_finished = Signal(object, object)  # points float32 (N, 2), times float64 (N,) ms
    stroke_cancelled = Signal()
    erase_started = Signal()
    erase_hit = Signal(int)  # index of a document stroke under the eraser
    erase_finished = Signal()
    leaf_hovered = Signal(int)  # leaf index under the pointer, -1 for none

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
        self._pen_up_at: QPointF | None = None  # where the pen was lifted (no card near it)
        self._hover_timer = self._make_hover_timer()

        document.stroke_inserted.connect(self._on_inserted)
        document.stroke_removed.connect(self._invalidate)
        document.strokes_replaced.connect(self._invalidate)

    def ink_bounds(self) -> tuple[float, float, float, float] | None:
        """(x0, y0, x1, y1) of the drawing's ink, pen widths included, or None if empty."""
        strokes = [s for s in self.document.strokes if len(s.points)]
        if not strokes:
            return None
        lo = np.min([s.points.min(0) - s.width / 2 for s in strokes], axis=0)
        hi = np.max([s.points.max(0) + s.width / 2 for s in strokes], axis=0)
        return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])

    # -- state set by the window -----------------------------------------------------
    def set_pen_width(self, width: float) -> None:
        """The width of the strokes drawn next (document units); drawn strokes keep theirs."""
        self.pen_width = float(width)

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
        self._set_hover_leaf(-1)
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
        self._pen_up_at = self._hover_pos = QPointF(pos) if pos is not None else None
        self.stroke_finished.emit(pts, times)
        self._points, self._times = [], []
        self.update()

    def _erase_at(self, pos: QPointF) -> None:
        x, y = self.to_document(pos)
        q = np.array([x, y], dtype=np.float32)
        radius = ERASER_RADIUS_PX / self._scale
        hits = [i for i, s in enumerate(self.document.strokes)
                if ink.distance_to_polyline(s.points, q) <= radius + s.width / 2]
        for i in sorted(hits, reverse=True):  # highest first: indices below stay valid
            self.erase_hit.emit(i)

    def _update_segment(self) -> None:
        """Repaint only the neighbourhood of the newest segment."""
        tail = self._points[-2:]
        ps = [self.to_widget(x, y) for x, y in tail]
        xs, ys = [p.x() for p in ps], [p.y() for p in ps]
        pad = self.pen_width * self._scale + 3
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
            s = self.document.stroke(index)
            self._paint_strokes(p, [(s.points, s.width)])
            p.end()
            self.update()
        else:
            self._invalidate()

    def _paint_strokes(self, p: QPainter, strokes) -> None:
        """``strokes``: (points, width) pairs."""
        ink.paint_strokes(p, self.transform(), strokes)

    def _ensure_cache(self) -> QPixmap:
        if self._cache is None:
            if self._replay is not None:
                widths = self.document.widths()
                strokes = [(pts, widths[i] if i < len(widths) else self.pen_width)
                           for i, pts in enumerate(self._replay)]
            else:
                strokes = [(s.points, s.width) for s in self.document.strokes]
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
            self._paint_strokes(p, [(np.asarray(self._points, dtype=np.float32),
                                     self.pen_width)])
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


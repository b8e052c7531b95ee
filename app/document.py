"""The drawing being edited: strokes in document coordinates, with a small invertible API.

The canvas paints a ``SketchDocument`` and never edits it: every edit is an undo command
(``app.commands``) that calls ``insert_stroke`` / ``remove_stroke`` / ``replace_strokes``.
Document coordinates do not depend on the view's zoom or pan.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, Signal

from visketch_core.sketch.model import Sketch

MAX_GAP_MS = 1000.0  # a pause between two strokes is recorded as at most this long
DEFAULT_WIDTH = 3.0  # pen width of strokes that do not say (imports): the core's line width
MIN_WIDTH, MAX_WIDTH = 1.0, 40.0


@dataclass(frozen=True)
class Stroke:
    """One pen-down .. pen-up trace.

    points: float32 (N, 2) in document coordinates (y down).
    times: float64 (N,) milliseconds on the document's clock, or None when unknown.
    width: pen width in document units. It belongs to the stroke, so changing the pen
    changes only the strokes drawn after, and saving and exporting keep it.
    """

    points: np.ndarray
    times: np.ndarray | None = None
    width: float = DEFAULT_WIDTH

    @staticmethod
    def of(points, times=None, width: float = DEFAULT_WIDTH) -> Stroke:
        pts = np.asarray(points, dtype=np.float32).reshape(-1, 2)
        ts = None if times is None else np.asarray(times, dtype=np.float64).reshape(-1)
        if ts is not None and len(ts) != len(pts):
            raise ValueError("times must match points")
        pts.setflags(write=False)
        if ts is not None:
            ts.setflags(write=False)
        return Stroke(pts, ts, clamp_width(width))

    @property
    def end_time(self) -> float | None:
        return None if self.times is None or len(self.times) == 0 else float(self.times[-1])


class SketchDocument(QObject):
    """An ordered list of strokes plus a label; emits ``changed`` after every edit.

    ``stroke_inserted(index)``, ``stroke_removed(index)`` and ``strokes_replaced()`` say what
    changed (the canvas uses them to repaint only what it must); ``changed()`` follows each.
    """

    stroke_inserted = Signal(int)
    stroke_removed = Signal(int)
    strokes_replaced = Signal()
    changed = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._strokes: list[Stroke] = []
        self.label: str | None = None
        self.key_id: str | None = None

    # -- queries ---------------------------------------------------------------
    @property
    def strokes(self) -> tuple[Stroke, ...]:
        return tuple(self._strokes)

    def __len__(self) -> int:
        return len(self._strokes)

    def stroke(self, index: int) -> Stroke:
        return self._strokes[index]

    @property
    def is_empty(self) -> bool:
        return not self._strokes

    def widths(self) -> list[float]:
        return [s.width for s in self._strokes]

    def stroke_arrays(self) -> list[np.ndarray]:
        """The strokes' point arrays (read-only float32 (N, 2) each), plain data for the worker."""
        return [s.points for s in self._strokes]

    def next_start_time(self, gap_ms: float) -> float:
        """Clock time for a stroke that starts ``gap_ms`` after the last one ended."""
        ends = [s.end_time for s in self._strokes if s.end_time is not None]
        if not ends:
            return 0.0
        return max(ends) + float(min(max(gap_ms, 0.0), MAX_GAP_MS))

    def to_sketch(self) -> Sketch:
        """The drawing as a core ``Sketch`` (times kept only when every stroke has them)."""
        strokes = [np.array(s.points, dtype=np.float32) for s in self._strokes]
        times = None
        if self._strokes and all(s.times is not None for s in self._strokes):
            times = [np.array(s.times, dtype=np.float64) for s in self._strokes]
        return Sketch(strokes=strokes, times=times, label=self.label, key_id=self.key_id)

    # -- the invertible edit API (called by undo commands only) --------------------
    def insert_stroke(self, index: int, stroke: Stroke) -> None:
        self._strokes.insert(index, stroke)
        self.stroke_inserted.emit(index)
        self.changed.emit()

    def remove_stroke(self, index: int) -> Stroke:
        stroke = self._strokes.pop(index)
        self.stroke_removed.emit(index)
        self.changed.emit()
        return stroke

    def replace_strokes(self, strokes: list[Stroke]) -> list[Stroke]:
        """Swap in a whole new list of strokes; returns the old list."""
        old, self._strokes = self._strokes, list(strokes)
        self.strokes_replaced.emit()
        self.changed.emit()
        return old


def clamp_width(width: float) -> float:
    w = float(width)
    return DEFAULT_WIDTH if not np.isfinite(w) else min(max(w, MIN_WIDTH), MAX_WIDTH)


def strokes_from_sketch(sketch: Sketch, widths: list[float] | None = None) -> list[Stroke]:
    """Document strokes for a core sketch (strokes with no points are dropped). ``widths``,
    one per stroke of the sketch, when the file recorded them (else DEFAULT_WIDTH)."""
    out = []
    for i, pts in enumerate(sketch.strokes):
        if len(pts) == 0:
            continue
        times = None if sketch.times is None else sketch.times[i]
        width = widths[i] if widths is not None and i < len(widths) else None
        width = DEFAULT_WIDTH if width is None else width
        out.append(Stroke.of(pts, times, width))
    return out

"""Stroke replay: show a sketch being drawn again, at its recorded speed when it has timing.

Without timing, points appear at a steady pace. Long pauses between strokes are shortened
to ``MAX_PAUSE_MS`` so a replay never sits still.
"""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from visketch_core.sketch.model import Sketch

MAX_PAUSE_MS = 600.0
POINT_MS = 12.0  # pace for sketches without timing
STROKE_GAP_MS = 200.0


def timeline(sketch: Sketch) -> list[np.ndarray]:
    """Per stroke, float64 (N,) times in ms from the start of the replay."""
    out: list[np.ndarray] = []
    clock = 0.0
    for i, pts in enumerate(sketch.strokes):
        n = len(pts)
        if sketch.times is not None and len(sketch.times[i]) == n and n:
            t = np.asarray(sketch.times[i], dtype=np.float64)
            t = np.maximum.accumulate(t - t[0])  # monotone, from the stroke's start
        else:
            t = np.arange(n, dtype=np.float64) * POINT_MS
        if i > 0:
            gap = STROKE_GAP_MS
            if sketch.times is not None and len(sketch.times[i]) and len(sketch.times[i - 1]):
                gap = float(sketch.times[i][0] - sketch.times[i - 1][-1])
            clock += float(min(max(gap, 0.0), MAX_PAUSE_MS))
        out.append(t + clock)
        clock = float(out[-1][-1]) if n else clock
    return out


class Replayer(QObject):
    """Emits ``frame(strokes)`` about 60 times a second, then ``finished``."""

    frame = Signal(list)  # list of float32 (N, 2): what is drawn so far
    finished = Signal()

    def __init__(self, parent: QObject | None = None, speed: float = 1.0):
        super().__init__(parent)
        self.speed = speed
        self._timer = QTimer(self)
        self._timer.setInterval(16)
        self._timer.timeout.connect(self._tick)
        self._sketch: Sketch | None = None
        self._times: list[np.ndarray] = []
        self._start = 0.0

    @property
    def active(self) -> bool:
        return self._timer.isActive()

    @property
    def duration_ms(self) -> float:
        ends = [float(t[-1]) for t in self._times if len(t)]
        return max(ends) if ends else 0.0

    def start(self, sketch: Sketch) -> None:
        self._sketch = sketch
        self._times = timeline(sketch)
        self._start = time.perf_counter()
        self._timer.start()
        self._tick()

    def stop(self) -> None:
        if self._timer.isActive():
            self._timer.stop()
            self.finished.emit()

    def strokes_at(self, ms: float) -> list[np.ndarray]:
        """What has been drawn ``ms`` into the replay."""
        assert self._sketch is not None
        shown = []
        for pts, t in zip(self._sketch.strokes, self._times, strict=True):
            if not len(t) or t[0] > ms:
                break
            k = int(np.searchsorted(t, ms, side="right"))
            shown.append(pts[:k])
        return shown

    def _tick(self) -> None:
        ms = (time.perf_counter() - self._start) * 1000.0 * self.speed
        self.frame.emit(self.strokes_at(ms))
        if ms >= self.duration_ms:
            self.stop()

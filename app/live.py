"""Live classification: decides when to ask the worker, and which answers still matter.

- after every edit (pen-up, erase, undo, ...) a request goes out at once;
- while the pen moves, the drawing so far (including the stroke in progress) goes out at
  most every ``interval_ms`` (leading edge: the first move after a quiet spell goes at once);
- the worker keeps only the newest waiting request, so requests never pile up;
- answers older than the newest one shown, or older than the last clear, are dropped.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from app.worker import InferenceWorker


class LiveClassifier(QObject):
    """Turns drawing activity into worker requests and in-order, non-stale answers."""

    prediction_ready = Signal(int, object)  # request id, Prediction (never stale)
    cleared = Signal()  # the drawing became empty: nothing to classify
    failed = Signal(int, str)  # request id, one-line message

    def __init__(self, worker: InferenceWorker, strokes: Callable[[], list[np.ndarray]],
                 interval_ms: int = 50, parent: QObject | None = None):
        super().__init__(parent)
        self.worker = worker
        self._strokes = strokes
        self.interval_ms = interval_ms
        self.live = True  # classify during strokes too, not only after them
        self.ready = False  # the worker has a model
        self._next_id = 1
        self._floor = 0  # answers to requests below this id are stale
        self._shown = 0
        self._last_sent = 0.0
        self.last_request_id = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.request_now)
        worker.prediction_ready.connect(self._on_prediction)
        worker.request_failed.connect(self._on_failed)

    def set_ready(self, ready: bool) -> None:
        self.ready = ready
        if ready:
            self.request_now()

    def request_now(self) -> int:
        """Send the current drawing now. Returns the request id (0 when nothing was sent)."""
        self._timer.stop()
        if not self.ready:
            return 0
        strokes = [s for s in self._strokes() if len(s)]
        if not strokes:
            self._floor = self._next_id  # whatever is in flight is about a drawing now gone
            self.cleared.emit()
            return 0
        rid = self._next_id
        self._next_id += 1
        self.last_request_id = rid
        self._last_sent = time.perf_counter()
        self.worker.submit(rid, strokes)
        return rid

    def drawing_moved(self) -> None:
        """The stroke in progress grew: classify it soon, at most every ``interval_ms``."""
        if not (self.live and self.ready):
            return
        since = (time.perf_counter() - self._last_sent) * 1000.0
        if since >= self.interval_ms:
            self.request_now()
        elif not self._timer.isActive():
            self._timer.start(max(1, int(self.interval_ms - since)))

    def _on_prediction(self, rid: int, pred) -> None:
        if rid < self._floor or rid <= self._shown:
            return
        self._shown = rid
        self.prediction_ready.emit(rid, pred)

    def _on_failed(self, rid: int, message: str) -> None:
        if rid >= self._floor:
            self.failed.emit(rid, message)

"""The inference worker: one QObject on its own QThread that owns the recognizer.

The GUI thread hands it plain data (a request id and the strokes as NumPy arrays) through
``submit``; it answers only through signals. Requests are coalesced: the worker keeps a
single pending slot, so a request that is overtaken by a newer one before the worker gets
to it is dropped, and the model never falls behind the pen. No exception ever leaves the
worker: each one becomes a one-line message in ``request_failed`` or ``model_failed``.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal, Slot

from visketch_core.sketch.model import Sketch

log = logging.getLogger(__name__)

# device ("auto" or "cpu") -> an object with .classes, .threshold, .device_name, .classify()
RecognizerFactory = Callable[[str], Any]


def inference_threads() -> int:
    """CPU threads for the model: half the cores (at most 4), so that the GUI thread and
    the rest of the machine keep a core; spinning extra threads only adds jitter here."""
    return max(1, min(4, (os.cpu_count() or 2) // 2))


def load_shipped_recognizer(device: str) -> Any:
    """The default factory: the shipped classifier on the chosen device."""
    from visketch_core.inference import Recognizer

    return Recognizer.load(device=device, threads=inference_threads())


def one_line(exc: BaseException) -> str:
    """A user-facing single line for an exception."""
    from visketch_core.errors import ModelError, SketchError

    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, (SketchError, ModelError)) and text:
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _lower_this_threads_priority(nice: int = 5) -> None:
    """Linux ignores QThread priorities for normal threads, but a thread's nice value
    works: on a busy machine the GUI thread then wins the CPU over the model."""
    if sys.platform.startswith("linux") and hasattr(os, "setpriority"):
        try:
            tid = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, tid, max(os.getpriority(os.PRIO_PROCESS, tid), nice))
        except OSError:
            pass


class InferenceWorker(QObject):
    """Classifies sketches off the GUI thread. Create with ``spawn``; stop with ``shutdown``."""

    model_loaded = Signal(str, list)  # device name ("CPU", "CUDA", "MPS"), class names
    model_failed = Signal(str)  # one-line message
    prediction_ready = Signal(int, object)  # request id, Prediction
    request_failed = Signal(int, str)  # request id, one-line message

    _wake = Signal()
    _load_requested = Signal(str)

    def __init__(self, factory: RecognizerFactory | None = None, top_k: int = 5):
        super().__init__()
        self._factory = factory or load_shipped_recognizer
        self._top_k = top_k
        self._recognizer: Any = None
        self._lock = threading.Lock()
        self._pending: tuple[int, list[np.ndarray]] | None = None
        self._scheduled = False
        self.thread_: QThread | None = None
        self.threshold = 0.5  # the loaded model's confidence threshold (set before model_loaded)
        self.knows_unknown = False  # it can say "none of these" (set before model_loaded)
        self.requests = 0  # requests submitted
        self.dropped = 0  # requests overtaken before they ran
        self._wake.connect(self._process)
        self._load_requested.connect(self._load)

    @classmethod
    def spawn(cls, factory: RecognizerFactory | None = None, parent: QObject | None = None,
              top_k: int = 5) -> InferenceWorker:
        """A worker already living on a freshly started QThread."""
        worker = cls(factory, top_k=top_k)
        thread = QThread(parent)
        thread.setObjectName("InferenceWorker")
        worker.moveToThread(thread)
        worker.thread_ = thread
        thread.start(QThread.Priority.LowPriority)  # the pen comes first
        return worker

    # -- called from the GUI thread -----------------------------------------------
    def load(self, device: str = "auto") -> None:
        """Ask the worker to (re)load its recognizer; answers model_loaded or model_failed."""
        self._load_requested.emit(device)

    def submit(self, request_id: int, strokes: list[np.ndarray]) -> None:
        """Queue a classification of ``strokes`` (float32 (N, 2) arrays), replacing any
        request still waiting. Thread-safe and never blocks on the model."""
        with self._lock:
            self.requests += 1
            if self._pending is not None:
                self.dropped += 1
            self._pending = (request_id, list(strokes))
            wake = not self._scheduled
            self._scheduled = True
        if wake:
            self._wake.emit()

    def shutdown(self, timeout_ms: int = 5000) -> None:
        """Stop the thread (waits for a classification in flight to end)."""
        with self._lock:
            self._pending = None
        thread = self.thread_
        if thread is not None and thread.isRunning():
            thread.quit()
            if not thread.wait(timeout_ms):
                log.warning("inference thread did not stop within %d ms", timeout_ms)

    # -- worker thread ---------------------------------------------------------------
    @Slot(str)
    def _load(self, device: str) -> None:
        _lower_this_threads_priority()
        try:
            self._recognizer = None
            rec = self._factory(device)
            self._recognizer = rec
            self.threshold = float(getattr(rec, "threshold", 0.5))
            self.knows_unknown = bool(getattr(rec, "knows_unknown", False))
            self.model_loaded.emit(str(rec.device_name), list(rec.classes))
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message
            log.exception("model loading failed")
            self.model_failed.emit(one_line(exc))

    @Slot()
    def _process(self) -> None:
        with self._lock:
            job, self._pending = self._pending, None
            self._scheduled = False
        if job is None:
            return
        request_id, strokes = job
        try:
            if self._recognizer is None:
                raise RuntimeError("the model is not loaded")
            t0 = time.perf_counter()
            pred = self._recognizer.classify(Sketch(strokes=strokes), top_k=self._top_k)
            pred.extra["worker_ms"] = (time.perf_counter() - t0) * 1000.0
            self.prediction_ready.emit(request_id, pred)
        except Exception as exc:  # noqa: BLE001 - the thread must survive anything
            log.warning("request %d failed: %s", request_id, exc)
            self.request_failed.emit(request_id, one_line(exc))

"""The generation worker: one QObject on its own QThread that owns the generation models.

It is separate from the inference worker so that live classification keeps answering while
a sketch is being generated. The GUI thread hands it a ``GenJob`` (plain data: a job id,
the mode, the class, the strokes already placed in the 256 frame) and hears back only
through signals, one per event of ``visketch_core.generate``: each denoising step of stage
1, stage 1 done, each decoded leaf, each finished candidate, then the end of the job.
``cancel(job)`` sets a flag polled between denoising steps and between leaves, so a cancel
takes effect within one step's or one leaf's time. No exception leaves the worker: each becomes a one-line message in ``failed``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal, Slot

from app.worker import _lower_this_threads_priority, inference_threads, one_line

log = logging.getLogger(__name__)

SCHEDULES = ("parallel", "sequential")


@dataclass(frozen=True)
class GenJob:
    """One request. mode: "draw" (a new sketch of ``label``) or "complete" (finish
    ``strokes``, float32 (N, 2) arrays already in the 256 frame, as ``label``)."""

    job_id: int
    mode: str
    label: str
    n: int = 1
    seed: int = 0
    schedule: str = "parallel"
    strokes: tuple[np.ndarray, ...] = ()


class ShippedBackend:
    """The real backend: the shipped generation models through ``visketch_core``.

    ``models_dir`` None means the models in ``resources/models``. Loaded on first use, on
    the worker thread; tests pass a backend of their own with the same three methods.
    """

    def __init__(self, models_dir=None):
        self.models_dir = models_dir
        self.gen = None

    def load(self, device: str) -> tuple[str, list[str]]:
        from visketch_core.generate.pipeline import Generator

        self.gen = Generator.load(self.models_dir, device=device, threads=inference_threads())
        kind = self.gen.device.type
        return {"cuda": "CUDA", "mps": "MPS"}.get(kind, "CPU"), list(self.gen.classes)

    def draw(self, job: GenJob, cancel: Callable[[], bool]) -> Iterator[tuple[int, Any]]:
        return self.gen.candidates(job.label, job.n, seed=job.seed, schedule=job.schedule,
                                   cancel=cancel)

    def complete(self, job: GenJob, cancel: Callable[[], bool]) -> Iterator[tuple[int, Any]]:
        from visketch_core.generate.completion import completion_candidates
        from visketch_core.sketch.model import Sketch

        framed = Sketch(strokes=[np.asarray(s, np.float32) for s in job.strokes])
        return completion_candidates(self.gen, framed, job.label, job.n, seed=job.seed,
                                     schedule=job.schedule, cancel=cancel)


BackendFactory = Callable[[], Any]


class GenerationWorker(QObject):
    """Runs generation jobs off the GUI thread. Create with ``spawn``; stop with ``shutdown``."""

    loaded = Signal(str, list)            # device name, class names
    load_failed = Signal(str)             # one-line message
    stage1_step = Signal(int, int, object)   # job, candidate, Stage1Step
    stage1_done = Signal(int, int, object)   # job, candidate, Stage1Done
    leaf_ready = Signal(int, int, object)    # job, candidate, LeafEvent
    candidate_done = Signal(int, int, object)  # job, candidate, GenResult
    job_finished = Signal(int, bool)      # job, cancelled
    failed = Signal(int, str)             # job, one-line message

    _start = Signal(object)

    def __init__(self, backend_factory: BackendFactory | None = None, device: str = "auto"):
        super().__init__()
        self._factory = backend_factory or ShippedBackend
        self._backend: Any = None
        self.device = device
        self.device_name = ""
        self.classes: list[str] = []
        self._cancelled: set[int] = set()
        self._lock = threading.Lock()
        self.thread_: QThread | None = None
        self._start.connect(self._run)

    @classmethod
    def spawn(cls, backend_factory: BackendFactory | None = None, parent: QObject | None = None,
              device: str = "auto") -> GenerationWorker:
        worker = cls(backend_factory, device)
        thread = QThread(parent)
        thread.setObjectName("GenerationWorker")
        worker.moveToThread(thread)
        worker.thread_ = thread
        thread.start(QThread.Priority.LowPriority)
        return worker

    # -- called from the GUI thread -------------------------------------------------------
    def start(self, job: GenJob) -> None:
        """Queue ``job``; it runs after the job in progress (cancel that one first)."""
        self._start.emit(job)

    def cancel(self, job_id: int) -> None:
        """Ask job ``job_id`` to stop at the next leaf (thread-safe, never blocks)."""
        with self._lock:
            self._cancelled.add(job_id)

    def is_cancelled(self, job_id: int) -> bool:
        with self._lock:
            return job_id in self._cancelled

    def shutdown(self, timeout_ms: int = 10000) -> None:
        thread = self.thread_
        if thread is not None and thread.isRunning():
            thread.quit()
            if not thread.wait(timeout_ms):
                log.warning("generation thread did not stop within %d ms", timeout_ms)

    # -- worker thread -------------------------------------------------------------------------
    def _ensure_backend(self) -> bool:
        if self._backend is not None:
            return True
        _lower_this_threads_priority()
        try:
            backend = self._factory()
            self.device_name, self.classes = backend.load(self.device)
            self._backend = backend
            self.loaded.emit(self.device_name, list(self.classes))
            return True
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message
            log.exception("generation models failed to load")
            self.load_failed.emit(one_line(exc))
            return False

    @Slot(object)
    def _run(self, job: GenJob) -> None:
        from visketch_core.errors import SketchError
        from visketch_core.generate.pipeline import Finished, LeafEvent, Stage1Done, Stage1Step

        if self.is_cancelled(job.job_id):
            with self._lock:
                self._cancelled.discard(job.job_id)
            self.job_finished.emit(job.job_id, True)
            return
        if not self._ensure_backend():
            self.failed.emit(job.job_id, "the generation models are not available")
            return
        cancel = lambda: self.is_cancelled(job.job_id)  # noqa: E731
        cancelled = False
        t0 = time.perf_counter()
        try:
            if job.label not in self.classes:
                raise SketchError(f"the generator does not know the class {job.label!r}")
            run = self._backend.complete if job.mode == "complete" else self._backend.draw
            for k, ev in run(job, cancel):
                if isinstance(ev, LeafEvent):
                    self.leaf_ready.emit(job.job_id, k, ev)
                elif isinstance(ev, Stage1Step):
                    if cancel():        # stage 1 takes seconds: stop between its steps too
                        cancelled = True
                        break
                    self.stage1_step.emit(job.job_id, k, ev)
                elif isinstance(ev, Stage1Done):
                    self.stage1_done.emit(job.job_id, k, ev)
                elif isinstance(ev, Finished):
                    cancelled = cancelled or ev.result.cancelled
                    if not ev.result.cancelled:
                        self.candidate_done.emit(job.job_id, k, ev.result)
            cancelled = cancelled or cancel()
        except Exception as exc:  # noqa: BLE001 - the thread must survive anything
            log.warning("generation job %d failed: %s", job.job_id, exc)
            self.failed.emit(job.job_id, one_line(exc))
            return
        finally:
            with self._lock:
                self._cancelled.discard(job.job_id)
        log.info("generation job %d done in %.2f s", job.job_id, time.perf_counter() - t0)
        self.job_finished.emit(job.job_id, cancelled)

"""Test doubles (a recognizer with the real one's interface, scripted dialogs) and helpers."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from visketch_core.errors import SketchError
from visketch_core.inference import Prediction

REPO = Path(__file__).resolve().parents[2]
CLASSES = ["circle", "line", "square", "triangle", "star", "zigzag", "cat"]


class FakeRecognizer:
    """Answers by stroke count: 1 stroke -> not confident; k >= 2 strokes -> CLASSES[k % C]
    with 0.7. Leaves: the sketch's bounding box cut into 2 x 2 boxes (level 1).
    ``unknown`` True: every drawing looks like none of the classes (known False)."""

    def __init__(self, delay_ms: float = 0.0, device_name: str = "CPU"):
        self.classes = list(CLASSES)
        self.threshold = 0.5
        self.device_name = device_name
        self.delay_ms = delay_ms
        self.calls: list[int] = []  # stroke count of each classified sketch
        self.fail_next = 0  # raise on the next N calls
        self.lock = threading.Lock()
        self.unknown = False
        self.knows_unknown = True

    def classify(self, sketch, top_k: int = 5) -> Prediction:
        t0 = time.perf_counter()
        if self.delay_ms:
            time.sleep(self.delay_ms / 1000.0)
        with self.lock:
            self.calls.append(len(sketch.strokes))
            if self.fail_next:
                self.fail_next -= 1
                raise RuntimeError("boom in the model")
        if sketch.is_empty:
            raise SketchError("the sketch is empty")
        n, c = len(sketch.strokes), len(self.classes)
        probs = np.full(c, 0.0, np.float32)
        main = n % c
        if n >= 2:
            probs[:] = 0.3 / (c - 1)
            probs[main] = 0.7
        else:
            probs[:] = 0.7 / (c - 1)
            probs[main] = 0.3
        x0, y0, x1, y1 = sketch.bounds()
        mx, my = (x0 + x1) / 2, (y0 + y1) / 2
        boxes = np.array([[x0, y0, mx, my], [mx, y0, x1 + 1, my], [x0, my, mx, y1 + 1],
                          [mx, my, x1 + 1, y1 + 1]], np.float32)
        weights = np.array([0.4, 0.3, 0.2, 0.1], np.float32)
        votes = np.tile(probs, (4, 1))
        votes[1] = np.roll(probs, 1)
        order = np.argsort(-probs)[:top_k]
        top = [(self.classes[j], float(probs[j])) for j in order]
        return Prediction(classes=self.classes, probs=probs, top=top, leaf_boxes=boxes,
                          leaf_levels=np.ones(4, np.int64), leaf_weights=weights,
                          leaf_votes=votes,
                          confident=not self.unknown and top[0][1] >= self.threshold,
                          threshold=self.threshold, ms=(time.perf_counter() - t0) * 1e3,
                          known=not self.unknown, unknown_score=0.1 if self.unknown else 0.9)


class FakeDialogs:
    """Scripted answers to the window's questions; records what was asked."""

    def __init__(self):
        self.save_answer = "discard"
        self.next_path: str | None = None
        self.pick: int | None = 0
        self.png_answer: int | None = None   # None: keep the size offered
        self.asked: list[str] = []

    async def open_path(self, title, folder, filters=""):
        self.asked.append("open")
        return self.next_path

    async def save_path(self, title, start, filters, default_suffix=".visketch"):
        self.asked.append("save")
        return self.next_path

    def save_path_now(self, title, start, filters, default_suffix=".visketch"):
        self.asked.append("save")
        return self.next_path

    async def ask_save_changes(self, name):
        return self.ask_save_changes_now(name)

    def ask_save_changes_now(self, name):
        self.asked.append("save_changes")
        return self.save_answer

    async def pick_sketch(self, sketches, more):
        self.asked.append(f"pick:{len(sketches)}")
        return self.pick

    async def png_size(self, sizes, current):
        self.asked.append("png_size")
        return self.png_answer or current


def draw(canvas, points, wait_ms: int = 2, release: bool = True) -> None:
    """Draw one stroke with real mouse events through widget coordinates ``points``."""
    pts = [QPoint(int(x), int(y)) for x, y in points]
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pts[0])
    for p in pts[1:]:
        QTest.mouseMove(canvas, p)
        if wait_ms:
            QTest.qWait(wait_ms)
    if release:
        QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                           pts[-1])


def line(x0, y0, x1, y1, n: int = 12):
    return [(x0 + (x1 - x0) * i / (n - 1), y0 + (y1 - y0) * i / (n - 1)) for i in range(n)]


class FakeGenBackend:
    """A generation backend with the real one's interface (``app.gen_worker``).

    For every candidate in turn: ``steps`` Stage1Step events (the guess is a bar that grows
    with the step), a Stage1Done with
    ``leaves`` leaves (32 px cells along a row), one LeafEvent per leaf (``leaf_ms`` apart),
    then Finished with one horizontal stroke per leaf. ``fail_after`` raises after that
    many leaves; ``gate`` (threading.Event), when set up, makes each leaf wait for it, and
    ``step_gate`` each denoising step (tests step through them). ``drafts`` > 1 plays a
    stage 1 whose recognizer asked for more drafts: the steps count on, the total grows."""

    def __init__(self, leaves: int = 6, leaf_ms: float = 5.0, classes=None, steps: int = 4):
        self.leaves = leaves
        self.leaf_ms = leaf_ms
        self.steps = steps
        self.step_gate: threading.Event | None = None
        self.drafts = 1
        self.classes = list(classes or CLASSES)
        self.fail_after: int | None = None
        self.gate: threading.Event | None = None
        self.jobs: list = []
        self.load_error: str | None = None

    def load(self, device):
        if self.load_error:
            raise SketchError(self.load_error)
        return "CPU", list(self.classes)

    def draw(self, job, cancel):
        return self._events(job, cancel)

    complete = draw

    def _events(self, job, cancel):
        from visketch_core.generate.pipeline import (
            Finished,
            GenResult,
            LeafEvent,
            Stage1Done,
            Stage1Step,
        )
        from visketch_core.sketch.model import Sketch

        self.jobs.append(job)
        shat = np.zeros((256, 256), np.float32)
        shat[100:110, 16:16 + 32 * self.leaves] = 1.0
        for k in range(job.n):
            if k and cancel():
                return
            for draft in range(self.drafts):
                for step in range(1, self.steps + 1):
                    gate = self.step_gate
                    if gate is not None:
                        gate.wait(5.0)
                        gate.clear()
                    guess = np.zeros((32, 32), np.float32)
                    guess[12:14, 2:2 + 28 * step // self.steps] = 1.0
                    yield k, Stage1Step(draft * self.steps + step, (draft + 1) * self.steps,
                                        guess, 0.0)
            yield k, Stage1Done(np.zeros((32, 32), np.float32), shat, self.leaves, 0.0)
            cancelled = False
            for i in range(self.leaves):
                gate = self.gate
                if gate is not None:
                    gate.wait(5.0)
                    gate.clear()
                if cancel():
                    cancelled = True
                    break
                if self.fail_after is not None and i >= self.fail_after:
                    raise RuntimeError("the generator broke")
                time.sleep(self.leaf_ms / 1000.0)
                patch = np.ones((32, 32), np.float32)
                patch[14:18, :] = -0.1
                x0 = 16 + 32 * i
                yield k, LeafEvent(i, i, (x0, 96, x0 + 32, 128), 3, patch, 0.0)
            strokes = [np.array([[16 + 32 * i, 112], [44 + 32 * i, 112]], np.float32)
                       for i in range(self.leaves)]
            yield k, Finished(GenResult(job.label, Sketch(strokes=strokes),
                                        np.zeros((256, 256), np.float32),
                                        np.zeros((32, 32), np.float32), {}, cancelled))

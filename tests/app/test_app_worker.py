"""The inference worker: signals, request ids, coalescing, stale answers, errors."""

from __future__ import annotations

import time

import numpy as np
import pytest
from app_fakes import FakeRecognizer

from app.live import LiveClassifier
from app.worker import InferenceWorker
from visketch_core.errors import ModelError
from visketch_core.sketch.model import Sketch

STROKES = [np.array([[0, 0], [10, 10]], np.float32), np.array([[0, 10], [10, 0]], np.float32)]


@pytest.fixture
def worker(qtbot):
    made = []

    def make(rec):
        w = InferenceWorker.spawn(lambda device: rec)
        made.append(w)
        with qtbot.waitSignal(w.model_loaded, timeout=5000) as blocker:
            w.load("cpu")
        assert blocker.args[0] == "CPU"
        return w

    yield make
    for w in made:
        w.shutdown()


def test_answers_with_the_request_id_on_its_own_thread(qtbot, worker):
    from PySide6.QtCore import QThread

    rec = FakeRecognizer()
    w = worker(rec)
    assert w.thread_ is not QThread.currentThread()
    with qtbot.waitSignal(w.prediction_ready, timeout=5000) as blocker:
        w.submit(7, STROKES)
    rid, pred = blocker.args
    assert rid == 7 and pred.top[0][0] == rec.classes[2] and pred.confident
    assert rec.calls == [2]


def test_coalesces_requests_so_it_never_falls_behind(qtbot, worker):
    rec = FakeRecognizer(delay_ms=150)
    w = worker(rec)
    answered = []
    w.prediction_ready.connect(lambda rid, _p: answered.append(rid))
    w.submit(1, STROKES[:1])
    qtbot.wait(40)  # request 1 is running now
    for rid in range(2, 11):
        w.submit(rid, STROKES)
    qtbot.waitUntil(lambda: 10 in answered, timeout=5000)
    qtbot.wait(300)
    assert answered == [1, 10]  # 2..9 were overtaken while 1 ran
    assert w.dropped == 8 and w.requests == 10


def test_an_exception_becomes_a_message_and_the_thread_goes_on(qtbot, worker):
    rec = FakeRecognizer()
    w = worker(rec)
    rec.fail_next = 1
    with qtbot.waitSignal(w.request_failed, timeout=5000) as blocker:
        w.submit(1, STROKES)
    assert blocker.args == [1, "RuntimeError: boom in the model"]
    with qtbot.waitSignal(w.prediction_ready, timeout=5000) as blocker:
        w.submit(2, STROKES)
    assert blocker.args[0] == 2


def test_an_empty_sketch_is_a_one_line_message(qtbot, worker):
    w = worker(FakeRecognizer())
    with qtbot.waitSignal(w.request_failed, timeout=5000) as blocker:
        w.submit(3, [])
    assert blocker.args == [3, "the sketch is empty"]


def test_a_model_that_fails_to_load_is_reported(qtbot):
    def factory(device):
        raise ModelError("resources/models/classifier.pt: no such file\nsecond line")

    w = InferenceWorker.spawn(factory)
    try:
        with qtbot.waitSignal(w.model_failed, timeout=5000) as blocker:
            w.load("auto")
        assert blocker.args == ["resources/models/classifier.pt: no such file"]
        with qtbot.waitSignal(w.request_failed, timeout=5000) as blocker:
            w.submit(1, STROKES)
        assert "not loaded" in blocker.args[1]
    finally:
        w.shutdown()


def test_factory_gets_the_device_choice(qtbot):
    asked = []

    def factory(device):
        asked.append(device)
        return FakeRecognizer(device_name="CUDA" if device == "auto" else "CPU")

    w = InferenceWorker.spawn(factory)
    try:
        with qtbot.waitSignal(w.model_loaded, timeout=5000) as blocker:
            w.load("auto")
        assert blocker.args[0] == "CUDA"
        with qtbot.waitSignal(w.model_loaded, timeout=5000) as blocker:
            w.load("cpu")
        assert blocker.args[0] == "CPU" and asked == ["auto", "cpu"]
    finally:
        w.shutdown()


def test_live_classifier_drops_stale_and_cleared_answers(qtbot, worker):
    rec = FakeRecognizer()
    w = worker(rec)
    strokes = list(STROKES)
    live = LiveClassifier(w, lambda: strokes)
    live.set_ready(True)  # sends request 1
    shown = []
    live.prediction_ready.connect(lambda rid, _p: shown.append(rid))
    qtbot.waitUntil(lambda: shown == [1], timeout=5000)
    pred = rec.classify(Sketch(strokes=strokes))
    w.prediction_ready.emit(5, pred)
    w.prediction_ready.emit(4, pred)  # older than what is shown: dropped
    assert shown == [1, 5]
    live._next_id = 6
    strokes.clear()
    with qtbot.waitSignal(live.cleared, timeout=1000):
        assert live.request_now() == 0
    w.prediction_ready.emit(5, pred)  # in flight before the clear: dropped
    assert shown == [1, 5]


def test_live_classifier_throttles_moves(qtbot, worker):
    rec = FakeRecognizer()
    w = worker(rec)
    live = LiveClassifier(w, lambda: STROKES, interval_ms=50)
    live.set_ready(True)
    qtbot.waitUntil(lambda: len(rec.calls) == 1, timeout=5000)
    sent = []
    w.submit = lambda rid, s, _orig=w.submit: (sent.append(rid), _orig(rid, s))
    t0 = time.monotonic()
    for _ in range(30):  # 30 moves, ~5 ms apart (longer on a busy machine)
        live.drawing_moved()
        qtbot.wait(5)
    elapsed_ms = (time.monotonic() - t0) * 1000
    qtbot.wait(80)
    # throttled: about one request per 50 ms interval, never one per move
    assert 2 <= len(sent) <= elapsed_ms / 50 + 2
    assert len(sent) < 30
    live.live = False
    sent.clear()
    live.drawing_moved()
    qtbot.wait(80)
    assert sent == []

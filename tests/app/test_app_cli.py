"""``visketch app`` entry point: arguments, and the headless --screenshot mode."""

from __future__ import annotations

import asyncio
import sys

import cv2
import pytest
from app_fakes import FakeRecognizer

from app.main import main, parse_args
from visketch_core.errors import ModelError
from visketch_core.sketch.io import write_sketch
from visketch_core.sketch.model import Sketch


def test_parse_args():
    a = parse_args(["cat.visketch", "--cpu"])
    assert a.file == "cat.visketch" and a.cpu and a.screenshot is None
    a = parse_args(["--open", "x.ndjson", "--index", "3", "--screenshot", "o.png"])
    assert a.open_ == "x.ndjson" and a.index == 3 and a.screenshot == "o.png"


@pytest.fixture
def restore_loop(aloop):
    yield
    asyncio.set_event_loop(aloop)


def test_screenshot_opens_waits_for_the_prediction_and_saves(qapp, restore_loop, tmp_path):
    doc = tmp_path / "tri.visketch"
    write_sketch(Sketch(strokes=[[(10, 10), (200, 10)], [(200, 10), (100, 180)],
                                 [(100, 180), (10, 10)]]), doc)
    out = tmp_path / "shots" / "tri.png"
    rec = FakeRecognizer(delay_ms=300)  # the grab must wait for the answer
    assert main(["--open", str(doc), "--screenshot", str(out)],
                recognizer_factory=lambda device: rec) == 0
    img = cv2.imread(str(out))
    assert img is not None and img.shape[:2] == (760, 1200)
    assert rec.calls and rec.calls[-1] == 3
    # the chart's confident (blue) top bar made it into the picture
    blue = (img[:, :, 0] > 180) & (img[:, :, 2] < 80) & (img[:, :, 1] < 120)
    assert blue.sum() > 500


def test_screenshot_reports_a_bad_file_and_a_missing_model(qapp, restore_loop, tmp_path, capsys):
    out = tmp_path / "shot.png"
    rc = main(["--open", str(tmp_path / "nope.visketch"), "--screenshot", str(out)],
              recognizer_factory=lambda device: FakeRecognizer())
    assert rc == 1 and out.is_file()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nope.visketch" in err[0] and "no such file" in err[0]

    doc = tmp_path / "d.visketch"
    write_sketch(Sketch(strokes=[[(10, 10), (200, 10)]]), doc)

    def broken(device):
        raise ModelError("classifier.pt: not a ViSketch checkpoint")

    rc = main([str(doc), "--screenshot", str(out)], recognizer_factory=broken)
    assert rc == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == "visketch app: model: classifier.pt: not a ViSketch checkpoint"


def test_pyside_keeps_none_alive():
    """PySide6 6.12.0 on Python < 3.12 drops a reference to None on every void call, and
    the app dies ('deallocating None') after a few thousand calls. Keep such builds out."""
    from PySide6.QtCore import QTimer

    timer = QTimer()
    before = sys.getrefcount(None)
    for _ in range(500):
        timer.stop()
    assert sys.getrefcount(None) >= before - 50, "this PySide6 build corrupts None's refcount"

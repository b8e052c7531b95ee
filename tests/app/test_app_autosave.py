"""Autosave: written after every stroke, offered back after a crash (a real kill -9)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
from app_fakes import REPO, draw, line

from app.autosave import Autosave
from visketch_core.sketch.io import read_sketch

CRASHING_SESSION = textwrap.dedent("""
    import os, signal, sys, asyncio
    sys.path[:0] = [{repo!r}, {tests!r}]
    import qasync
    from PySide6.QtWidgets import QApplication
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest
    from app_fakes import FakeRecognizer, FakeDialogs, draw, line
    from app.main_window import MainWindow
    app = QApplication([])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    w = MainWindow(recognizer_factory=lambda d: FakeRecognizer(), dialogs=FakeDialogs())
    w.show()
    loop.run_until_complete(w.load_model())
    draw(w.canvas, line(50, 50, 250, 50))
    draw(w.canvas, line(50, 120, 250, 120))
    draw(w.canvas, line(50, 200, 250, 250), release=False)  # pen still down
    print("autosave", w.autosave.path, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
""")


def test_kill_9_while_drawing_loses_only_the_stroke_in_progress(qtbot, make_window, app_dirs):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    code = CRASHING_SESSION.format(repo=str(REPO), tests=str(REPO / "tests" / "app"))
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    left = [p for p in app_dirs[1].glob("autosave-*.visketch")]
    assert len(left) == 1 and len(read_sketch(left[0]).strokes) == 2

    w = make_window()
    survivor = w.offer_restore()
    assert survivor is not None and survivor.path == left[0]
    assert "did not close properly" in w.message_bar.text()
    w.message_bar.button("Restore").click()
    assert len(w.document) == 2
    assert np.allclose(w.document.stroke(1).points[0], (50, 120))
    assert w.isWindowModified() and w.undo_stack.undoText() == "Restore autosave"
    assert not left[0].exists()  # adopted: now this session's own autosave holds it
    assert len(read_sketch(w.autosave.path).strokes) == 2
    qtbot.waitUntil(lambda: w.latest_prediction is not None, timeout=5000)


def test_autosave_after_every_stroke_and_clean_exit_removes_it(qtbot, make_window, app_dirs):
    w = make_window()
    for i in range(3):
        draw(w.canvas, line(40, 40 + 30 * i, 240, 40 + 30 * i))
        assert len(read_sketch(w.autosave.path).strokes) == i + 1
    meta = json.loads(w.autosave.path.with_suffix(".json").read_text())
    assert meta["pid"] == os.getpid() and meta["document_path"] is None
    w.undo_stack.undo()
    assert len(read_sketch(w.autosave.path).strokes) == 2
    w.close()  # FakeDialogs discards the changes: a clean exit
    assert list(app_dirs[1].glob("autosave-*")) == []
    w2 = make_window()
    assert w2.offer_restore() is None and w2.message_bar.text() == ""


def test_discard_removes_a_survivor(make_window, app_dirs):
    w = make_window()
    draw(w.canvas, line(40, 40, 240, 40))
    w.autosave.abandon()  # as if this session had crashed ...
    for suffix in (".visketch", ".json"):  # ... and had had another process id
        w.autosave.path.with_suffix(suffix).rename(app_dirs[1] / f"autosave-999999{suffix}")
    w2 = make_window()
    assert w2.offer_restore() is not None
    w2.message_bar.button("Discard").click()
    assert not (app_dirs[1] / "autosave-999999.visketch").exists()
    assert not (app_dirs[1] / "autosave-999999.json").exists()
    assert w2.offer_restore() is None and len(w2.document) == 0


def test_a_running_sessions_autosave_is_not_offered(make_window, app_dirs):
    other = Autosave(app_dirs[1])
    other.path = app_dirs[1] / "autosave-1.visketch"
    from visketch_core.sketch.model import Sketch

    other.save(Sketch(strokes=[[(0, 0), (9, 9)]]))  # locked by a live owner
    w = make_window()
    assert w.offer_restore() is None
    other.close()

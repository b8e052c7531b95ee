"""App tests: offscreen Qt, private config/data folders, a fake recognizer, a qasync loop."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import pytest  # noqa: E402
from app_fakes import FakeDialogs, FakeGenBackend, FakeRecognizer, draw, line  # noqa: E402


@pytest.fixture(autouse=True)
def app_dirs(tmp_path, monkeypatch):
    """Settings and autosaves go to this test's own folders."""
    cfg, data = tmp_path / "config", tmp_path / "data"
    monkeypatch.setenv("VISKETCH_CONFIG_DIR", str(cfg))
    monkeypatch.setenv("VISKETCH_DATA_DIR", str(data))
    return cfg, data


@pytest.fixture(scope="session")
def aloop(qapp):
    """The qasync loop; run a window's coroutines with ``aloop.run_until_complete``."""
    import qasync

    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    yield loop
    loop.close()  # stops its executor threads before Qt is torn down


@pytest.fixture
def recognizer():
    return FakeRecognizer()


@pytest.fixture
def make_window(qtbot, aloop, recognizer):
    """make_window(factory=None, load=True, **kwargs) -> a shown MainWindow with FakeDialogs."""
    from app.main_window import MainWindow

    made = []

    def make(factory=None, load=True, **kwargs):
        asyncio.set_event_loop(aloop)
        w = MainWindow(recognizer_factory=factory or (lambda device: recognizer),
                       dialogs=kwargs.pop("dialogs", None) or FakeDialogs(), **kwargs)
        qtbot.addWidget(w)
        made.append(w)
        w.show()
        qtbot.waitExposed(w)
        if load:
            assert aloop.run_until_complete(w.load_model()), w.model_error
        return w

    yield make
    for w in made:
        w.shutdown()



@pytest.fixture
def backend():
    return FakeGenBackend(leaves=6, leaf_ms=3.0)


@pytest.fixture
def gen_window(make_window, backend, qtbot):
    """A window with the fake generator and two strokes drawn (so there is a top guess)."""
    def make(strokes: int = 2, candidates: int = 1, **kw):
        w = make_window(generation_backend=lambda: backend, **kw)
        w.settings.generation_candidates = candidates
        w.generation_panel.count_box.setValue(candidates)
        for i in range(strokes):
            draw(w.canvas, line(60, 60 + 40 * i, 220, 80 + 40 * i))
        if strokes:
            qtbot.waitUntil(lambda: w.latest_prediction is not None
                            and len(w.latest_prediction.classes) > 0, timeout=5000)
            qtbot.waitUntil(lambda: w.live.last_request_id == w.live._shown, timeout=5000)
        return w
    return make

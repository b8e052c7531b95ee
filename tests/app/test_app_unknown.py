"""A drawing of none of the known classes: the panel says so and offers the list of classes,
no class is shown as a guess, "not sure" and "sure" stay as they were, and a completion
uses the closest class and says so."""

from __future__ import annotations

import json

import numpy as np
from app_fakes import CLASSES, REPO, draw, line
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from visketch_core.inference import Prediction

UNKNOWN_TEXT = "This doesn't look like any of the {} things I know"


def wait_shown(qtbot, w, n_strokes: int):
    """Wait until the panel shows an answer about ``n_strokes`` strokes."""
    qtbot.waitUntil(lambda: w.latest_prediction is not None
                    and w.live._shown >= w.live.last_request_id
                    and len(w.document) == n_strokes, timeout=5000)


def prediction(classes: list[str], probs: list[float], known: bool, threshold: float = 0.5):
    p = np.asarray(probs, np.float32)
    order = np.argsort(-p)[:5]
    top = [(classes[j], float(p[j])) for j in order]
    return Prediction(classes=classes, probs=p, top=top,
                      leaf_boxes=np.array([[0, 0, 10, 10]], np.float32),
                      leaf_levels=np.zeros(1, np.int64), leaf_weights=np.ones(1, np.float32),
                      leaf_votes=p[None], confident=known and top[0][1] >= threshold,
                      threshold=threshold, ms=3.0, known=known,
                      unknown_score=0.9 if known else 0.1)


def test_unknown_names_the_shipped_number_of_classes_and_no_guess(qtbot):
    from app.panels import CONFIDENT, PredictionPanel

    card = json.loads((REPO / "resources/models/classifier.json").read_text(encoding="utf-8"))
    classes = list(card["classes"])
    assert len(classes) == 15
    panel = PredictionPanel()
    qtbot.addWidget(panel)
    panel.show()
    probs = [0.02] * 15
    probs[4] = 0.72                     # sure-looking, but the model says: none of these
    pred = prediction(classes, probs, known=False)
    assert pred.verdict == "unknown"
    panel.show_prediction(1, pred)
    assert panel.headline.text() == UNKNOWN_TEXT.format(15)
    assert classes[4] not in panel.headline.text()
    assert "Not a guess" in panel.detail.text() and f"closest: {classes[4]}" in panel.detail.text()
    assert panel.know_link.isVisible() and "What do you know?" in panel.know_link.text()
    tip = panel.know_link.toolTip()
    assert all(c in tip for c in classes)
    assert not panel.confident and not panel.threshold_line.isVisible()
    brushes = panel.bars.opts["brushes"]
    assert all(b.color() != CONFIDENT for b in brushes)     # no "sure" colour on any bar
    # the next, known drawing: the sure headline and the threshold come back, the link goes
    pred = prediction(classes, probs, known=True)
    panel.show_prediction(2, pred)
    assert panel.headline.text().startswith(classes[4]) and panel.confident
    assert not panel.know_link.isVisible() and panel.threshold_line.isVisible()


def test_an_unknown_drawing_in_the_window_offers_the_classes(qtbot, make_window, recognizer):
    recognizer.unknown = True
    w = make_window()
    draw(w.canvas, line(60, 60, 220, 200))
    draw(w.canvas, line(60, 200, 220, 60))      # two strokes: 70 %, above the threshold
    wait_shown(qtbot, w, 2)
    assert w.latest_prediction.verdict == "unknown"
    panel = w.panel
    assert panel.headline.text() == UNKNOWN_TEXT.format(len(CLASSES))
    assert not panel.headline.text().startswith(CLASSES[2])
    assert f"closest: {CLASSES[2]}" in panel.detail.text()
    # the class box names no guess, only the closest class
    assert w.generation_panel.class_box.itemText(0) == f"Top guess (none; closest: {CLASSES[2]})"
    # a click on "What do you know?" opens the list of classes
    link = panel.know_link
    assert link.isVisible()
    assert "Classes the models know" not in w.help.open
    text_w = link.fontMetrics().horizontalAdvance("What do you know?")
    QTest.mouseClick(link, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     QPoint(link.contentsRect().left() + text_w // 2, link.height() // 2))
    qtbot.waitUntil(lambda: "Classes the models know" in w.help.open, timeout=2000)
    dlg = w.help.open["Classes the models know"]
    assert dlg.isVisible()
    assert all(f"<li>{c}</li>" in dlg.text() for c in CLASSES)
    assert "none of them" in dlg.text()
    assert "None of these" in w.help.about().text()


def test_unsure_stays_not_sure(qtbot, make_window, recognizer):
    w = make_window()
    draw(w.canvas, line(60, 60, 220, 200))
    wait_shown(qtbot, w, 1)
    pred = w.latest_prediction
    assert pred.verdict == "unsure"
    assert w.panel.headline.text() == "Not sure yet"
    assert f"Best guess: {pred.label}" in w.panel.detail.text()
    assert not w.panel.know_link.isVisible()
    assert w.generation_panel.class_box.itemText(0) == f"Top guess ({pred.label})"


def test_completion_of_an_unknown_drawing_uses_the_closest_class(qtbot, gen_window, backend,
                                                                  recognizer):
    recognizer.unknown = True
    w = gen_window()
    closest = w.latest_prediction.label
    assert w.latest_prediction.verdict == "unknown" and closest != "cat"
    assert w.generation.complete_sketch()
    assert f"as {closest}, the closest class I know" in w.message_bar.text()
    qtbot.waitUntil(lambda: not w.generation.running, timeout=10000)
    assert backend.jobs[-1].mode == "complete" and backend.jobs[-1].label == closest
    # a class picked by hand is no "closest" class
    w.generation.reject()
    w.generation_panel.pick("cat")
    assert w.generation.complete_sketch(w.generation_panel.choice())
    assert "closest" not in w.message_bar.text()
    qtbot.waitUntil(lambda: not w.generation.running, timeout=10000)
    assert backend.jobs[-1].label == "cat"

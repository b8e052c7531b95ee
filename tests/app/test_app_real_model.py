"""The window with the shipped classifier (skipped until resources/models/classifier.pt exists)."""

from __future__ import annotations

import numpy as np
import pytest
from app_fakes import REPO, draw

from app.worker import load_shipped_recognizer

pytestmark = pytest.mark.skipif(not (REPO / "resources/models/classifier.pt").is_file(),
                                reason="the shipped classifier is not there yet")


def circle(cx, cy, r, n=40):
    th = np.linspace(0, 2 * np.pi, n)
    return list(zip(cx + r * np.cos(th), cy + r * np.sin(th), strict=True))


def test_real_model_classifies_a_drawing_live(qtbot, make_window):
    w = make_window(factory=load_shipped_recognizer)
    assert w.device_name in ("CPU", "CUDA", "MPS")
    assert w.status_device.text() == f"Device: {w.device_name}"
    draw(w.canvas, circle(220, 220, 120))
    draw(w.canvas, circle(180, 190, 15))
    draw(w.canvas, circle(260, 190, 15))
    qtbot.waitUntil(lambda: w.latest_prediction is not None
                    and w.live._shown >= w.live.last_request_id, timeout=60000)
    pred = w.latest_prediction
    classes = pred.classes
    assert len(pred.top) == 5 and all(label in classes for label, _ in pred.top)
    assert abs(float(pred.probs.sum()) - 1.0) < 1e-3
    assert w.panel.top == [(label, p) for label, p in pred.top]
    # leaves come back in the drawing's own coordinates: around the big circle
    boxes = pred.leaf_boxes
    assert len(boxes) >= 4 and w.status_leaves.text() == f"Leaves: {len(boxes)}"
    assert boxes[:, 0].min() >= 220 - 120 - 40 and boxes[:, 2].max() <= 220 + 120 + 40
    assert np.isclose(pred.leaf_weights.sum(), 1.0, atol=1e-3)
    headline = w.panel.headline.text()
    expected = {"sure": pred.label, "unsure": "Not sure yet",
                "unknown": f"This doesn't look like any of the {len(classes)} things"}
    assert headline.startswith(expected[pred.verdict])

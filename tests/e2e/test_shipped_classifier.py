"""The shipped classifier on real test-split sketches: fails if the weights are broken."""

from __future__ import annotations

import numpy as np
import pytest

from visketch_core.data.corpus import load_corpus
from visketch_core.errors import SketchError
from visketch_core.inference import Recognizer
from visketch_core.paths import default_classifier_path
from visketch_core.sketch.model import Sketch

pytestmark = pytest.mark.skipif(not default_classifier_path().exists(),
                                reason="no shipped classifier")


@pytest.fixture(scope="module")
def recognizer():
    return Recognizer.load(device="cpu")


@pytest.fixture(scope="module")
def test_split(quickdraw_dir, recognizer):
    return load_corpus(quickdraw_dir, "test", classes=recognizer.classes, limit_per_class=4)


def test_shipped_model_recognises_real_test_sketches(recognizer, test_split):
    preds = recognizer.classify_many(test_split.sketches)
    acc = np.mean([p.label == s.label for p, s in zip(preds, test_split.sketches)])
    # 60 sketches, 4 per class; the shipped model's measured test top-1 is far above this floor
    assert acc >= 0.75, f"shipped classifier top-1 {acc:.2f} on 60 test sketches"


def test_prediction_has_everything_the_app_draws(recognizer, test_split):
    sk = test_split.sketches[0]
    p = recognizer.classify(sk)
    L = len(p.leaf_weights)
    assert L > 0 and p.leaf_boxes.shape == (L, 4) and p.leaf_votes.shape == (L, len(p.classes))
    assert np.isclose(p.leaf_weights.sum(), 1, atol=1e-3) and np.isclose(p.probs.sum(), 1, atol=1e-3)
    # boxes come back in the sketch's own coordinates and cover its ink
    x0, y0, x1, y1 = sk.bounds()
    assert p.leaf_boxes[:, 0].min() <= x0 + 1 and p.leaf_boxes[:, 2].max() >= x1 - 1
    assert p.leaf_boxes[:, 1].min() <= y0 + 1 and p.leaf_boxes[:, 3].max() >= y1 - 1
    assert len(p.leaf_top(0, 3)) == 3


def test_partial_and_one_point_sketches_classify(recognizer, test_split):
    sk = test_split.sketches[5]
    assert recognizer.classify(sk.first_strokes(1)).top
    assert recognizer.classify(Sketch(strokes=[np.array([[10.0, 10.0]])])).top


def test_empty_and_nan_sketches_are_clear_errors(recognizer):
    with pytest.raises(SketchError, match="empty"):
        recognizer.classify(Sketch(strokes=[]))
    with pytest.raises(SketchError, match="NaN"):
        recognizer.classify(Sketch(strokes=[np.array([[0, np.nan], [1, 2]])]))


def test_shipped_model_says_none_of_these(recognizer, test_split):
    """The shipped model is calibrated to say "none of these", and still knows real ones."""
    assert recognizer.knows_unknown
    preds = [recognizer.classify(s) for s in test_split.sketches[:40]]
    assert sum(p.known for p in preds) >= 0.75 * len(preds)
    for p in preds:
        assert p.verdict in ("sure", "unsure", "unknown")
        assert (p.known_label is None) == (not p.known)
    scribble = Sketch(strokes=[np.array([[0, 0], [255, 3], [2, 250], [250, 255]], np.float32)])
    assert recognizer.classify(scribble).verdict in ("unsure", "unknown")

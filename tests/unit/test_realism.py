"""Realism measures: stroke statistics with known answers, the two-sample test, the sheet."""

from __future__ import annotations

import itertools
import math

import cv2
import numpy as np
import pytest

from visketch_core.eval.realism import (
    LABEL_W,
    contact_sheet,
    relative_gap,
    renders,
    stroke_stats,
    two_sample_score,
)
from visketch_core.sketch.model import Sketch


def _line(length: float = 100.0) -> Sketch:
    return Sketch(strokes=[np.array([[50, 80], [50 + length, 80]])])


def _square(side: float = 100.0) -> Sketch:
    c = np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]], dtype=np.float64) * side + 20
    return Sketch(strokes=[c])


def _zigzag(teeth: int = 10, step: float = 20.0) -> Sketch:
    # segments 20 px long at +-60 degrees: every vertex turns by 120 degrees
    pts = [[0.0, 0.0]]
    for k in range(teeth):
        a = math.radians(60 if k % 2 == 0 else -60)
        pts.append([pts[-1][0] + step * math.cos(a), pts[-1][1] + step * math.sin(a)])
    return Sketch(strokes=[np.array(pts)])


def test_straight_stroke_length_and_roughness():
    st = stroke_stats([_line(100)], normalise_first=False)
    assert st["stroke_length_median"] == pytest.approx(100.0, abs=1e-4)
    assert st["roughness"] == pytest.approx(0.0, abs=1e-9)
    assert st["strokes_median"] == st["strokes_mean"] == 1
    assert st["short_stroke_share"] == 0.0
    # normalised, the longer side spans 256 - 2 * 16 px
    assert stroke_stats([_line(100)])["stroke_length_median"] == pytest.approx(224.0, abs=1e-3)


def test_square_turns_three_right_angles():
    st = stroke_stats([_square(100)], normalise_first=False)
    assert st["stroke_length_median"] == pytest.approx(400.0)
    # 400 px at 4 px: 100 steps, 99 angles, three of them the corners (pi / 2 each)
    assert st["n_angles"] == 99
    assert st["roughness"] == pytest.approx(3 * (math.pi / 2) / 99, rel=1e-6)


def test_zigzag_is_rough_and_resampling_is_fair():
    rough = stroke_stats([_zigzag()], normalise_first=False)["roughness"]
    smooth = stroke_stats([_square()], normalise_first=False)["roughness"]
    assert rough > 0.3 > 5 * smooth
    # the same line traced densely or as two points measures the same
    dense = Sketch(strokes=[np.stack([np.linspace(50, 150, 400), np.full(400, 80.0)], 1)])
    assert stroke_stats([dense], normalise_first=False)["roughness"] == pytest.approx(0, abs=1e-9)


def test_counts_and_short_strokes():
    a = Sketch(strokes=[np.array([[0, 0], [200, 0]])])
    b = Sketch(strokes=[np.array([[0, 0], [200, 0]]), np.array([[0, 50], [5, 50]]),
                        np.array([[100, 100]])])
    st = stroke_stats([a, b], normalise_first=False)
    assert st["strokes_median"] == 2 and st["strokes_mean"] == 2
    assert st["n_strokes"] == 4
    assert st["short_stroke_share"] == pytest.approx(0.5)  # the 5 px stroke and the dot
    assert st["stroke_length_median"] == pytest.approx((5 + 200) / 2)


def test_relative_gap():
    g = relative_gap({"strokes_mean": 6.0, "roughness": 0.1, "short_stroke_share": 0.2,
                      "n_sketches": 3},
                     {"strokes_mean": 8.0, "roughness": 0.1, "short_stroke_share": 0.0,
                      "n_sketches": 9})
    assert g == {"strokes_mean": pytest.approx(0.25), "roughness": 0.0,
                 "short_stroke_share": None}


def test_renders_shape_range_and_blank():
    imgs = renders([_square(), Sketch()], size=64)
    assert imgs.shape == (2, 64, 64) and imgs.dtype == np.float32
    assert 0 <= imgs.min() and imgs.max() <= 1 and imgs[0].sum() > 20
    assert not imgs[1].any()


@pytest.fixture(scope="module")
def real_bicycles(quickdraw_dir):
    from visketch_core.sketch.quickdraw import iter_ndjson

    sk = list(itertools.islice(iter_ndjson(quickdraw_dir / "bicycle.ndjson"), 240))
    if len(sk) < 240:
        pytest.skip("needs 240 real bicycles (the simplified-15 folder)")
    return renders(sk)


def test_two_sample_same_source_is_chance(real_bicycles):
    res = two_sample_score(real_bicycles[:120], real_bicycles[120:240], seed=0)
    assert res["n_per_source"] == 120 and res["n_train"] == res["n_test"] == 120
    assert 0.35 <= res["accuracy"] <= 0.65
    assert 0.35 <= res["logreg_accuracy"] <= 0.65
    assert res == two_sample_score(real_bicycles[:120], real_bicycles[120:240], seed=0)


def test_two_sample_tells_blank_and_noise_apart(real_bicycles):
    real = real_bicycles[:120]
    blank = two_sample_score(real, np.zeros_like(real), seed=1)
    noise = two_sample_score(real, np.random.default_rng(0).random(real.shape, np.float32),
                             seed=1)
    assert blank["accuracy"] >= 0.95 and noise["accuracy"] >= 0.95
    assert noise["auc"] >= 0.95


def test_two_sample_rejects_bad_input():
    with pytest.raises(ValueError, match="images"):
        two_sample_score(np.zeros((10, 64, 64)), np.zeros((10, 32, 32)), seed=0)
    with pytest.raises(ValueError, match="at least"):
        two_sample_score(np.zeros((2, 64, 64)), np.zeros((10, 64, 64)), seed=0)


def test_contact_sheet_size_and_ink(tmp_path):
    rows = [("squares", [_square()] * 3), ("a long label that will not fit the column",
                                          [_zigzag(), _line(), Sketch(), _square(), _line()])]
    out = contact_sheet(rows, tmp_path / "sub" / "sheet.png", cell=48)
    img = cv2.imread(str(out), cv2.IMREAD_GRAYSCALE)
    assert img.shape == (2 * 48, LABEL_W + 5 * 48)
    assert (img[:48, :LABEL_W] < 128).any()             # the label is written
    assert (img[4:44, LABEL_W + 4: LABEL_W + 44] < 128).any()  # the first tile has ink
    assert (img[52:92, LABEL_W + 48 * 2 + 4: LABEL_W + 48 * 3 - 4] == 255).all()  # blank tile
    assert (img[:48, LABEL_W + 3 * 48 + 4:] == 255).all()  # the short row ends blank


def test_the_recognizer_opinion_counts_blank_and_scribble_as_misses(quickdraw_dir):
    from visketch_core.eval.generation import _Measure
    from visketch_core.inference import Recognizer
    from visketch_core.sketch.quickdraw import iter_ndjson

    rec = Recognizer.load(device="cpu", threads=1)
    meas = _Measure.__new__(_Measure)           # only the recognizer part is needed here
    meas.recognizer, meas.classes = rec, rec.classes
    bike = rec.classes.index("bicycle")
    sketches = list(itertools.islice(iter_ndjson(quickdraw_dir / "bicycle.ndjson"), 6))
    sketches += [Sketch(strokes=[]), _zigzag()]
    labels = np.full(len(sketches), bike)
    got = meas.recognize(sketches, labels)
    assert got["right_and_known"] <= min(got["right"], got["known"]) <= 6 / 8
    assert got["right_and_known"] >= 4 / 8     # real bicycles are mostly named and known
    assert set(got["right_and_known_per_class"]) == {"bicycle"}
    meas.recognizer = None
    assert meas.recognize(sketches, labels) is None

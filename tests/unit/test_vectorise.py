"""Vectorising: rasters traced back into strokes that re-render onto the same ink."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from visketch_core.geometry.raster import render
from visketch_core.geometry.simplify import rdp_mask
from visketch_core.geometry.vectorise import thin, trace, vectorise
from visketch_core.sketch.model import Sketch, normalise

DATA = Path(__file__).resolve().parents[2].parent / "shared/data/quickdraw"


def tolerant_iou(a: np.ndarray, b: np.ndarray, tol: int = 2) -> float:
    """IoU of two ink images where a pixel counts as matched if the other image has ink
    within ``tol`` pixels (a dilation tolerance)."""
    ka = a > 0.5
    kb = b > 0.5
    kernel = np.ones((2 * tol + 1, 2 * tol + 1), np.uint8)
    da = cv2.dilate(ka.astype(np.uint8), kernel) > 0
    db = cv2.dilate(kb.astype(np.uint8), kernel) > 0
    matched = (ka & db).sum() + (kb & da).sum()
    return float(matched / max(ka.sum() + kb.sum(), 1))


def test_line_comes_back_as_one_stroke():
    img = render(Sketch(strokes=[np.array([[20, 30], [220, 200]])]))
    out = vectorise(img)
    assert len(out.strokes) == 1 and len(out.strokes[0]) == 2  # RDP leaves the two ends
    assert np.allclose(out.strokes[0][0], [20, 30], atol=2.5)
    assert np.allclose(out.strokes[0][-1], [220, 200], atol=2.5)
    assert tolerant_iou(img, render(out)) > 0.9


def test_circle_comes_back_closed():
    img = np.zeros((256, 256), np.float32)
    cv2.circle(img, (128, 128), 80, 1.0, 3, cv2.LINE_AA)
    out = vectorise(img)
    assert len(out.strokes) == 1
    ring = out.strokes[0]
    assert np.allclose(ring[0], ring[-1])  # a loop closes on itself
    assert np.allclose(np.hypot(*(ring - 128).T), 80, atol=2.0)
    assert tolerant_iou(img, render(out)) > 0.9


def test_cross_and_dot_and_sdf_input():
    sketch = Sketch(strokes=[np.array([[40, 128], [216, 128]]), np.array([[128, 40], [128, 216]]),
                             np.array([[60, 60]])])
    img = render(sketch)
    out = vectorise(img)
    assert 2 <= len(out.strokes) <= 5
    assert any(len(s) == 1 for s in out.strokes)  # the dot survives as a dot
    assert tolerant_iou(img, render(out)) > 0.9
    sdf = np.where(img > 0.5, -1.0, 1.0).astype(np.float32)
    assert tolerant_iou(img, render(vectorise(sdf, sdf=True))) > 0.9


def test_small_raster_maps_back_to_frame():
    img = render(Sketch(strokes=[np.array([[20, 30], [220, 200]])]), size=64, width=6)
    out = vectorise(img)
    assert tolerant_iou(img, render(out, size=64, width=6)) > 0.8
    assert out.bounds()[2] > 200  # coordinates are in the 256 frame, not the 64 px image


def test_empty_and_specks():
    assert vectorise(np.zeros((256, 256), np.float32)).strokes == []
    assert vectorise(np.zeros((0, 0), np.float32)).strokes == []
    speck = np.zeros((256, 256), np.float32)
    speck[10, 10] = 1.0
    assert vectorise(speck).strokes == []


def test_thin_is_one_pixel_and_keeps_connectivity():
    mask = np.zeros((40, 60), bool)
    mask[10:20, 5:55] = True  # a thick bar
    skel = thin(mask)
    assert skel.any() and (skel & ~mask).sum() == 0
    assert skel.sum(axis=0).max() == 1  # one pixel across
    n, _ = cv2.connectedComponents(skel.astype(np.uint8), connectivity=8)
    assert n == 2  # background + one piece
    paths = trace(skel)
    assert len(paths) == 1 and len(paths[0]) == skel.sum()


def test_real_sketches_round_trip_fast():
    path = DATA / "simplified-15/cat.ndjson"
    if not path.exists():
        pytest.skip(f"QuickDraw data not found: {path}")
    from visketch_core.sketch.quickdraw import iter_ndjson

    times, ious = [], []
    for i, sketch in enumerate(iter_ndjson(path)):
        if i == 20:
            break
        img = render(normalise(sketch))
        start = time.perf_counter()
        out = vectorise(img)
        times.append(time.perf_counter() - start)
        ious.append(tolerant_iou(img, render(out)))
    assert min(ious) > 0.85
    assert float(np.median(times)) < 0.05  # budget: 50 ms for a 256x256 sketch


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(-300, 300), st.floats(-300, 300)), min_size=1, max_size=60),
       st.floats(0.1, 10.0))
def test_rdp_contract(points, epsilon):
    """Ends are kept, and every dropped point lies within epsilon of its chord's line."""
    pts = np.asarray(points, dtype=np.float64)
    keep = rdp_mask(pts, epsilon)
    assert keep[0] and keep[-1]
    kept = np.flatnonzero(keep)
    for i, j in zip(kept[:-1], kept[1:], strict=True):
        a, b, inner = pts[i], pts[j], pts[i + 1 : j]
        ab = b - a
        n = np.hypot(*ab)
        rel = inner - a
        d = np.hypot(*rel.T) if n < 1e-12 else np.abs(ab[0] * rel[:, 1] - ab[1] * rel[:, 0]) / n
        assert np.all(d <= epsilon + 1e-9)

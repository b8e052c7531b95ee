"""Core geometry: raster, SDF, quadtree, contexts (with property tests)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from visketch_core import Sketch, normalise
from visketch_core.geometry import (
    GeometryConfig,
    build_contexts,
    build_quadtree,
    ink_from_sdf,
    preprocess,
    render,
    sdf_from_ink,
)
from visketch_core.geometry.context import DUMMY, node_offset

CFG = GeometryConfig()

point = st.tuples(st.floats(-500, 500, allow_nan=False), st.floats(-500, 500, allow_nan=False))
stroke = st.lists(point, min_size=1, max_size=20)
sketches = st.lists(stroke, min_size=1, max_size=8).map(
    lambda ss: Sketch(strokes=[np.array(s, np.float32) for s in ss]))


def _ink(sk: Sketch) -> np.ndarray:
    return render(normalise(sk), CFG.size, CFG.line_width)


def test_normalise_fits_frame_with_margin():
    sk = normalise(Sketch(strokes=[np.array([[1000, 2000], [3000, 2500]], np.float32)]))
    x0, y0, x1, y1 = sk.bounds()
    assert x0 == pytest.approx(CFG.margin) and x1 == pytest.approx(256 - CFG.margin)
    assert (y0 + y1) / 2 == pytest.approx(128)


def test_normalise_rejects_nan_and_huge():
    with pytest.raises(ValueError, match="NaN"):
        normalise(Sketch(strokes=[np.array([[0, np.nan], [1, 1]])]))
    with pytest.raises(ValueError, match="beyond"):
        normalise(Sketch(strokes=[np.array([[0, 1e12], [1, 1]])]))


def test_render_is_antialiased_and_single_points_show():
    ink = render(Sketch(strokes=[np.array([[10.3, 10.0], [200.7, 150.2]])]))
    assert ink.dtype == np.float32 and ink.shape == (256, 256)
    vals = np.unique(ink)
    assert ((vals > 0) & (vals < 1)).any(), "edges should be anti-aliased"
    dot = render(Sketch(strokes=[np.array([[128, 128]])]))
    assert dot[128, 128] > 0.5


def test_sdf_sign_and_range():
    ink = render(Sketch(strokes=[np.array([[40, 128], [216, 128]])]))
    sdf = sdf_from_ink(ink, scale=16)
    assert sdf.min() >= -1 and sdf.max() <= 1
    assert sdf[128, 128] < 0 and sdf[10, 10] == 1.0
    assert sdf[128 + 8, 128] == pytest.approx((8 - 1.5 - 0.5) / 16, abs=0.1)
    assert np.all(sdf_from_ink(np.zeros((256, 256))) == 1)


@settings(max_examples=40, deadline=None)
@given(sketches)
def test_sdf_ink_sdf_round_trip(sk):
    ink = _ink(sk)
    sdf = sdf_from_ink(ink)
    binary = ink_from_sdf(sdf)
    assert np.array_equal(binary, (ink > 0.5).astype(np.float32))
    assert np.allclose(sdf_from_ink(binary), sdf)


@settings(max_examples=60, deadline=None)
@given(sketches, st.integers(1, 200))
def test_quadtree_leaves_tile_without_overlap(sk, min_ink):
    cfg = GeometryConfig(min_ink=min_ink)
    ink = _ink(sk)
    tree = build_quadtree(ink, cfg)
    cover = np.zeros((256, 256), np.int32)
    for x0, y0, x1, y1 in tree.boxes.astype(int):
        assert 0 <= x0 < x1 <= 256 and 0 <= y0 < y1 <= 256
        cover[y0:y1, x0:x1] += 1
    assert cover.max() <= 1, "leaves overlap"
    # every ink pixel lies in exactly one leaf
    assert np.all(cover[ink > cfg.ink_threshold] == 1)
    # leaves hold ink; a leaf above the finest level holds less than min_ink
    for lv, r, c in zip(tree.level, tree.row, tree.col):
        n = tree.ink[lv][r, c]
        assert n > 0
        if lv < cfg.depth - 1:
            assert n < cfg.min_ink


def test_quadtree_split_rule_picks_coarse_leaves_for_sparse_ink():
    ink = np.zeros((256, 256), np.float32)
    ink[10, 10:14] = 1  # 4 pixels: below min_ink, the root stops splitting
    tree = build_quadtree(ink, GeometryConfig(min_ink=24))
    assert list(tree.level) == [0]
    ink[100:140, 100:140] = 1
    tree = build_quadtree(ink, GeometryConfig(min_ink=24))
    assert tree.level.max() == 3


@settings(max_examples=40, deadline=None)
@given(sketches)
def test_contexts_fixed_length_and_valid_indices(sk):
    ctx = preprocess(sk, CFG)
    assert ctx.tokens.shape == (len(ctx), CFG.context_len)
    assert ctx.node_patches.shape == (CFG.num_nodes, CFG.patch, CFG.patch)
    assert ctx.tokens.max(initial=DUMMY) < CFG.num_nodes
    for i in range(len(ctx)):
        lv = ctx.level[i]
        toks = ctx.tokens[i].reshape(CFG.depth, 9)
        # the leaf's own cell and every ancestor are present; finer levels are dummy
        assert np.all(toks[: lv + 1, 4] >= 0)
        assert np.all(toks[lv + 1:] == DUMMY)
        # the centre slot at level k is the ancestor cell at level k
        for k in range(lv + 1):
            r, c = ctx.boxes[i, 1] // (256 >> k), ctx.boxes[i, 0] // (256 >> k)
            assert toks[k, 4] == node_offset(k) + int(r) * 2**k + int(c)


def test_context_neighbours_outside_canvas_are_dummy():
    ink = np.zeros((256, 256), np.float32)
    ink[2:30, 2:30] = 1  # top-left finest cell only
    tree = build_quadtree(ink, CFG)
    ctx = build_contexts(sdf_from_ink(ink), tree, CFG)
    toks = ctx.tokens[0].reshape(4, 9)
    assert toks[3, 0] == DUMMY and toks[3, 1] == DUMMY and toks[3, 3] == DUMMY
    assert toks[3, 8] == node_offset(3) + 1 * 8 + 1
    assert toks[0, 4] == 0 and np.all(toks[0, [0, 1, 2, 3, 5, 6, 7, 8]] == DUMMY)


def test_node_patches_match_per_cell_resize():
    import cv2

    ink = render(normalise(Sketch(strokes=[np.array([[0, 0], [50, 90], [100, 10]])])))
    sdf = sdf_from_ink(ink)
    tree = build_quadtree(ink, CFG)
    ctx = build_contexts(sdf, tree, CFG)
    cell = sdf[64:128, 128:192]  # level 2, row 1, col 2
    ref = cv2.resize(cell, (32, 32), interpolation=cv2.INTER_AREA)
    got = ctx.node_patches[node_offset(2) + 1 * 4 + 2].astype(np.float32)
    assert np.allclose(got, ref, atol=2e-3)


def test_empty_sketch_has_no_leaves():
    ctx = preprocess(Sketch(strokes=[]), CFG)
    assert len(ctx) == 0 and ctx.tokens.shape == (0, CFG.context_len)


def test_real_sketches_have_tens_of_leaves(cat_sketches):
    counts = [len(preprocess(s, CFG)) for s in cat_sketches]
    assert 10 <= np.median(counts) <= 64

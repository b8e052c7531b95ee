"""Leaf schedules: every leaf exactly once; parallel batches never hold touching leaves."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from visketch_core.generate.canvas import coarse_from_ink, shat_from_coarse
from visketch_core.generate.schedules import leaf_batches, parity_colours, touching
from visketch_core.geometry import GeometryConfig, build_quadtree


def _check(tree):
    for name in ("sequential", "parallel"):
        batches = leaf_batches(tree, name)
        flat = np.concatenate(batches) if batches else np.zeros(0, int)
        assert sorted(flat.tolist()) == list(range(len(tree)))
    adj = touching(tree.boxes)
    for b in leaf_batches(tree, "parallel"):
        assert not adj[np.ix_(b, b)].any()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 255), st.integers(0, 255), st.integers(1, 40)),
                min_size=1, max_size=12))
def test_parallel_never_batches_touching_leaves(blobs):
    """Random ink blobs give quadtrees with leaves of mixed sizes."""
    ink = np.zeros((256, 256), np.float32)
    for x, y, r in blobs:
        ink[max(0, y - r): y + r, max(0, x - r): x + r] = 1.0
    _check(build_quadtree(ink, GeometryConfig(min_ink=600)))
    _check(build_quadtree(ink, GeometryConfig()))


def test_schedules_on_real_sketches(cat_sketches):
    from visketch_core.generate.canvas import ink_of

    for sk in cat_sketches[:15]:
        shat = shat_from_coarse(coarse_from_ink(ink_of(sk)))
        _check(shat.tree)
        # same-level leaves keep their parity colour: four batches for a one-level tree
        if len(set(shat.tree.level.tolist())) == 1:
            assert len(leaf_batches(shat.tree, "parallel")) <= 4
            assert (parity_colours(shat.tree) < 4).all()


def test_touching_includes_corners():
    boxes = np.array([[0, 0, 32, 32], [32, 32, 64, 64], [64, 0, 96, 32]], np.float32)
    t = touching(boxes)
    assert t[0, 1] and t[1, 2] and not t[0, 2]

"""Splits, augmentation, the context cache and the padded batches."""

from __future__ import annotations

import numpy as np

from visketch_core.data.augment import AugmentConfig, augment, partial
from visketch_core.data.cache import ContextCache
from visketch_core.data.corpus import load_corpus
from visketch_core.data.dataset import SketchDataset, collate
from visketch_core.data.splits import split_of
from visketch_core.geometry import GeometryConfig, preprocess


def test_split_is_fixed_and_80_10_10():
    keys = [str(5_000_000_000_000_000 + 7919 * i) for i in range(20_000)]
    splits = [split_of(k) for k in keys]
    assert splits == [split_of(k) for k in keys]
    share = {s: splits.count(s) / len(splits) for s in ("train", "val", "test")}
    assert abs(share["train"] - 0.8) < 0.02 and abs(share["val"] - 0.1) < 0.01


def test_corpus_splits_are_disjoint(quickdraw_dir):
    keys = {}
    for split in ("train", "val", "test"):
        c = load_corpus(quickdraw_dir, split, limit_per_class=30)
        keys[split] = {s.key_id for s in c.sketches}
        assert all(split_of(k) == split for k in keys[split])
    assert not (keys["train"] & keys["val"]) and not (keys["train"] & keys["test"])


def test_augment_keeps_label_and_changes_points(cat_sketches):
    rng = np.random.default_rng(0)
    sk = cat_sketches[0]
    out = augment(sk, rng, AugmentConfig(partial_prob=0, stroke_dropout=0))
    assert out.label == sk.label and len(out.strokes) == len(sk.strokes)
    assert not np.allclose(out.strokes[0], sk.strokes[0])
    assert len(partial(sk, 0.5).strokes) == int(np.ceil(len(sk.strokes) / 2))


def test_cache_matches_fresh_preprocessing(tmp_path, cat_sketches):
    geo = GeometryConfig()
    sks = cat_sketches[:5]
    cache = ContextCache.open_or_build(tmp_path, sks, geo, AugmentConfig(), views=2, seed=3)
    for i, sk in enumerate(sks):
        fresh = preprocess(sk, geo)
        got = cache.get(i, 0)
        assert np.array_equal(got.tokens, fresh.tokens) and np.array_equal(got.level, fresh.level)
        assert np.allclose(got.node_patches.astype(np.float32),
                           fresh.node_patches.astype(np.float32), atol=5e-3)
    aug = cache.get(0, 1)
    assert aug.node_patches.shape == (geo.num_nodes, 32, 32)
    assert not np.array_equal(aug.tokens, cache.get(0, 0).tokens) or not np.allclose(
        aug.node_patches.astype(np.float32), cache.get(0, 0).node_patches.astype(np.float32))
    # the same inputs find the same cache; other inputs do not
    again = ContextCache.open_or_build(tmp_path, sks, geo, AugmentConfig(), views=2, seed=3)
    assert again.folder == cache.folder
    other = ContextCache.open_or_build(tmp_path, sks[:4], geo, AugmentConfig(), views=1, seed=3)
    assert other.folder != cache.folder
    ds = SketchDataset(sks, [0] * 5, geo, cache=cache)
    ds.set_epoch(1)
    assert np.array_equal(ds[0][0].tokens, aug.tokens)


def test_collate_pads_with_mask(cat_sketches):
    items = [(preprocess(s), 1) for s in cat_sketches[:3]]
    b = collate(items)
    n = [len(c) for c, _ in items]
    assert b["mask"].shape == (3, max(n)) and b["mask"].sum(1).tolist() == n
    assert (b["tokens"][~b["mask"]] == -1).all()

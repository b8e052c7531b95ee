"""The quadtree-context classifier on tiny configs: shapes, masks, overfit, checkpoints."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from visketch_core.data.dataset import SketchDataset, collate
from visketch_core.errors import ModelError
from visketch_core.geometry import preprocess
from visketch_core.models.checkpoint import load_classifier, save_checkpoint
from visketch_core.models.classifier import ClassifierConfig, QuadtreeClassifier
from visketch_core.models.context_encoder import ContextEncoderConfig

TINY = ClassifierConfig(num_classes=3, encoder=ContextEncoderConfig(dim=32, layers=1, heads=2,
                                                                    stem_width=8, dropout=0.0),
                        leaf_layers=1, leaf_heads=2, dropout=0.0)


@pytest.fixture(scope="module")
def items(cat_sketches):
    return [(preprocess(s), i % 3) for i, s in enumerate(cat_sketches[:6])]


def test_output_shapes_and_weights(items):
    torch.manual_seed(0)
    model = QuadtreeClassifier(TINY).eval()
    batch = collate(items)
    out = model(batch, batch["label"])
    B, L = batch["mask"].shape
    assert out["logits"].shape == (B, 3)
    assert out["leaf_weights"].shape == (B, L) and out["leaf_probs"].shape == (B, L, 3)
    w = out["leaf_weights"]
    assert torch.allclose(w.sum(1), torch.ones(B), atol=1e-5)
    assert torch.all(w[~batch["mask"]] == 0)
    assert out["loss"].ndim == 0 and torch.isfinite(out["loss"])


def test_padding_leaves_change_nothing(items):
    """A sketch with few leaves gives the same result alone and batched with a large one."""
    torch.manual_seed(0)
    model = QuadtreeClassifier(TINY).eval()
    small = min(items, key=lambda it: len(it[0]))
    large = max(items, key=lambda it: len(it[0]))
    assert len(small[0]) < len(large[0])
    with torch.no_grad():
        alone = model(collate([small]))
        both = model(collate([small, large]))
    n = len(small[0])
    assert torch.allclose(alone["logits"][0], both["logits"][0], atol=1e-5)
    assert torch.allclose(alone["leaf_weights"][0, :n], both["leaf_weights"][0, :n], atol=1e-5)


def test_patch_embeddings_once_per_node(items, monkeypatch):
    model = QuadtreeClassifier(TINY).eval()
    seen = []
    orig = model.encoder.embed._embed
    monkeypatch.setattr(model.encoder.embed, "_embed", lambda x: seen.append(len(x)) or orig(x))
    batch = collate(items[:2])
    with torch.no_grad():
        model(batch)
    M = batch["patches"].shape[1]
    assert sum(seen) <= 2 * M + 1  # never once per context slot (that would be L*36)


def test_leaf_only_ablation_and_mean_pooling_run(items):
    from dataclasses import replace

    for cfg in (replace(TINY, encoder=replace(TINY.encoder, use_context=False)),
                replace(TINY, pooling="mean"),
                replace(TINY, encoder=replace(TINY.encoder, stem="conv3"))):
        out = QuadtreeClassifier(cfg)(collate(items), collate(items)["label"])
        assert torch.isfinite(out["loss"])
    w = QuadtreeClassifier(replace(TINY, pooling="mean"))(collate(items))["leaf_weights"]
    mask = collate(items)["mask"]
    assert torch.allclose(w[0][mask[0]], torch.full_like(w[0][mask[0]], 1 / mask[0].sum()))


def test_one_batch_overfits(items):
    torch.manual_seed(0)
    model = QuadtreeClassifier(TINY)
    batch = collate(items)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    first = None
    for _ in range(60):
        out = model(batch, batch["label"])
        opt.zero_grad()
        out["loss"].backward()
        opt.step()
        first = first if first is not None else float(out["loss"].detach())
    model.eval()
    with torch.no_grad():
        pred = model(batch)["logits"].argmax(1)
    assert torch.equal(pred, batch["label"])
    assert float(out["loss"]) < 0.5 * first


def test_checkpoint_round_trip(tmp_path, items):
    model = QuadtreeClassifier(TINY).eval()
    path = tmp_path / "clf.pt"
    save_checkpoint(path, kind="classifier", config=TINY, model=model, classes=["a", "b", "c"],
                    metrics={"confidence_threshold": 0.6}, extra={"geometry": {}})
    loaded, classes, geometry, blob, _ = load_classifier(path, torch.device("cpu"))
    assert classes == ["a", "b", "c"] and blob["metrics"]["confidence_threshold"] == 0.6
    batch = collate(items)
    with torch.no_grad():
        assert torch.allclose(model(batch)["logits"], loaded(batch)["logits"], atol=1e-6)


def test_missing_and_corrupt_weights_give_one_line_errors(tmp_path):
    with pytest.raises(ModelError, match="not found") as e:
        load_classifier(tmp_path / "nope.pt", torch.device("cpu"))
    assert "\n" not in str(e.value)
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"\x00garbage" * 100)
    with pytest.raises(ModelError, match="not a readable model file") as e:
        load_classifier(bad, torch.device("cpu"))
    assert "\n" not in str(e.value)


def test_dataset_augmentation_varies_by_epoch(cat_sketches):
    from visketch_core.data.augment import AugmentConfig

    ds = SketchDataset(cat_sketches[:2], [0, 0], augment=AugmentConfig(), seed=1)
    a = ds[0][0].node_patches
    ds.set_epoch(1)
    b = ds[0][0].node_patches
    ds.set_epoch(0)
    assert not np.array_equal(a, b) and np.array_equal(a, ds[0][0].node_patches)

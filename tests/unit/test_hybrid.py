"""The hybrid recognizer: feature-pyramid node embeddings, the gap head, outlier exposure,
the class-disjoint outlier split and the "none of these" verdict."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from visketch_core.data.dataset import collate
from visketch_core.geometry import GeometryConfig, preprocess, render, sdf_from_ink
from visketch_core.models.classifier import ClassifierConfig, QuadtreeClassifier
from visketch_core.models.context_encoder import ContextEncoderConfig
from visketch_core.models.pyramid import PyramidEmbed, sketch_planes
from visketch_core.sketch.model import normalise

HYBRID = ClassifierConfig(num_classes=3, encoder=ContextEncoderConfig(
    dim=32, layers=1, heads=2, embed="pyramid", pyramid_width=8), leaf_layers=1, leaf_heads=2)
GAP = replace(HYBRID, head="gap")


@pytest.fixture(scope="module")
def items(cat_sketches):
    return [(preprocess(s), i % 3) for i, s in enumerate(cat_sketches[:6])]


def test_planes_are_the_whole_sdf_put_back_together(cat_sketches):
    """The finest node patches tile the 256 px SDF: reassembled, they are that SDF."""
    cfg = GeometryConfig()
    sk = cat_sketches[0]
    sdf = sdf_from_ink(render(normalise(sk, cfg.size, cfg.margin), cfg.size, cfg.line_width),
                       cfg.sdf_scale)
    batch = collate([(preprocess(sk, cfg), 0)])
    full = sketch_planes(batch["patches"], cfg.depth, 256)
    assert full.shape == (1, 2, 256, 256)
    assert np.allclose(full[0, 1].numpy(), sdf, atol=2e-3)      # float16 storage
    assert torch.equal(full[0, 0] > 0.5, torch.from_numpy(sdf < 0))
    small = sketch_planes(batch["patches"], cfg.depth, 64)
    assert small.shape == (1, 2, 64, 64) and 0 < small[0, 0].mean() < 0.5


def test_pyramid_cells_line_up_with_the_node_table():
    """Ink in one 32 px cell only changes the finest-level embedding of that node (and of
    nodes whose receptive field reaches it), never a far-away one."""
    from visketch_core.geometry.context import node_patches

    torch.manual_seed(0)
    emb = PyramidEmbed(dim=16, width=8).eval()
    cfg = GeometryConfig()
    blank = np.ones((256, 256), np.float32)
    ink = blank.copy()
    ink[200:215, 200:212] = -0.5                              # ink in cell (row 6, col 6)
    a = torch.from_numpy(node_patches(blank, cfg))[None]
    b = torch.from_numpy(node_patches(ink, cfg))[None]
    with torch.no_grad():
        na, pa = emb(a)
        nb, pb = emb(b)
    assert na.shape == (1, 85, 16) and pa.shape == (1, 32)
    diff = (na - nb).abs().sum(-1)[0]
    fine = diff[21:85].view(8, 8)                           # level 3 in (row, col) order
    assert fine[0, 0] < 1e-4                                # the far corner did not move
    r, c = np.unravel_index(int(fine.argmax()), (8, 8))
    assert abs(r - 6) <= 1 and abs(c - 6) <= 1               # the change is at the new ink
    assert diff[1 + 3] > diff[1]                            # level 1: the lower-right cell


def test_hybrid_and_gap_heads_train_and_score(items):
    torch.manual_seed(0)
    batch = collate(items)
    for cfg in (HYBRID, GAP, replace(HYBRID, encoder=replace(HYBRID.encoder, embed="both",
                                                             stem_width=8))):
        model = QuadtreeClassifier(cfg)
        out = model(batch, batch["label"])
        B, L = batch["mask"].shape
        assert out["logits"].shape == (B, 3) and out["leaf_probs"].shape == (B, L, 3)
        assert torch.allclose(out["leaf_weights"].sum(1), torch.ones(B), atol=1e-5)
        assert out["pooled"].shape[0] == B and torch.isfinite(out["loss"])
        out["loss"].backward()
    with pytest.raises(AssertionError):
        QuadtreeClassifier(replace(HYBRID, head="gap", encoder=ContextEncoderConfig()))


def test_outlier_rows_are_pushed_toward_uniform(items):
    torch.manual_seed(0)
    model = QuadtreeClassifier(replace(HYBRID, label_smoothing=0.0, vote_weight=0.0))
    batch = collate(items)
    logits = torch.tensor([[5.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    t = torch.tensor([0, -1])
    loss_sure = model.loss(logits, t, None, batch["mask"][:2])
    flat = torch.tensor([[5.0, 0.0, 0.0], [4.0, 0.0, 0.0]])
    loss_peaked = model.loss(flat, t, None, batch["mask"][:2])
    assert loss_peaked > loss_sure                           # a peaked outlier costs more
    only_out = model.loss(logits[1:], t[1:], None, batch["mask"][:1])
    assert torch.isclose(only_out, torch.tensor(0.5 * np.log(3), dtype=torch.float32))
    # outlier rows never reach the vote loss (a target of -1 would be an index error)
    out = QuadtreeClassifier(HYBRID)(batch, torch.tensor([0, -1, 1, -1, 2, 0]))
    assert torch.isfinite(out["loss"])


def test_outlier_split_is_by_class_and_fixed():
    from visketch_core.data.outliers import GROUPS, class_group

    names = [f"class {i}" for i in range(400)]
    groups = [class_group(n) for n in names]
    assert set(groups) == set(GROUPS)
    share = {g: groups.count(g) / len(names) for g in GROUPS}
    assert 0.35 < share["train"] < 0.55 and 0.08 < share["tune"] < 0.22
    assert groups == [class_group(n) for n in names]         # deterministic


def _names_in(group: str, k: int) -> list[str]:
    from visketch_core.data.outliers import class_group

    cands = ["house", "tree", "car", "fish", "star", "door", "cup", "hat", "sun", "key",
             "moon", "shoe", "bird", "boat", "bread", "cake", "dog", "duck", "fan", "fork",
             "frog", "lamp", "leaf", "lion", "nail", "owl", "pear", "pig", "rain", "sock"]
    out = [n for n in cands if class_group(n) == group]
    assert len(out) >= k
    return out[:k]


@pytest.fixture()
def outlier_dir(tmp_path, quickdraw_dir):
    """A folder of 'other classes': real drawings under other names, plus one of ours."""
    lines = (quickdraw_dir / "guitar.ndjson").read_text().splitlines()
    d = tmp_path / "others"
    d.mkdir()
    i = 0
    for group in ("train", "tune", "test"):
        for name in _names_in(group, 2):
            chunk = []
            for line in lines[i * 3:(i + 1) * 3]:
                rec = json.loads(line)
                rec["word"], rec["key_id"] = name, f"{name}-{rec.get('key_id')}"
                chunk.append(json.dumps(rec))
            (d / f"{name}.ndjson").write_text("\n".join(chunk) + "\n")
            i += 1
    (d / "cat.ndjson").write_text((quickdraw_dir / "cat.ndjson").read_text())
    return d


def test_load_outliers_keeps_groups_apart_and_skips_our_classes(outlier_dir):
    from visketch_core.data.outliers import class_group, load_outliers

    seen = {}
    for g in ("train", "tune", "test"):
        o = load_outliers(outlier_dir, g, ["cat", "eye"])
        assert len(o) == 6 and all(class_group(c) == g for c in o.classes)
        assert "cat" not in o.classes
        seen[g] = set(o.classes)
    assert not (seen["train"] & seen["tune"]) and not (seen["tune"] & seen["test"])
    keys = {s.key_id for s in load_outliers(outlier_dir, "train", []).sketches}
    assert len(load_outliers(outlier_dir, "train", [], exclude_keys=keys)) == 0


def test_scores_and_the_chosen_threshold():
    from visketch_core.eval.unknown import UnknownGate, pick_unknown, scores

    rng = np.random.default_rng(0)
    known = np.zeros((200, 4))
    known[np.arange(200), rng.integers(0, 4, 200)] = 6.0
    other = rng.normal(0, 0.3, (100, 4))
    s_known, s_other = scores(known), scores(other)
    assert set(s_known) == {"msp", "max_logit", "energy"}
    choice = pick_unknown(s_known, s_other, keep=0.95)
    row = choice["table"][choice["score"]]
    assert row["known_kept"] >= 0.95 and row["other_called_known"] < 0.05
    gate = UnknownGate({"metrics": {"unknown": choice}})
    ok, _ = gate(np.concatenate([known[:5], other[:5]]), None)
    assert ok[:5].all() and not ok[5:].any()
    assert UnknownGate({})(other, None)[0].all()             # no calibration: all known


def test_sure_threshold_meets_both_limits_and_resolves_above_099():
    from visketch_core.eval.unknown import sure_threshold

    # validation: right guesses at 0.999, wrong ones at 0.99; others' drawings at 0.9925
    v_top = np.array([0.999] * 90 + [0.99] * 10)
    v_right = np.array([True] * 90 + [False] * 10)
    o_top = np.full(50, 0.9925)
    yes = np.ones(100, bool)
    t = sure_threshold(v_top, v_right, yes, o_top, np.ones(50, bool),
                       precision=0.97, other_sure=0.015)
    assert t == pytest.approx(0.993)            # just above the others, on the fine grid
    assert sure_threshold(v_top, v_right, yes, o_top, np.zeros(50, bool),  # others unknown
                          precision=0.97, other_sure=0.015) == pytest.approx(0.9905)
    # nothing reaches the precision: the top of the grid
    assert sure_threshold(v_top, ~v_right, yes, o_top, np.ones(50, bool),
                          precision=0.97, other_sure=1.0) == pytest.approx(0.9995)


def test_prototype_score_prefers_embeddings_near_a_class():
    from visketch_core.eval.unknown import class_prototypes, scores

    pooled = np.array([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]], np.float32)
    protos = class_prototypes(pooled, np.array([0, 0, 1, 1]), 2)
    s = scores(np.zeros((2, 2)), np.array([[1, 0.05], [1, 1]], np.float32), protos)
    assert s["prototype"][0] > s["prototype"][1]


def test_auroc():
    from visketch_core.eval.classifier import auroc

    assert auroc([3, 4, 5], [0, 1, 2]) == 1.0
    assert auroc([0, 1], [2, 3]) == 0.0
    assert auroc([1, 1], [1, 1]) == 0.5


def test_stray_stroke_augmentation(cat_sketches):
    from visketch_core.data.augment import RECOGNITION, AugmentConfig, augment

    sk = cat_sketches[0]
    rng = np.random.default_rng(1)
    cfg = replace(AugmentConfig(), stray_prob=1.0, partial_prob=0.0, stroke_dropout=0.0)
    out = augment(sk, rng, cfg)
    assert len(out.strokes) == len(sk.strokes) + 1 and len(out.strokes[-1]) == 4
    assert RECOGNITION.partial_prob > AugmentConfig().partial_prob
    assert AugmentConfig().stray_prob == 0.0               # other models train as before


def test_training_with_outliers_calibrates_the_verdict(tmp_path, quickdraw_dir, outlier_dir):
    """A tiny run end to end: outliers join training, the checkpoint gets an unknown score
    and threshold, the recognizer and the CLI's JSON say "known" or not."""
    from visketch_core.inference import Recognizer
    from visketch_core.sketch.quickdraw import iter_ndjson
    from visketch_core.train.classifier import train_classifier
    from visketch_core.train.loop import TrainConfig

    logs = []
    best = train_classifier(quickdraw_dir, tmp_path / "run", model_cfg=HYBRID,
                            train_cfg=TrainConfig(epochs=1, batch_size=8, max_steps=3,
                                                  workers=0, warmup_steps=1),
                            limit_per_class=4, outliers=outlier_dir, log=logs.append)
    assert any("outlier exposure: 6 drawings" in m for m in logs)
    cal = best["unknown"]
    assert cal["score"] in ("msp", "max_logit", "energy", "prototype")
    assert cal["tune_drawings"] == 6 and cal["tune_classes"] == 2
    rec = Recognizer.load(tmp_path / "run" / "classifier.pt", device="cpu")
    assert rec.knows_unknown
    sk = next(iter(iter_ndjson(quickdraw_dir / "cat.ndjson")))
    pred = rec.classify(sk)
    assert pred.verdict in ("sure", "unsure", "unknown")
    assert pred.known == (pred.unknown_score >= rec.gate.threshold)
    assert (pred.known_label is None) == (not pred.known)
    # force each side of the threshold: the verdict follows
    rec.gate.threshold = float("inf")
    p = rec.classify(sk)
    assert p.verdict == "unknown" and not p.confident and p.known_label is None
    rec.gate.threshold = float("-inf")
    assert rec.classify(sk).known


def test_cli_json_says_unknown(tmp_path, quickdraw_dir, capsys):
    """`classify --jsonl`: label null, known false, the closest class kept apart."""
    from visketch_core.cli import main
    from visketch_core.models.checkpoint import read_checkpoint, save_checkpoint

    torch.manual_seed(0)
    model = QuadtreeClassifier(HYBRID)
    path = tmp_path / "clf.pt"
    save_checkpoint(path, kind="classifier", config=HYBRID, model=model,
                    classes=["cat", "eye", "map"],
                    metrics={"confidence_threshold": 0.9,
                             "unknown": {"score": "msp", "threshold": 2.0}})
    assert read_checkpoint(path)["metrics"]["unknown"]["threshold"] == 2.0
    two = tmp_path / "eye.ndjson"
    two.write_text("\n".join((quickdraw_dir / "eye.ndjson").read_text().splitlines()[:2]))
    rc = main(["classify", "--model", str(path), "--jsonl", str(two)])
    out = capsys.readouterr().out.strip().splitlines()
    assert rc == 0 and out
    rec = json.loads(out[0])
    assert rec["label"] is None and rec["known"] is False and rec["verdict"] == "unknown"
    assert rec["closest"] in ("cat", "eye", "map")


def test_gap_head_explains_with_its_cells(items):
    """The plain-CNN head's leaf outputs come from the cells under each leaf: real leaf
    weights (a distribution, not uniform) and votes that differ between leaves."""
    torch.manual_seed(0)
    model = QuadtreeClassifier(GAP).eval()
    batch = collate(items[:2])
    with torch.no_grad():
        model.gap_head[1].weight.mul_(300.0)      # an untrained head is near zero everywhere
        out = model(batch)
    w, m = out["leaf_weights"], batch["mask"]
    assert torch.allclose(w.sum(1), torch.ones(2), atol=1e-5) and torch.all(w[~m] == 0)
    assert w[0][m[0]].std() > 1e-4
    votes = out["leaf_probs"][0][m[0]]
    assert (votes - votes[0]).abs().max() > 1e-4

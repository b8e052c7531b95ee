"""The wide judge: our classes plus every other class of a second folder, read with the
training prior divided out, and its place in the generation report."""

from __future__ import annotations

import json

import numpy as np
import pytest

from visketch_core.errors import ModelError, SketchError
from visketch_core.models.cnn import CNNConfig, render_small
from visketch_core.train.judge import train_judge, wide_corpus, wide_verdicts
from visketch_core.train.loop import TrainConfig

TINY = TrainConfig(epochs=1, batch_size=16, workers=0, max_steps=2)


@pytest.fixture(scope="module")
def wide_dir(tmp_path_factory, quickdraw_dir):
    """A second folder: one class we have (cat: must be ignored) and two we do not, their
    sketches made from ours under new names and key ids."""
    d = tmp_path_factory.mktemp("wide")
    (d / "cat.ndjson").write_text((quickdraw_dir / "cat.ndjson").read_text().splitlines()[0]
                                  + "\n")
    for name, src in (("house", "eye"), ("ladder", "map")):
        rows = []
        for k, line in enumerate((quickdraw_dir / f"{src}.ndjson").read_text().splitlines()[:40]):
            row = json.loads(line)
            row.update(word=name, key_id=f"{name}{k:04d}")
            rows.append(json.dumps(row))
        (d / f"{name}.ndjson").write_text("\n".join(rows) + "\n")
    return d


def test_the_wide_corpus_adds_only_classes_we_do_not_have(quickdraw_dir, wide_dir):
    corpus, own = wide_corpus(quickdraw_dir, wide_dir, "all", limit_per_class=6)
    assert own == 15 and corpus.classes[15:] == ["house", "ladder"]
    assert "cat" not in corpus.classes[15:]
    labels = np.asarray(corpus.labels)
    assert labels.max() == 16 and (labels >= 15).sum() == 12
    assert all(corpus.sketches[i].label == corpus.classes[y] for i, y in enumerate(labels))
    keys = [s.key_id for s in corpus.sketches]
    assert len(keys) == len(set(keys))


def test_a_second_folder_with_nothing_new_is_one_error(quickdraw_dir, tmp_path):
    (tmp_path / "cat.ndjson").write_text((quickdraw_dir / "cat.ndjson").read_text())
    with pytest.raises(SketchError, match="no classes besides"):
        wide_corpus(quickdraw_dir, tmp_path, "all")


def test_the_prior_is_divided_out():
    probs = np.array([[0.5, 0.3, 0.2], [0.9, 0.05, 0.05]])
    assert wide_verdicts(probs, [1, 1, 1]).tolist() == [0, 0]
    # class 0 was seen 4 times as often: 0.5 / 4 < 0.3, so the first row goes to class 1
    assert wide_verdicts(probs, [4, 1, 1]).tolist() == [1, 0]


def test_train_and_judge_generated_sketches(tmp_path, quickdraw_dir, wide_dir, cat_sketches):
    from visketch_core.eval.generation import WideJudge
    from visketch_core.train.judge import load_judge

    out = tmp_path / "judge-wide.pt"
    _, metrics = train_judge(quickdraw_dir, out, cfg=CNNConfig(width=8), limit_per_class=8,
                             train_cfg=TINY, wide_dir=wide_dir, log=lambda *_: None)
    assert metrics["wide"] and metrics["own_classes"] == 15
    assert len(metrics["train_counts"]) == 17
    assert 0.0 <= metrics["val_top1_own_classes_prior_free"] <= 1.0
    classes = load_judge(out)[1]
    wide = WideJudge(out, classes[:15])
    imgs = np.stack([render_small(s) for s in cat_sketches[:3]])
    cat = classes.index("cat")
    hits = wide.hits(imgs, np.full(3, cat))
    assert hits.shape == (3,) and hits.dtype == bool
    report = wide.summary(hits, np.full(3, cat), classes[:15])
    assert report["classes"] == 17 and set(report["per_class"]) == {"cat"}
    with pytest.raises(ModelError, match="lacks 'zebra'"):
        WideJudge(out, ["zebra"])


def test_a_plain_judge_is_not_a_wide_one(tmp_path, quickdraw_dir):
    from visketch_core.eval.generation import WideJudge

    plain = tmp_path / "judge.pt"
    _, metrics = train_judge(quickdraw_dir, plain, cfg=CNNConfig(width=8), limit_per_class=8,
                             train_cfg=TINY, log=lambda *_: None)
    assert "train_counts" not in metrics
    with pytest.raises(ModelError, match="not a wide judge"):
        WideJudge(plain, ["cat"])


def test_without_balance_the_prior_is_every_training_sketch():
    from visketch_core.train.judge import epoch_counts

    counts = [300, 320, 20, 18, 21]
    assert epoch_counts(counts, balance=True) == [21, 21, 20, 18, 21]
    assert epoch_counts(counts, balance=False) == counts
    assert epoch_counts([0, 5, 9], balance=True) == [0, 5, 7]

"""Distillation from a CNN teacher: loss, frozen teacher, renders of the same view, CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from visketch_core.cli import main
from visketch_core.data.augment import AugmentConfig
from visketch_core.data.dataset import SketchDataset, collate
from visketch_core.errors import ModelError
from visketch_core.models.checkpoint import load_classifier, read_checkpoint, save_checkpoint
from visketch_core.models.classifier import ClassifierConfig, QuadtreeClassifier
from visketch_core.models.cnn import CNNConfig, SketchCNN, render_small
from visketch_core.models.context_encoder import ContextEncoderConfig
from visketch_core.train.distill import DistillConfig, Distilled, load_teacher

TINY = ClassifierConfig(num_classes=3, encoder=ContextEncoderConfig(dim=32, layers=1, heads=2,
                                                                    stem_width=8),
                        leaf_layers=1, leaf_heads=2)
CLASSES = ["a", "b", "c"]


@pytest.fixture(scope="module")
def teacher_file(tmp_path_factory) -> Path:
    torch.manual_seed(1)
    cnn = SketchCNN(CNNConfig(num_classes=3, width=8))
    path = tmp_path_factory.mktemp("teacher") / "judge.pt"
    save_checkpoint(path, kind="judge", config=cnn.cfg, model=cnn, classes=CLASSES)
    return path


@pytest.fixture(scope="module")
def dataset(cat_sketches):
    sks = cat_sketches[:6]
    return SketchDataset(sks, [i % 3 for i in range(len(sks))], augment=AugmentConfig(),
                         seed=3, render_size=64)


def test_render_shows_the_same_augmented_view(dataset):
    dataset.set_epoch(2)
    ctx, label, ink = dataset[1]
    sk, geo = dataset.view(1)
    assert ink.shape == (64, 64) and ink.max() > 0.5
    np.testing.assert_array_equal(ink, render_small(sk, 64, geo.line_width))
    dataset.set_epoch(3)  # another epoch draws another augmentation
    assert not np.array_equal(dataset[1][2], ink)
    batch = collate([dataset[i] for i in range(4)])
    assert batch["ink"].shape == (4, 1, 64, 64) and batch["ink"].dtype == torch.float32


def test_no_teacher_no_render(cat_sketches):
    ds = SketchDataset(cat_sketches[:2], [0, 1])
    assert len(ds[0]) == 2 and "ink" not in collate([ds[0], ds[1]])


def test_loss_mixes_label_and_teacher(dataset, teacher_file):
    torch.manual_seed(0)
    student = QuadtreeClassifier(TINY)
    teacher = load_teacher(DistillConfig(str(teacher_file)), CLASSES)
    batch = collate([dataset[i] for i in range(6)])
    y = batch["label"]
    plain = student(batch, y)["loss"]
    net = Distilled(student, teacher, DistillConfig(str(teacher_file), alpha=0.0)).train()
    assert torch.allclose(net(batch, y)["loss"], plain, atol=1e-6)
    net = Distilled(student, teacher, DistillConfig(str(teacher_file), alpha=1.0,
                                                    temperature=2.0)).train()
    out = net(batch, y)
    votes = plain - torch.nn.functional.cross_entropy(student(batch)["logits"], y,
                                                      label_smoothing=TINY.label_smoothing)
    assert torch.allclose(out["loss"], out["distill_loss"] + votes, atol=1e-5)
    assert out["distill_loss"] > 0
    # eval mode and no targets: the student alone
    net.eval()
    assert "distill_loss" not in net(batch, y)


def test_teacher_stays_frozen_and_out_of_the_weights(dataset, teacher_file):
    torch.manual_seed(0)
    student = QuadtreeClassifier(TINY)
    teacher = load_teacher(DistillConfig(str(teacher_file)), CLASSES)
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    net = Distilled(student, teacher, DistillConfig(str(teacher_file)))
    assert all(k.startswith("student.") for k in net.state_dict())
    assert sum(p.numel() for p in net.parameters()) == sum(p.numel() for p in student.parameters())
    opt = torch.optim.AdamW(net.parameters(), lr=1e-2)
    net.train()
    assert not teacher.training  # train() on the wrapper leaves the teacher's BatchNorm alone
    for _ in range(3):
        batch = collate([dataset[i] for i in range(6)])
        loss = net(batch, batch["label"])["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
    for k, v in teacher.state_dict().items():
        assert torch.equal(v, before[k]), k


def test_teacher_with_other_classes_is_refused(teacher_file):
    with pytest.raises(ModelError, match="classes differ"):
        load_teacher(DistillConfig(str(teacher_file)), ["a", "c", "b"])


def test_cli_trains_with_a_teacher(tmp_path, quickdraw_dir, capsys):
    import json

    from visketch_core.train.judge import train_judge
    from visketch_core.train.loop import TrainConfig

    teacher = tmp_path / "judge.pt"
    train_judge(quickdraw_dir, teacher, cfg=CNNConfig(width=8), limit_per_class=8,
                train_cfg=TrainConfig(epochs=1, batch_size=16, workers=0, max_steps=2),
                log=lambda *_: None)
    out = tmp_path / "run"
    rc = main(["train", "classifier", "--data", str(quickdraw_dir), "--out", str(out),
               "--limit-per-class", "8", "--workers", "0", "--max-steps", "2", "--dim", "32",
               "--layers", "1", "--heads", "2", "--stem-width", "8",
               "--teacher", str(teacher), "--distill-alpha", "0.7"])
    assert rc == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert 0.0 <= result["balanced_top1"] <= 1.0
    blob = read_checkpoint(out / "classifier.pt", kind="classifier")
    assert blob["distill"]["alpha"] == 0.7 and blob["distill"]["teacher"] == str(teacher)
    model, classes = load_classifier(out / "classifier.pt", torch.device("cpu"))[:2]
    assert len(classes) == 15 and not any(k.startswith("student.") for k in blob["weights"])


def test_cli_missing_teacher_is_one_line(tmp_path, quickdraw_dir, capsys):
    rc = main(["train", "classifier", "--data", str(quickdraw_dir), "--out", str(tmp_path),
               "--limit-per-class", "4", "--workers", "0", "--max-steps", "1",
               "--teacher", str(tmp_path / "nope.pt")])
    assert rc != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not found" in err[0]

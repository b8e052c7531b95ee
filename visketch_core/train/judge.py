"""The generation judge: a plain CNN trained on real train-split sketches only.

It is never the ViSketch classifier, so generated sketches are not graded by a model that
shares the generator's inductive biases. Checkpoint kind "judge".

The wide judge is the same CNN over many more classes (our classes from the main data, every
other class of a second folder such as ``simplified-344x25``): a sketch must then look more
like its class than like any of a few hundred others, as it must for a judge trained on the
whole Quick, Draw! set. The other classes have few sketches each, so its verdicts are read
with the class prior divided out (``wide_verdicts``: every class equally likely a priori).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from visketch_core.data.corpus import Corpus, class_files, load_corpus
from visketch_core.errors import ModelError, SketchError
from visketch_core.models.checkpoint import load_weights, read_checkpoint, save_checkpoint
from visketch_core.models.cnn import CNNConfig, SketchCNN, render_small
from visketch_core.train.cnn import predict_cnn, train_cnn
from visketch_core.train.loop import TrainConfig


def load_judge(path: str | Path) -> tuple[SketchCNN, list[str]]:
    blob = read_checkpoint(path, kind="judge")
    try:
        cfg = CNNConfig(**blob["config"])
    except TypeError as exc:
        raise ModelError(f"{path}: config does not fit this version ({exc})") from None
    return load_weights(SketchCNN(cfg), blob, path).eval(), list(blob["classes"])


def wide_corpus(data_dir: str | Path, wide_dir: str | Path, split: str,
                limit_per_class: int | None = None) -> tuple[Corpus, int]:
    """``split`` of our classes (from ``data_dir``) followed by every class of ``wide_dir``
    that is not one of ours; returns (corpus, number of our classes). Our classes are read
    from ``data_dir`` only, so a drawing in both folders is never in two splits."""
    ours = load_corpus(data_dir, split, limit_per_class=limit_per_class)
    others = [c for c in class_files(wide_dir) if c not in ours.classes]
    if not others:
        raise SketchError("no classes besides the main data's", path=wide_dir)
    ext = load_corpus(wide_dir, split, classes=others, limit_per_class=limit_per_class)
    k = len(ours.classes)
    return Corpus(ours.sketches + ext.sketches, ours.labels + [y + k for y in ext.labels],
                  ours.classes + others), k


def wide_verdicts(probs: np.ndarray, train_counts) -> np.ndarray:
    """The wide judge's class for each row of ``probs`` (N, C), the training prior divided
    out (so a class with many training sketches is not favoured). ``train_counts``: how
    often each class is seen in an epoch (the checkpoint's metrics keep them)."""
    prior = np.asarray(train_counts, np.float64)
    prior = np.clip(prior, 1, None) / max(prior.sum(), 1)
    return (np.log(np.clip(probs, 1e-12, None)) - np.log(prior)[None]).argmax(1)


def epoch_counts(class_counts, balance: bool) -> list[int]:
    """How many sketches of each class an epoch sees: all of them, or with ``balance`` at
    most the median class size (``TrainConfig.balance``); the wide judge's prior."""
    counts = np.asarray(class_counts, np.int64)
    if balance and (counts > 0).any():
        counts = np.minimum(counts, int(np.median(counts[counts > 0])))
    return counts.tolist()


def train_judge(data_dir: str | Path, out: str | Path | None, *, cfg: CNNConfig | None = None,
                train_cfg: TrainConfig | None = None, limit_per_class: int | None = None,
                wide_dir: str | Path | None = None, device: torch.device | None = None,
                log=print) -> tuple[SketchCNN, dict]:
    """Train on train, keep the best epoch on val, report val top-1 (test is for eval).
    ``wide_dir``: the wide judge (see the module's notes); its metrics also give the
    prior-free top-1 on our classes' validation sketches among all classes. ``device``:
    where to train (default the CPU); the returned model is on the CPU."""
    if wide_dir is None:
        train = load_corpus(data_dir, "train", limit_per_class=limit_per_class)
        val = load_corpus(data_dir, "val", classes=train.classes,
                          limit_per_class=limit_per_class)
        own = len(train.classes)
    else:
        train, own = wide_corpus(data_dir, wide_dir, "train", limit_per_class)
        val, _ = wide_corpus(data_dir, wide_dir, "val", limit_per_class)
        if val.classes != train.classes:
            raise SketchError("the validation split lacks some classes", path=wide_dir)
    tc = train_cfg or TrainConfig(epochs=10, batch_size=64, lr=2e-3, warmup_steps=100, workers=1)
    model = train_cnn(train, val, cfg=cfg, train_cfg=tc, device=device)
    imgs = np.stack([render_small(s, model.cfg.size) for s in val.sketches])
    probs, _ = predict_cnn(model, imgs, device)
    model = model.cpu()
    labels = np.asarray(val.labels)
    metrics = {"val_top1": float((probs.argmax(1) == labels).mean()), "val_n": len(val)}
    if wide_dir is not None:
        counts = epoch_counts(train.class_counts(), tc.balance)
        mine = labels < own
        metrics.update({
            "wide": True, "own_classes": own, "train_counts": counts,   # per epoch
            "val_top1_own_classes_prior_free":
                float((wide_verdicts(probs[mine], counts) == labels[mine]).mean()),
            "val_top1_prior_free": float((wide_verdicts(probs, counts) == labels).mean())})
    log(json.dumps({"judge": metrics}))
    if out is not None:
        save_checkpoint(out, kind="judge", config=model.cfg, model=model, classes=train.classes,
                        metrics=metrics, half=True)
    return model, metrics


def judge_images(model: SketchCNN, inks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, 256, 256) or (N, 64, 64) float ink -> (probs (N, C), features (N, F))."""
    import cv2

    s = model.cfg.size
    small = np.stack([i if i.shape[0] == s else cv2.resize(i.astype(np.float32), (s, s),
                                                           interpolation=cv2.INTER_AREA)
                      for i in inks])
    with torch.inference_mode():
        return predict_cnn(model, small)

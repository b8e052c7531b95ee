"""The generation judge: a plain CNN trained on real train-split sketches only.

It is never the ViSketch classifier, so generated sketches are not graded by a model that
shares the generator's inductive biases. Checkpoint kind "judge".
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from visketch_core.data.corpus import load_corpus
from visketch_core.errors import ModelError
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


def train_judge(data_dir: str | Path, out: str | Path | None, *, cfg: CNNConfig | None = None,
                train_cfg: TrainConfig | None = None, limit_per_class: int | None = None,
                log=print) -> tuple[SketchCNN, dict]:
    """Train on train, keep the best epoch on val, report val top-1 (test is for eval)."""
    train = load_corpus(data_dir, "train", limit_per_class=limit_per_class)
    val = load_corpus(data_dir, "val", classes=train.classes, limit_per_class=limit_per_class)
    tc = train_cfg or TrainConfig(epochs=10, batch_size=64, lr=2e-3, warmup_steps=100, workers=1)
    model = train_cnn(train, val, cfg=cfg, train_cfg=tc)
    imgs = np.stack([render_small(s, model.cfg.size) for s in val.sketches])
    probs, _ = predict_cnn(model, imgs)
    metrics = {"val_top1": float((probs.argmax(1) == np.asarray(val.labels)).mean()),
               "val_n": len(val)}
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

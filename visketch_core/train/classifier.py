"""`visketch train classifier`: the quadtree-context classifier on a folder of ndjson files."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch

from visketch_core.data.augment import AugmentConfig
from visketch_core.data.corpus import load_corpus
from visketch_core.data.dataset import SketchDataset, collate
from visketch_core.eval.metrics import classification_report, pick_threshold
from visketch_core.geometry import GeometryConfig
from visketch_core.models.checkpoint import read_checkpoint, save_checkpoint
from visketch_core.models.classifier import ClassifierConfig, QuadtreeClassifier
from visketch_core.models.device import pick_device
from visketch_core.train.loop import (
    TrainConfig,
    Trainer,
    close_distributed,
    init_distributed,
    replica_spread,
)


@torch.inference_mode()
def predict(model: torch.nn.Module, dataset, device: torch.device, batch_size: int = 64) -> np.ndarray:
    """(N, C) class probabilities for every item of ``dataset``, in order."""
    model.eval()
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, collate_fn=collate)
    out = []
    for batch in loader:
        batch = {k: v.to(device) for k, v in batch.items()}
        out.append(model(batch)["probs"].float().cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, 0), np.float32)


def train_classifier(data_dir: str | Path, out_dir: str | Path, *,
                     model_cfg: ClassifierConfig | None = None,
                     train_cfg: TrainConfig | None = None,
                     geometry: GeometryConfig | None = None,
                     binary: bool = False, resume: bool = False,
                     limit_per_class: int | None = None, device: str = "auto",
                     cache_dir: str | Path | None = None, cache_views: int = 4,
                     distill=None, outliers: str | Path | None = None,
                     outlier_buckets: int = 3, augment_cfg: AugmentConfig | None = None,
                     log=print) -> dict:
    """Train, keep the best epoch on validation, write ``out_dir/classifier.pt`` and
    ``out_dir/metrics.json``. Returns the validation metrics of the best epoch.

    With ``cache_dir``, training reads ``cache_views`` cached views (the clean sketches and
    fixed augmentations, cycled by epoch) instead of augmenting afresh every epoch.
    With ``distill`` (a ``DistillConfig``), a frozen CNN teacher's soft labels join the loss.
    With ``outliers`` (a folder of other classes' ndjson files), the drawings of its
    "train" class group (``data/outliers.py``) join training with target -1 (pushed toward
    a uniform guess); each epoch samples as many of them as ``outlier_buckets`` classes.
    After training, the unknown verdict is calibrated (``eval/unknown.py``) on validation
    sketches against the "tune" group and stored in the checkpoint.
    """
    out_dir = Path(out_dir)
    dev = pick_device(device)
    info = init_distributed(dev)
    if dev.type == "cuda" and info.world > 1:
        dev = torch.device("cuda", info.local_rank)
        torch.cuda.set_device(dev)
    train_cfg = train_cfg or TrainConfig()
    geometry = geometry or GeometryConfig()
    torch.manual_seed(train_cfg.seed)
    train = load_corpus(data_dir, "train", limit_per_class=limit_per_class)
    val = load_corpus(data_dir, "val", classes=train.classes, limit_per_class=limit_per_class)
    model_cfg = replace(model_cfg or ClassifierConfig(), num_classes=len(train.classes))
    model = QuadtreeClassifier(model_cfg)
    train_cache = val_cache = None
    if cache_dir is not None:
        from visketch_core.data.cache import ContextCache

        train_cache = ContextCache.open_or_build(cache_dir, train.sketches, geometry,
                                                 AugmentConfig(), views=cache_views,
                                                 seed=train_cfg.seed, log=log)
        val_cache = ContextCache.open_or_build(cache_dir, val.sketches, geometry, log=log)
    net: torch.nn.Module = model
    render_size = None
    if distill is not None:
        from visketch_core.train.distill import Distilled, load_teacher

        teacher = load_teacher(distill, train.classes)
        net = Distilled(model, teacher, distill)
        render_size = teacher.cfg.size
    train_sketches, train_labels = list(train.sketches), list(train.labels)
    labels = np.asarray(train.labels)
    if outliers is not None:
        if train_cache is not None or distill is not None:
            raise ValueError("outlier training needs live preprocessing and no teacher")
        from visketch_core.data.outliers import load_outliers

        keys = {s.key_id for s in train.sketches + val.sketches if s.key_id}
        extra_sk = load_outliers(outliers, "train", train.classes, keys).sketches
        train_sketches += extra_sk
        train_labels += [-1] * len(extra_sk)
        # the epoch sampler balances by label: outliers count as a few extra "classes"
        C = len(train.classes)
        labels = np.concatenate([labels, C + np.arange(len(extra_sk)) % outlier_buckets])
        log(f"outlier exposure: {len(extra_sk)} drawings of other classes")
    ds = SketchDataset(train_sketches, train_labels, geometry,
                       augment=augment_cfg or AugmentConfig(),
                       seed=train_cfg.seed, binary=binary, cache=train_cache,
                       render_size=render_size)
    val_ds = SketchDataset(val.sketches, val.labels, geometry, binary=binary, cache=val_cache)
    best = {"balanced_top1": -1.0}
    history: list[dict] = []

    def on_event(event: str, tr: Trainer, **kw) -> None:
        nonlocal best
        if event != "epoch_end" or not info.main:
            return
        probs = predict(model, val_ds, dev)
        rep = classification_report(probs, np.asarray(val.labels), train.classes)
        rep.pop("per_class_top1")
        row = {"epoch": tr.epoch, "step": tr.step, **kw, **{f"val_{k}": v for k, v in rep.items()}}
        history.append(row)
        log(json.dumps(row))
        extra = {"geometry": asdict(geometry), "train": asdict(train_cfg),
                 "binary": binary, "trainer": tr.state(), "history": history}
        if distill is not None:
            extra["distill"] = asdict(distill)
        save_checkpoint(out_dir / "last.pt", kind="classifier", config=model_cfg,
                        model=model, classes=train.classes, metrics=rep, extra=extra)
        if rep["balanced_top1"] > best["balanced_top1"]:
            best = {**rep, "epoch": tr.epoch}
            thr = pick_threshold(probs, np.asarray(val.labels))
            best["confidence_threshold"] = thr
            extra.pop("trainer")
            save_checkpoint(out_dir / "classifier.pt", kind="classifier", config=model_cfg,
                            model=model, classes=train.classes, metrics=best, extra=extra,
                            half=True)

    trainer = Trainer(net, ds, collate, train_cfg, dev, labels, [on_event], info)
    if resume and (out_dir / "last.pt").exists():
        blob = read_checkpoint(out_dir / "last.pt", kind="classifier")
        model.load_state_dict(blob["weights"])
        trainer.load_state(blob["trainer"])
        history[:] = blob.get("history", [])
        best = dict(read_checkpoint(out_dir / "classifier.pt")["metrics"])
        log(f"resumed at epoch {trainer.epoch}, step {trainer.step}")
    if info.main:
        n_params = sum(p.numel() for p in model.parameters())
        log(f"train {len(train)} sketches, val {len(val)}, {len(train.classes)} classes, "
            f"{n_params} parameters, device {dev}, world {info.world}")
    t0 = time.perf_counter()
    trainer.fit()
    if info.world > 1:
        spread = replica_spread(model)
        log(f"rank {info.rank}/{info.world}: replica spread {spread:.3g}")
        best["replica_spread"] = spread
    if info.main:
        best["train_seconds"] = time.perf_counter() - t0
        if outliers is not None and (out_dir / "classifier.pt").exists():
            from visketch_core.eval.unknown import calibrate_checkpoint

            best["unknown"] = calibrate_checkpoint(out_dir / "classifier.pt", data_dir,
                                                   outliers, device=dev, log=log)
        (out_dir / "metrics.json").write_text(json.dumps(
            {"best_val": best, "history": history}, indent=2))
    trainer.release()
    close_distributed(info)
    return best

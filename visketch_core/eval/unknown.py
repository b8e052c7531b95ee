"""The "none of these" verdict: scores that separate drawings of the known classes from
drawings of other classes, and their calibration.

Every score is "higher = more like a known class":

    msp        the top class probability
    max_logit  the largest logit
    energy     log-sum-exp of the logits (the negative free energy)
    prototype  cosine similarity of the pooled embedding to the nearest class prototype
               (the mean pooled embedding of that class's clean training sketches)

Calibration (after training, on data the model never trained on): first a temperature
for the logits (lowest validation NLL), so the probabilities people see mean what they
say; then the threshold of each
score is the one that keeps ``keep`` (95 %) of the whole validation sketches known; the
score chosen is the one that then calls fewest drawings of the "tune" outlier classes
known. The "sure" threshold (top probability) is then the lowest at which known guesses on
validation are >= 97 % right and <= 1.5 % of the tune classes' drawings are called sure; it
replaces the precision-only threshold (kept as ``metrics.precision_threshold``). The drawings
of the "test" outlier classes are only ever measured (benchmark).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

SCORES = ("msp", "max_logit", "energy", "prototype")


@torch.inference_mode()
def model_outputs(model, dataset, device, batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """(logits (N, C), pooled (N, d)) for every item of ``dataset``, in order."""
    from visketch_core.data.dataset import collate

    model.eval()
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, collate_fn=collate)
    logits, pooled = [], []
    for batch in loader:
        batch = {k: v.to(device) for k, v in batch.items()}
        out = model(batch)
        logits.append(out["logits"].float().cpu().numpy())
        pooled.append(out["pooled"].float().cpu().numpy())
    if not logits:
        return np.zeros((0, 0), np.float32), np.zeros((0, 0), np.float32)
    return np.concatenate(logits), np.concatenate(pooled)


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-8)


def scores(logits: np.ndarray, pooled: np.ndarray | None = None,
           prototypes: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """{score name: (N,) float} for a batch of logits (and pooled embeddings)."""
    z = logits.astype(np.float64)
    m = z.max(-1)
    lse = m + np.log(np.exp(z - m[:, None]).sum(-1))
    out = {"msp": np.exp(m - lse), "max_logit": m, "energy": lse}
    if pooled is not None and prototypes is not None and len(pooled):
        out["prototype"] = (_unit(pooled.astype(np.float64)) @ _unit(prototypes).T).max(-1)
    return out


def class_prototypes(pooled: np.ndarray, labels: np.ndarray, num_classes: int) -> np.ndarray:
    """(C, d) mean pooled embedding per class (of unit-normalised embeddings)."""
    u = _unit(pooled.astype(np.float64))
    return np.stack([u[labels == c].mean(0) if (labels == c).any() else np.zeros(u.shape[1])
                     for c in range(num_classes)]).astype(np.float32)


def pick_unknown(known: dict[str, np.ndarray], other: dict[str, np.ndarray],
                 keep: float = 0.95) -> dict:
    """Threshold per score keeping ``keep`` of ``known``; the score with the fewest
    ``other`` drawings above its threshold wins. Returns the choice and the table."""
    table = {}
    for name in known:
        if name not in other:
            continue
        thr = float(np.quantile(known[name], 1.0 - keep))
        table[name] = {"threshold": thr,
                       "known_kept": float((known[name] >= thr).mean()),
                       "other_called_known": float((other[name] >= thr).mean())}
    best = min(table, key=lambda n: (table[n]["other_called_known"], SCORES.index(n)))
    return {"score": best, "threshold": table[best]["threshold"], "keep": keep, "table": table}


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature (0.2 .. 5, log grid) with the lowest NLL of ``labels``."""
    z = torch.from_numpy(np.asarray(logits, np.float64))
    y = torch.from_numpy(np.asarray(labels, np.int64))
    grid = np.exp(np.linspace(np.log(0.2), np.log(5.0), 161))
    nll = [float(torch.nn.functional.cross_entropy(z / t, y)) for t in grid]
    return float(round(grid[int(np.argmin(nll))], 4))


def _atomic_save(blob: dict, path: Path) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(blob, tmp)
    os.replace(tmp, path)


def sure_threshold(v_top: np.ndarray, v_right: np.ndarray, v_known: np.ndarray,
                   o_top: np.ndarray, o_known: np.ndarray, *, precision: float,
                   other_sure: float) -> float:
    """The lowest top probability at which known validation guesses are >= ``precision``
    right and at most ``other_sure`` of the other classes' drawings are called sure (known
    and at least that probable). Steps of 0.005, then 0.0005 above 0.99, where sharpened
    probabilities crowd; the top of the grid when nothing qualifies."""
    grid = np.unique(np.round(np.concatenate([np.arange(0.30, 0.99, 0.005),
                                              np.arange(0.99, 0.9996, 0.0005)]), 4))
    for t in grid:
        sure = v_known & (v_top >= t)
        if sure.any() and v_right[sure].mean() >= precision and \
                (o_known & (o_top >= t)).mean() <= other_sure:
            return float(t)
    return float(grid[-1])


def calibrate_checkpoint(path: str | Path, data_dir: str | Path, outlier_dir: str | Path, *,
                         device=None, keep: float = 0.95, prototypes_per_class: int = 150,
                         precision: float = 0.97, other_sure: float = 0.015,
                         log=print) -> dict:
    """Choose the unknown score and threshold of a classifier checkpoint and store them
    (``metrics.unknown``, ``prototypes``) in it. Returns the calibration."""
    from visketch_core.data.corpus import load_corpus
    from visketch_core.data.dataset import SketchDataset
    from visketch_core.data.outliers import load_outliers
    from visketch_core.models.checkpoint import load_classifier, read_checkpoint

    path = Path(path)
    device = device or torch.device("cpu")
    model, classes, geometry, blob, _ = load_classifier(path, device)
    binary = bool(blob.get("binary", False))

    def outputs(sketches):
        ds = SketchDataset(sketches, [0] * len(sketches), geometry, binary=binary)
        return model_outputs(model, ds, device)

    train = load_corpus(data_dir, "train", classes=classes,
                        limit_per_class=prototypes_per_class)
    val = load_corpus(data_dir, "val", classes=classes)
    keys = {s.key_id for s in train.sketches + val.sketches if s.key_id}
    tune = load_outliers(outlier_dir, "tune", classes, keys)
    _, tr_pooled = outputs(train.sketches)
    protos = class_prototypes(tr_pooled, np.asarray(train.labels), len(classes))
    v_logits, v_pooled = outputs(val.sketches)
    o_logits, o_pooled = outputs(tune.sketches)
    # temperature first (the lowest validation NLL), then everything on the scaled logits
    t_old = float(model.cfg.temperature)
    t_new = fit_temperature(v_logits * t_old, np.asarray(val.labels))
    v_logits, o_logits = v_logits * t_old / t_new, o_logits * t_old / t_new
    choice = pick_unknown(scores(v_logits, v_pooled, protos),
                          scores(o_logits, o_pooled, protos), keep)
    # the "sure" threshold: the lowest top probability at which, among known drawings, the
    # validation guesses are >= ``precision`` right AND at most ``other_sure`` of the tune
    # classes' drawings are called sure
    o_known = scores(o_logits, o_pooled, protos)[choice["score"]] >= choice["threshold"]
    v_known = scores(v_logits, v_pooled, protos)[choice["score"]] >= choice["threshold"]
    o_top = torch.from_numpy(o_logits).softmax(-1).numpy().max(-1)
    v_probs = torch.from_numpy(v_logits).softmax(-1).numpy()
    v_right = v_probs.argmax(-1) == np.asarray(val.labels)
    thr = sure_threshold(v_probs.max(-1), v_right, v_known, o_top, o_known,
                         precision=precision, other_sure=other_sure)
    sure = v_known & (v_probs.max(-1) >= thr)
    choice.update(confidence_threshold=thr, precision_target=precision,
                  other_sure_target=other_sure,
                  tune_other_called_sure=float((o_known & (o_top >= thr)).mean()),
                  val_sure_share=float(sure.mean()),
                  val_sure_precision=float(v_right[sure].mean()) if sure.any() else float("nan"),
                  tune_classes=len(set(tune.classes)), tune_drawings=len(tune))
    log(f"unknown verdict: {choice['score']} >= {choice['threshold']:.4f} keeps "
        f"{choice['table'][choice['score']]['known_kept']:.3f} of val known, calls "
        f"{choice['table'][choice['score']]['other_called_known']:.3f} of {len(tune)} "
        f"tune-class drawings known; sure above {thr}: {choice['tune_other_called_sure']:.3f} "
        f"of them, {choice['val_sure_share']:.3f} of val at {choice['val_sure_precision']:.3f}")
    choice["temperature"] = t_new
    raw = read_checkpoint(path, kind="classifier")
    raw["config"] = {**raw["config"], "temperature": t_new}
    metrics = dict(raw.get("metrics", {}))
    metrics.setdefault("precision_threshold", metrics.get("confidence_threshold"))
    raw["metrics"] = {**metrics, "unknown": choice, "confidence_threshold": thr}
    raw["prototypes"] = torch.from_numpy(protos)
    _atomic_save(raw, path)
    return choice


class UnknownGate:
    """The stored verdict of a checkpoint: ``known(logits, pooled) -> (bool (N,), score (N,))``.
    A checkpoint without a calibration calls everything known."""

    def __init__(self, blob: dict):
        cal = blob.get("metrics", {}).get("unknown") or {}
        self.score = cal.get("score")
        self.threshold = float(cal.get("threshold", float("-inf")))
        p = blob.get("prototypes")
        self.prototypes = None if p is None else np.asarray(
            p.float().numpy() if torch.is_tensor(p) else p, np.float32)
        if self.score == "prototype" and self.prototypes is None:
            self.score = None

    @property
    def active(self) -> bool:
        return self.score is not None

    def __call__(self, logits: np.ndarray, pooled: np.ndarray | None):
        if not self.active:
            n = len(logits)
            return np.ones(n, bool), np.full(n, np.nan)
        s = scores(logits, pooled, self.prototypes)[self.score]
        return s >= self.threshold, s

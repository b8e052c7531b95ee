"""Classification metrics over (N, C) probabilities and (N,) labels; NumPy only."""

from __future__ import annotations

import numpy as np


def topk_accuracy(probs: np.ndarray, labels: np.ndarray, k: int = 1) -> float:
    top = np.argsort(-probs, axis=1)[:, :k]
    return float(np.mean(np.any(top == labels[:, None], axis=1)))


def balanced_accuracy(probs: np.ndarray, labels: np.ndarray) -> float:
    """Mean over classes of per-class top-1 recall (classes absent from labels are skipped)."""
    pred = probs.argmax(1)
    recalls = [np.mean(pred[labels == c] == c) for c in np.unique(labels)]
    return float(np.mean(recalls))


def per_class_accuracy(probs: np.ndarray, labels: np.ndarray, classes: list[str]) -> dict:
    pred = probs.argmax(1)
    return {name: float(np.mean(pred[labels == c] == c)) for c, name in enumerate(classes)
            if np.any(labels == c)}


def confusion_matrix(probs: np.ndarray, labels: np.ndarray, num_classes: int) -> np.ndarray:
    """int64 (C, C): rows are true classes, columns predictions."""
    cm = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(cm, (labels, probs.argmax(1)), 1)
    return cm


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, bins: int = 15) -> float:
    """ECE of the top-1 confidence, equal-width bins."""
    conf = probs.max(1)
    correct = probs.argmax(1) == labels
    edges = np.linspace(0, 1, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = (conf > lo) & (conf <= hi)
        if sel.any():
            ece += sel.mean() * abs(correct[sel].mean() - conf[sel].mean())
    return float(ece)


def confident_accuracy(probs: np.ndarray, labels: np.ndarray, threshold: float) -> tuple[float, float]:
    """(accuracy of predictions with top prob >= threshold, share of such predictions)."""
    conf = probs.max(1)
    sel = conf >= threshold
    if not sel.any():
        return float("nan"), 0.0
    return float(np.mean(probs[sel].argmax(1) == labels[sel])), float(sel.mean())


def pick_threshold(probs: np.ndarray, labels: np.ndarray, target: float = 0.97) -> float:
    """The lowest top-probability threshold whose confident predictions reach ``target``
    accuracy (tuned on validation data only)."""
    for t in np.arange(0.30, 0.99, 0.01):
        acc, cov = confident_accuracy(probs, labels, float(t))
        if cov > 0 and acc >= target:
            return float(round(t, 2))
    return 0.99


def classification_report(probs: np.ndarray, labels: np.ndarray, classes: list[str],
                          threshold: float | None = None) -> dict:
    out = {
        "n": int(len(labels)),
        "top1": topk_accuracy(probs, labels, 1),
        "top3": topk_accuracy(probs, labels, 3),
        "balanced_top1": balanced_accuracy(probs, labels),
        "ece": expected_calibration_error(probs, labels),
        "per_class_top1": per_class_accuracy(probs, labels, classes),
    }
    if threshold is not None:
        acc, cov = confident_accuracy(probs, labels, threshold)
        out.update(confidence_threshold=threshold, confident_accuracy=acc, confident_share=cov)
    return out

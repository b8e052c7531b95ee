"""The facade the app and the CLI call: sketches in, NumPy out. No Qt here."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from visketch_core.errors import SketchError
from visketch_core.sketch.model import Sketch, normalise_matrix


@dataclass
class Prediction:
    """What the recognizer thinks of one sketch.

    classes: all class names, in model order (C,).
    probs: float32 (C,) class probabilities.
    top: [(label, prob), ...] best first (length top_k).
    leaf_boxes: float32 (L, 4) leaf boxes (x0, y0, x1, y1) in the INPUT sketch's coordinates.
    leaf_levels: int64 (L,) leaf depth (0 = whole canvas, 3 = 32 px cells).
    leaf_weights: float32 (L,) attention-pooling weight of each leaf (sums to 1).
    leaf_votes: float32 (L, C) each leaf's own class distribution.
    confident: a sure guess: known, and top probability >= the model's confidence threshold.
    known: False when the drawing looks like none of the classes (the model's unknown
        score is below its calibrated threshold; see eval/unknown.py). Always True for a
        model without that calibration.
    unknown_score: that score (higher = more like a known class), NaN without calibration.
    ms: wall time of the classification in milliseconds.

    ``verdict`` sums it up: "sure", "unsure" (still ambiguous) or "unknown" (none of these).
    ``label`` is the top class even when unknown (the closest one); ``known_label`` is None
    then.
    """

    classes: list[str]
    probs: np.ndarray
    top: list[tuple[str, float]]
    leaf_boxes: np.ndarray
    leaf_levels: np.ndarray
    leaf_weights: np.ndarray
    leaf_votes: np.ndarray
    confident: bool
    threshold: float
    ms: float
    known: bool = True
    unknown_score: float = float("nan")
    extra: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.top[0][0]

    @property
    def known_label(self) -> str | None:
        return self.label if self.known else None

    @property
    def verdict(self) -> str:
        if not self.known:
            return "unknown"
        return "sure" if self.confident else "unsure"

    def leaf_top(self, i: int, k: int = 3) -> list[tuple[str, float]]:
        """The top-k classes of leaf ``i``'s own vote."""
        order = np.argsort(-self.leaf_votes[i])[:k]
        return [(self.classes[j], float(self.leaf_votes[i, j])) for j in order]


def boxes_to_input(sketch: Sketch, boxes: np.ndarray, size: int, margin: float) -> np.ndarray:
    """Map leaf boxes from the normalised frame back to the sketch's own coordinates."""
    if sketch.num_points == 0 or len(boxes) == 0:
        return boxes.astype(np.float32)
    m = normalise_matrix(sketch, size, margin)
    s, tx, ty = m[0, 0], m[0, 2], m[1, 2]
    out = boxes.astype(np.float64).copy()
    out[:, [0, 2]] = (out[:, [0, 2]] - tx) / s
    out[:, [1, 3]] = (out[:, [1, 3]] - ty) / s
    return out.astype(np.float32)


class Recognizer:
    """A loaded classifier on one device. Thread-affine: use it from one thread.

    >>> rec = Recognizer.load()              # shipped weights, device auto
    >>> pred = rec.classify(sketch)          # raises SketchError for an empty sketch
    """

    def __init__(self, model, classes: list[str], geometry, device, threshold: float,
                 path: Path | None = None, gate=None):
        from visketch_core.eval.unknown import UnknownGate

        self.model = model
        self.gate = gate if gate is not None else UnknownGate({})
        self.classes = list(classes)
        self.geometry = geometry
        self.device = device
        self.threshold = float(threshold)
        self.path = path

    @property
    def device_name(self) -> str:
        return str(self.device.type).upper()

    @classmethod
    def load(cls, path: str | Path | None = None, device: str = "auto",
             threads: int | None = None) -> Recognizer:
        """Load a classifier checkpoint (default: the shipped one). Raises ModelError."""
        from visketch_core.models.checkpoint import load_classifier
        from visketch_core.models.device import pick_device

        dev = pick_device(device)
        if threads:
            import torch

            torch.set_num_threads(threads)
        model, classes, geometry, meta, p = load_classifier(path, dev)
        from visketch_core.eval.unknown import UnknownGate

        threshold = float(meta.get("metrics", {}).get("confidence_threshold", 0.5))
        return cls(model, classes, geometry, dev, threshold, p, UnknownGate(meta))

    @property
    def knows_unknown(self) -> bool:
        """Whether this model can say a drawing is none of its classes."""
        return self.gate.active

    def classify(self, sketch: Sketch, top_k: int = 5) -> Prediction:
        return self.classify_many([sketch], top_k=top_k)[0]

    def classify_many(self, sketches: list[Sketch], top_k: int = 5) -> list[Prediction]:
        """Classify several sketches in one batch. Raises SketchError for an empty one."""
        import torch

        from visketch_core.data.dataset import collate
        from visketch_core.geometry import preprocess

        t0 = time.perf_counter()
        ctxs = []
        for sk in sketches:
            try:
                sk.validate()
            except ValueError as exc:
                raise SketchError(str(exc), path=sk.source) from None
            if sk.is_empty:
                raise SketchError("the sketch is empty", path=sk.source)
            ctxs.append(preprocess(sk, self.geometry))
        batch = collate([(c, -1) for c in ctxs])
        batch = {k: v.to(self.device) for k, v in batch.items() if torch.is_tensor(v)}
        with torch.inference_mode():
            out = self.model(batch)
        probs = out["probs"].float().cpu().numpy()
        weights = out["leaf_weights"].float().cpu().numpy()
        votes = out["leaf_probs"].float().cpu().numpy()
        pooled = out["pooled"].float().cpu().numpy() if "pooled" in out else None
        known, uscore = self.gate(out["logits"].float().cpu().numpy(), pooled)
        ms = (time.perf_counter() - t0) * 1000.0 / max(1, len(sketches))
        preds = []
        for i, (sk, c) in enumerate(zip(sketches, ctxs)):
            n = len(c)
            order = np.argsort(-probs[i])[:top_k]
            top = [(self.classes[j], float(probs[i, j])) for j in order]
            preds.append(Prediction(
                classes=self.classes,
                probs=probs[i],
                top=top,
                leaf_boxes=boxes_to_input(sk, c.boxes, self.geometry.size, self.geometry.margin),
                leaf_levels=c.level,
                leaf_weights=weights[i, :n],
                leaf_votes=votes[i, :n],
                confident=bool(known[i]) and top[0][1] >= self.threshold,
                threshold=self.threshold,
                ms=ms,
                known=bool(known[i]),
                unknown_score=float(uscore[i]),
            ))
        return preds

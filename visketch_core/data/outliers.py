"""Drawings of none of the recognizer's classes, split by CLASS, not by drawing.

The recognizer learns to say "none of these" from drawings of other Quick, Draw! classes
(outlier exposure), and its unknown threshold is tuned on more of them; both must be
measured on kinds of drawing it has never seen. So the other classes are split three ways
by a hash of the class name (fixed, whatever else is in the folder):

    train  (45 %)  outlier drawings shown during training
    tune   (15 %)  used to choose the unknown threshold
    test   (40 %)  only measured

Every drawing of a class lands in the group of its class. Drawings whose key_id is also in
the training data's folder are never used (the folders overlap for the shared classes).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from visketch_core.sketch.model import Sketch

GROUPS = ("train", "tune", "test")


def class_group(name: str) -> str:
    """'train', 'tune' or 'test' for an outlier class name."""
    h = int(hashlib.sha1(f"outlier:{name}".encode()).hexdigest()[:8], 16) % 100
    if h < 45:
        return "train"
    if h < 60:
        return "tune"
    return "test"


@dataclass
class Outliers:
    sketches: list[Sketch]
    classes: list[str]          # the class of each sketch, by name

    def __len__(self) -> int:
        return len(self.sketches)


def load_outliers(folder: str | Path, group: str, exclude_classes: list[str],
                  exclude_keys: set[str] | None = None,
                  limit_per_class: int | None = None) -> Outliers:
    """The drawings of every class in ``folder`` that is in ``group`` and not one of
    ``exclude_classes`` (names compared case- and separator-insensitively)."""
    from visketch_core.data.corpus import class_files
    from visketch_core.sketch.quickdraw import iter_ndjson

    assert group in GROUPS, group

    def norm(s: str) -> str:
        return s.lower().replace("_", " ").strip()

    skip = {norm(c) for c in exclude_classes}
    exclude_keys = exclude_keys or set()
    sketches, names = [], []
    for name, path in sorted(class_files(folder).items()):
        if norm(name) in skip or class_group(norm(name)) != group:
            continue
        n = 0
        for sk in iter_ndjson(path):
            if sk.is_empty or (sk.key_id and sk.key_id in exclude_keys):
                continue
            sk.label = name
            sketches.append(sk)
            names.append(name)
            n += 1
            if limit_per_class and n >= limit_per_class:
                break
    return Outliers(sketches, names)


def default_outlier_dir() -> Path | None:
    """``simplified-344x25`` beside the default training folder, when it is there."""
    from visketch_core.paths import default_data_dir

    p = Path(default_data_dir()).parent / "simplified-344x25"
    return p if p.is_dir() else None

"""A labelled corpus of sketches from a folder of per-class ndjson files, split by key_id."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from visketch_core.data.splits import split_of
from visketch_core.errors import SketchError
from visketch_core.sketch.model import Sketch


@dataclass
class Corpus:
    """Sketches of one split with integer labels into ``classes``."""

    sketches: list[Sketch]
    labels: list[int]
    classes: list[str]

    def __len__(self) -> int:
        return len(self.sketches)

    def class_counts(self) -> list[int]:
        counts = [0] * len(self.classes)
        for y in self.labels:
            counts[y] += 1
        return counts


def class_files(data_dir: str | Path) -> dict[str, Path]:
    """{class name: file} for every ``<class>.ndjson`` in ``data_dir`` (sorted by name)."""
    d = Path(data_dir)
    if not d.is_dir():
        raise SketchError("not a directory of <class>.ndjson files", path=d)
    files = sorted(d.glob("*.ndjson"))
    if not files:
        raise SketchError("no .ndjson files found", path=d)
    return {f.stem: f for f in files}


def load_corpus(data_dir: str | Path, split: str, classes: list[str] | None = None,
                limit_per_class: int | None = None) -> Corpus:
    """All sketches of ``split`` ('train', 'val', 'test' or 'all') from ``data_dir``.

    A key_id seen twice is kept once. ``classes`` fixes the label order (default: file names).
    """
    from visketch_core.sketch.quickdraw import iter_ndjson

    files = class_files(data_dir)
    classes = list(classes) if classes is not None else list(files)
    seen: set[str] = set()
    sketches, labels = [], []
    for y, name in enumerate(classes):
        if name not in files:
            raise SketchError(f"class {name!r} has no file", path=data_dir)
        n = 0
        for sk in iter_ndjson(files[name]):
            key = sk.key_id or f"{name}:{n}"
            if key in seen or sk.is_empty:
                continue
            if split != "all" and split_of(key) != split:
                continue
            seen.add(key)
            sk.label = name
            sketches.append(sk)
            labels.append(y)
            n += 1
            if limit_per_class and n >= limit_per_class:
                break
    return Corpus(sketches, labels, classes)

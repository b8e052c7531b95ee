"""Cached arrays of a corpus for training and evaluating the generation models.

One ``.npz`` per (split, augmented copies): labels, the 256 px ink as packed bits (the
truth the refiner and the tokenizer learn from) and the 32x32 coarse image (what stage 1
learns to draw). Building it renders every sketch once; loading it takes milliseconds.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from visketch_core.data.augment import AugmentConfig, augment
from visketch_core.data.corpus import load_corpus
from visketch_core.generate.canvas import (
    coarse_from_ink,
    crop,
    ink_of,
    pack_ink,
    shat_from_coarse,
    unpack_ink,
)
from visketch_core.geometry import GeometryConfig, sdf_from_ink


@dataclass
class GenArrays:
    """labels int64 (N,); bits uint8 (N, 8192) 256 px ink; coarse float32 (N, 32, 32)."""

    labels: np.ndarray
    bits: np.ndarray
    coarse: np.ndarray
    classes: list[str]

    def __len__(self) -> int:
        return int(len(self.labels))

    def ink(self, i: int) -> np.ndarray:
        return unpack_ink(self.bits[i])


def build_arrays(data_dir: str | Path, split: str, *, copies: int = 0, seed: int = 0,
                 classes: list[str] | None = None, limit_per_class: int | None = None,
                 cfg: GeometryConfig | None = None) -> GenArrays:
    """Render ``split`` (plus ``copies`` augmented versions of each sketch)."""
    cfg = cfg or GeometryConfig()
    corpus = load_corpus(data_dir, split, classes=classes, limit_per_class=limit_per_class)
    aug = AugmentConfig(partial_prob=0.0, stroke_dropout=0.0)
    labels, bits, coarse = [], [], []
    for i, (sk, y) in enumerate(zip(corpus.sketches, corpus.labels)):
        versions = [sk] + [augment(sk, np.random.default_rng((seed, i, c)), aug)
                           for c in range(copies)]
        for v in versions:
            ink = ink_of(v, cfg)
            labels.append(y)
            bits.append(pack_ink(ink))
            coarse.append(coarse_from_ink(ink))
    return GenArrays(np.asarray(labels, np.int64), np.stack(bits),
                     np.stack(coarse).astype(np.float32), list(corpus.classes))


def cached_arrays(data_dir: str | Path, split: str, cache_dir: str | Path, *, copies: int = 0,
                  limit_per_class: int | None = None, log=print) -> GenArrays:
    """``build_arrays`` through an npz cache keyed by the data folder and the options."""
    key = hashlib.sha1(f"{Path(data_dir).resolve()}|{split}|{copies}|{limit_per_class}".encode())
    path = Path(cache_dir) / f"gen-{split}-{copies}-{key.hexdigest()[:10]}.npz"
    if path.exists():
        z = np.load(path)
        return GenArrays(z["labels"], z["bits"], z["coarse"].astype(np.float32) / 255.0,
                         [str(c) for c in z["classes"]])
    log(f"rendering {split} split ({copies} augmented copies) -> {path}")
    arr = build_arrays(data_dir, split, copies=copies, limit_per_class=limit_per_class)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, labels=arr.labels, bits=arr.bits,
             coarse=np.round(arr.coarse * 255).astype(np.uint8), classes=np.asarray(arr.classes))
    arr.coarse = np.round(arr.coarse * 255).astype(np.float32) / 255.0
    return arr


def leaf_patches(arr: GenArrays, *, max_patches: int, seed: int = 0,
                 cfg: GeometryConfig | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Truth patches at the leaves of each sketch's S-hat quadtree: the tokenizer's data.

    Returns (sdf float16 (N, 32, 32), binary float16 (N, 32, 32) as +-1, -1 = ink).
    """
    cfg = cfg or GeometryConfig()
    rng = np.random.default_rng(seed)
    per = max(1, int(np.ceil(max_patches / max(1, len(arr)))))
    sdfs, bins = [], []
    for i in rng.permutation(len(arr)):
        ink = arr.ink(i)
        sdf = sdf_from_ink(ink, cfg.sdf_scale)
        tree = shat_from_coarse(arr.coarse[i], cfg).tree
        picks = rng.permutation(len(tree))[:per]
        for j in picks:
            sdfs.append(crop(sdf, tree, j, cfg.patch))
            b = crop(ink, tree, j, cfg.patch)
            bins.append(np.where(b > 0.5, -1.0, 1.0))
        if len(sdfs) >= max_patches:
            break
    return (np.stack(sdfs[:max_patches]).astype(np.float16),
            np.stack(bins[:max_patches]).astype(np.float16))

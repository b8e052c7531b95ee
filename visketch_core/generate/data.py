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
from visketch_core.geometry import GeometryConfig, render, sdf_from_ink
from visketch_core.sketch.model import Sketch, normalise


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


def partial_views(sketch: Sketch, rng: np.random.Generator) -> list[Sketch]:
    """Two parts of a sketch (already in the frame) that a person might have drawn so far:
    the first k strokes (k uniform in 1..n-1) and a random subset of the strokes (each kept
    with a chance drawn uniformly in [0.3, 0.7]; at least one kept, at least one left out).
    A one-stroke sketch gives the first 30-70 % of its points, twice."""
    st = sketch.strokes
    n = len(st)
    if n < 2:
        pts = st[0] if n else np.zeros((0, 2), np.float32)
        cut = max(1, int(round(len(pts) * rng.uniform(0.3, 0.7))))
        part = Sketch(strokes=[pts[:cut]]) if len(pts) else Sketch(strokes=[])
        return [part, part]
    k = int(rng.integers(1, n))
    keep = rng.random(n) < rng.uniform(0.3, 0.7)
    if keep.all():
        keep[rng.integers(n)] = False
    if not keep.any():
        keep[rng.integers(n)] = True
    return [Sketch(strokes=list(st[:k])), Sketch(strokes=[s for s, m in zip(st, keep) if m])]


def build_partials(data_dir: str | Path, split: str, *, copies: int = 0, seed: int = 0,
                   limit_per_class: int | None = None,
                   cfg: GeometryConfig | None = None) -> np.ndarray:
    """uint8 (N, 2, 32, 32): the coarse images of two partial views (``partial_views``) of
    every row of ``build_arrays`` with the same options (same sketches, same augmentation),
    each in its whole sketch's frame: (part -> whole) pairs for completion."""
    cfg = cfg or GeometryConfig()
    corpus = load_corpus(data_dir, split, limit_per_class=limit_per_class)
    aug = AugmentConfig(partial_prob=0.0, stroke_dropout=0.0)
    out = []
    for i, sk in enumerate(corpus.sketches):
        versions = [sk] + [augment(sk, np.random.default_rng((seed, i, c)), aug)
                           for c in range(copies)]
        for c, v in enumerate(versions):
            framed = normalise(v, size=cfg.size, margin=cfg.margin)
            rng = np.random.default_rng((seed, i, c, 7))
            planes = []
            for part in partial_views(framed, rng):
                ink = render(part, cfg.size, cfg.line_width) if part.strokes \
                    else np.zeros((cfg.size, cfg.size), np.float32)
                planes.append(np.round(coarse_from_ink(ink) * 255).astype(np.uint8))
            out.append(np.stack(planes))
    return np.stack(out)


def cached_partials(data_dir: str | Path, split: str, cache_dir: str | Path, *, copies: int = 0,
                    limit_per_class: int | None = None, log=print) -> np.ndarray:
    """``build_partials`` through an npz cache (rows line up with ``cached_arrays``);
    float32 (N, 2, 32, 32) in [0, 1]."""
    key = hashlib.sha1(f"{Path(data_dir).resolve()}|{split}|{copies}|{limit_per_class}|part"
                       .encode())
    path = Path(cache_dir) / f"genpart-{split}-{copies}-{key.hexdigest()[:10]}.npz"
    if path.exists():
        return np.load(path)["partial"].astype(np.float32) / 255.0
    log(f"rendering partial views of the {split} split -> {path}")
    part = build_partials(data_dir, split, copies=copies, limit_per_class=limit_per_class)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, partial=part)
    return part.astype(np.float32) / 255.0

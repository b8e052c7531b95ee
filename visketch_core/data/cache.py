"""A disk cache of preprocessed contexts, so training epochs do not recompute geometry.

One cache holds ``views`` of a list of sketches: view 0 is the sketches as they are, views
1..K are fixed random augmentations (seeded). Each view is a folder of flat arrays, read
through memory maps:

  patches.npy  uint8 (P, 32, 32)   SDF patches quantised to 0..255 (q = round((v+1)*127.5));
                                   all-background patches are not stored
  nodes.npy    int32 (N, M)        per sketch and node: row in patches.npy, -1 = background
  tokens.npy   int16 (T, 36)       context token tables of all leaves, concatenated
  boxes.npy    float32 (T, 4), level.npy int8 (T,)
  offsets.npy  int64 (N + 1,)      leaves of sketch i are rows offsets[i]:offsets[i+1]

The key of a cache is a hash of the geometry config, the augmentation config, the seed and the
sketches themselves, so a stale cache is never read.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from visketch_core.data.augment import AugmentConfig, augment
from visketch_core.geometry import GeometryConfig, preprocess
from visketch_core.geometry.context import Contexts
from visketch_core.sketch.model import Sketch

_FILES = ("patches", "nodes", "tokens", "boxes", "level", "offsets")


def cache_key(sketches: list[Sketch], geometry: GeometryConfig, aug: AugmentConfig | None,
              seed: int) -> str:
    h = hashlib.sha1()
    h.update(json.dumps([asdict(geometry), aug and asdict(aug), seed], sort_keys=True).encode())
    for s in sketches:
        h.update((s.key_id or "").encode())
        for st in s.strokes:
            h.update(np.ascontiguousarray(st).tobytes())
    return h.hexdigest()[:16]


def quantise(patches: np.ndarray) -> np.ndarray:
    return np.round((patches.astype(np.float32) + 1.0) * 127.5).astype(np.uint8)


def dequantise(q: np.ndarray) -> np.ndarray:
    return (q.astype(np.float32) * (1.0 / 127.5) - 1.0).astype(np.float16)


def _view_contexts(sketches, geometry, aug, seed, view):
    for i, sk in enumerate(sketches):
        if view == 0 or aug is None:
            yield preprocess(sk, geometry)
            continue
        rng = np.random.default_rng((seed, 10_000 + view, i))
        geo = replace(geometry, line_width=float(rng.uniform(*aug.width_range)))
        yield preprocess(augment(sk, rng, aug), geo)


def build_view(folder: Path, sketches, geometry, aug, seed, view) -> None:
    """Compute and write one view (atomically: a temp folder renamed at the end)."""
    tmp = folder.with_name(folder.name + ".tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    patches, nodes, tokens, boxes, level, offsets = [], [], [], [], [], [0]
    n_patches = 0
    for ctx in _view_contexts(sketches, geometry, aug, seed, view):
        q = quantise(ctx.node_patches)
        blank = (q == 255).reshape(len(q), -1).all(1)
        idx = np.full(len(q), -1, np.int32)
        idx[~blank] = n_patches + np.arange((~blank).sum())
        n_patches += int((~blank).sum())
        patches.append(q[~blank])
        nodes.append(idx)
        tokens.append(ctx.tokens.astype(np.int16))
        boxes.append(ctx.boxes)
        level.append(ctx.level.astype(np.int8))
        offsets.append(offsets[-1] + len(ctx))
    arrays = {"patches": np.concatenate(patches), "nodes": np.stack(nodes),
              "tokens": np.concatenate(tokens), "boxes": np.concatenate(boxes),
              "level": np.concatenate(level), "offsets": np.asarray(offsets, np.int64)}
    for name, arr in arrays.items():
        np.save(tmp / f"{name}.npy", arr)
    tmp.rename(folder)


class ContextCache:
    """Read-only access to the cached views of one list of sketches.

    >>> cache = ContextCache.open_or_build(root, sketches, geometry, AugmentConfig(), views=4)
    >>> ctx = cache.get(i, view=epoch % cache.views)
    """

    def __init__(self, folder: Path, views: int):
        self.folder = folder
        self.views = views
        self._maps = [{n: np.load(folder / f"view{v}" / f"{n}.npy", mmap_mode="r")
                       for n in _FILES} for v in range(views)]

    @classmethod
    def open_or_build(cls, root: str | Path, sketches: list[Sketch],
                      geometry: GeometryConfig | None = None, aug: AugmentConfig | None = None,
                      *, views: int = 1, seed: int = 0, log=None) -> ContextCache:
        geometry = geometry or GeometryConfig()
        folder = Path(root) / cache_key(sketches, geometry, aug, seed)
        for v in range(views):
            vf = folder / f"view{v}"
            if not (vf / "offsets.npy").exists():
                if log:
                    log(f"caching view {v} of {len(sketches)} sketches in {vf}")
                build_view(vf, sketches, geometry, aug, seed, v)
        return cls(folder, views)

    def __len__(self) -> int:
        return len(self._maps[0]["offsets"]) - 1

    def get(self, i: int, view: int = 0) -> Contexts:
        m = self._maps[view]
        a, b = int(m["offsets"][i]), int(m["offsets"][i + 1])
        idx = np.asarray(m["nodes"][i])
        patches = np.ones((len(idx), *m["patches"].shape[1:]), np.float16)
        stored = idx >= 0
        if stored.any():
            patches[stored] = dequantise(np.asarray(m["patches"][idx[stored]]))
        return Contexts(node_patches=patches, tokens=np.asarray(m["tokens"][a:b], np.int64),
                        boxes=np.asarray(m["boxes"][a:b]), level=np.asarray(m["level"][a:b],
                                                                             np.int64))

"""Measures on the judge's view of sketches: Frechet distance, diversity, memorisation."""

from __future__ import annotations

import numpy as np


def _sqrt_psd(m: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((m + m.T) / 2)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted to features a (N, F) and b (M, F)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    mu = a.mean(0) - b.mean(0)
    sa, sb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    r = _sqrt_psd(sa)
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(r @ sb @ r), 0, None)).sum()
    return float(mu @ mu + np.trace(sa) + np.trace(sb) - 2 * cross)


def mean_pairwise_distance(features: np.ndarray, labels: np.ndarray) -> float:
    """Mean Euclidean distance between two sketches of one class, averaged over classes."""
    out = []
    for c in np.unique(labels):
        f = features[labels == c]
        if len(f) < 2:
            continue
        d = np.sqrt(((f[:, None] - f[None]) ** 2).sum(-1))
        out.append(d[np.triu_indices(len(f), 1)].mean())
    return float(np.mean(out)) if out else 0.0


def nearest_distances(queries: np.ndarray, pool: np.ndarray, batch: int = 256) -> np.ndarray:
    """float64 (N,) root-mean-square pixel distance from each query image to its nearest
    pool image; images are (N, S, S) float ink."""
    q = queries.reshape(len(queries), -1).astype(np.float32)
    p = pool.reshape(len(pool), -1).astype(np.float32)
    pn = (p * p).sum(1)
    out = []
    for i in range(0, len(q), batch):
        x = q[i: i + batch]
        d2 = (x * x).sum(1)[:, None] - 2 * x @ p.T + pn[None]
        out.append(np.sqrt(np.clip(d2.min(1), 0, None) / q.shape[1]))
    return np.concatenate(out).astype(np.float64)

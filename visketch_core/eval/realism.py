"""Does a sketch look drawn by a person? Stroke statistics, a two-sample test, a picture.

- ``stroke_stats``: how many strokes, how long, how many tiny ones, how rough (below).
- ``two_sample_score``: a classifier two-sample test. A small CNN learns to tell real renders
  from generated ones on half of each set; its accuracy on the other half is the score
  (0.5: indistinguishable, 1.0: told apart every time).
- ``contact_sheet``: one labelled row of sketches per source, as a PNG for the docs.

Every measure works on the 256 px frame the benchmark judges in: sketches are normalised
(``visketch_core.sketch.model.normalise``) before they are measured or rendered.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn

from visketch_core.geometry.raster import render
from visketch_core.geometry.simplify import resample
from visketch_core.models.cnn import render_small
from visketch_core.sketch.model import FRAME, Sketch, normalise

SPACING = 4.0  # px between resampled points before turning angles are measured
SHORT = 10.0  # px: strokes shorter than this count as "short"
LABEL_W = 160  # px of a contact sheet's label column


def _stroke_lengths_and_turns(sketch: Sketch) -> tuple[list[float], list[np.ndarray]]:
    lengths, turns = [], []
    for s in sketch.strokes:
        pts = np.asarray(s, dtype=np.float64)
        if len(pts) == 0:
            continue
        seg = np.hypot(*np.diff(pts, axis=0).T) if len(pts) > 1 else np.zeros(0)
        lengths.append(float(seg.sum()))
        if seg.sum() <= 0:
            continue
        r, _ = resample(pts, SPACING)
        d = np.diff(r, axis=0)
        d = d[np.hypot(d[:, 0], d[:, 1]) > 1e-9]
        if len(d) < 2:
            continue
        a, b = d[:-1], d[1:]
        cross = a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]
        dot = (a * b).sum(1)
        turns.append(np.abs(np.arctan2(cross, dot)))
    return lengths, turns


def stroke_stats(sketches: list[Sketch], normalise_first: bool = True) -> dict:
    """Stroke statistics of a set of stroke sketches, each first normalised into the 256 px
    frame (16 px margin: the larger side becomes 224 px), so sources of any scale compare.
    ``normalise_first=False`` measures the coordinates as they are (px).

    Returns a dict of floats (counts as ints):

    - ``strokes_median``, ``strokes_mean``: strokes per sketch (empty strokes not counted).
    - ``stroke_length_median``: median over all strokes of the polyline length (px).
    - ``short_stroke_share``: share of strokes shorter than 10 px (dots included).
    - ``roughness``: mean absolute turning angle in radians. Each stroke is resampled at
      equal arc-length steps of at most 4 px (``geometry.simplify.resample``, both ends
      kept), so RDP-simplified and densely traced strokes are measured at the same
      spacing; zero-length steps are dropped; the turning angle between consecutive steps
      u, v is ``|atan2(u x v, u . v)|`` in [0, pi]; the mean is over all angles of all
      strokes of all sketches pooled (long strokes weigh more). A straight stroke is 0; a
      stroke with fewer than three resampled points has no angle.
    - ``n_sketches``, ``n_strokes``, ``n_angles``.
    """
    per_sketch, lengths, turns = [], [], []
    for sk in sketches:
        if sk.num_points == 0:
            per_sketch.append(0)
            continue
        ls, ts = _stroke_lengths_and_turns(normalise(sk) if normalise_first else sk)
        per_sketch.append(len(ls))
        lengths += ls
        turns += ts
    ang = np.concatenate(turns) if turns else np.zeros(0)
    lens = np.asarray(lengths, dtype=np.float64)
    counts = np.asarray(per_sketch, dtype=np.float64)
    nan = float("nan")
    return {
        "strokes_median": float(np.median(counts)) if len(counts) else nan,
        "strokes_mean": float(counts.mean()) if len(counts) else nan,
        "stroke_length_median": float(np.median(lens)) if len(lens) else nan,
        "short_stroke_share": float((lens < SHORT).mean()) if len(lens) else nan,
        "roughness": float(ang.mean()) if len(ang) else nan,
        "n_sketches": len(counts), "n_strokes": len(lens), "n_angles": int(len(ang)),
    }


def relative_gap(gen_stats: dict, real_stats: dict) -> dict:
    """|gen - real| / |real| for every measure of ``stroke_stats`` (not the ``n_`` counts).
    None where the real value is 0 or either value is missing/NaN (keeps JSON strict)."""
    out: dict[str, float | None] = {}
    for k, r in real_stats.items():
        if k.startswith("n_") or k not in gen_stats:
            continue
        g = gen_stats[k]
        ok = all(isinstance(v, (int, float)) and np.isfinite(v) for v in (g, r)) and r != 0
        out[k] = float(abs(g - r) / abs(r)) if ok else None
    return out


def renders(sketches: list[Sketch], size: int = 64) -> np.ndarray:
    """float32 (N, size, size) ink in [0, 1]: each sketch normalised, drawn at 256 px with
    the project's line width and area-resized (``models.cnn.render_small``, as the judge
    sees sketches). An empty sketch is a blank image."""
    out = np.zeros((len(sketches), size, size), np.float32)
    for i, sk in enumerate(sketches):
        if not sk.is_empty:
            out[i] = render_small(sk, size)
    return out


# -- classifier two-sample test ---------------------------------------------------------------
class _TellApart(nn.Module):
    """(B, 1, 64, 64) ink -> (B,) logit of "real". Three strided convs, small on purpose:
    it must separate sources by how they look, not memorise 75 images."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 8, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),
            nn.AdaptiveAvgPool2d(4), nn.Flatten(), nn.Linear(32 * 16, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(1)


def _auc(score: np.ndarray, y: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney, ties counted half)."""
    pos, neg = score[y == 1], score[y == 0]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    greater = (pos[:, None] > neg[None]).sum() + 0.5 * (pos[:, None] == neg[None]).sum()
    return float(greater / (len(pos) * len(neg)))


def _train_cnn(x: torch.Tensor, y: torch.Tensor, seed: int, epochs: int) -> _TellApart:
    torch.manual_seed(seed)  # the weights' initialisation; batches use their own generator
    model = _TellApart()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(seed)
    loss_fn = nn.BCEWithLogitsLoss()
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=gen)
        for i in range(0, len(x), 32):
            idx = order[i: i + 32]
            xb = x[idx]
            flip = torch.rand(len(idx), generator=gen) < 0.5  # mirror: both sources allow it
            xb = torch.where(flip[:, None, None, None], xb.flip(-1), xb)
            opt.zero_grad()
            loss_fn(model(xb), y[idx]).backward()
            opt.step()
    return model.eval()


def _logreg(xtr: np.ndarray, ytr: np.ndarray, xte: np.ndarray, l2: float = 1e-2) -> np.ndarray:
    """L2-regularised logistic regression (LBFGS) on standardised features -> test scores."""
    mu, sd = xtr.mean(0), xtr.std(0) + 1e-3
    a = torch.from_numpy((xtr - mu) / sd).double()
    b = torch.from_numpy(ytr).double()
    w = torch.zeros(a.shape[1], dtype=torch.float64, requires_grad=True)
    c = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w, c], max_iter=200, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = nn.functional.binary_cross_entropy_with_logits(a @ w + c, b) + l2 * (w * w).sum()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        return (torch.from_numpy((xte - mu) / sd).double() @ w + c).numpy()


def _pixels16(x: np.ndarray) -> np.ndarray:
    """(N, S, S) ink -> float64 (N, 256): area-resized to 16 x 16, flattened."""
    small = [cv2.resize(i, (16, 16), interpolation=cv2.INTER_AREA) for i in x]
    return np.stack(small).reshape(len(x), -1).astype(np.float64)


def two_sample_score(real: np.ndarray, fake: np.ndarray, seed: int, epochs: int = 20) -> dict:
    """Classifier two-sample test of float32 (N, 64, 64) and (M, 64, 64) ink renders in [0, 1].

    Both sets are cut to n = min(N, M) images (a seeded random pick), each set is split in
    half; a small CNN (``_TellApart``, Adam, ``epochs`` fixed, mirrored at random) learns
    real-vs-generated on the first halves and is scored on the second halves (balanced).
    As a cross-check a logistic regression is fitted on the same images area-resized to
    16 x 16. Deterministic for a seed on a CPU.

    Returns ``accuracy`` and ``auc`` of the CNN on the held-out halves, ``logreg_accuracy``,
    ``n_train`` and ``n_test`` (images in all, both sources together) and ``n_per_source``.
    """
    real = np.asarray(real, dtype=np.float32)
    fake = np.asarray(fake, dtype=np.float32)
    if real.ndim != 3 or fake.ndim != 3 or real.shape[1:] != fake.shape[1:]:
        raise ValueError(f"expected (N, S, S) images of one size, got {real.shape} and {fake.shape}")
    n = min(len(real), len(fake))
    if n < 4:
        raise ValueError(f"need at least 4 images of each source, got {n}")
    rng = np.random.default_rng(seed)
    r, f = real[rng.permutation(len(real))[:n]], fake[rng.permutation(len(fake))[:n]]
    h = n // 2
    xtr = np.concatenate([r[:h], f[:h]])
    ytr = np.concatenate([np.ones(h), np.zeros(h)]).astype(np.float32)
    xte = np.concatenate([r[h:], f[h:]])
    yte = np.concatenate([np.ones(n - h), np.zeros(n - h)]).astype(np.float32)

    model = _train_cnn(torch.from_numpy(xtr)[:, None], torch.from_numpy(ytr), seed, epochs)
    with torch.no_grad():
        score = model(torch.from_numpy(xte)[:, None]).numpy()
    lr_score = _logreg(_pixels16(xtr), ytr.astype(np.float64), _pixels16(xte))
    return {
        "accuracy": float(((score > 0) == (yte > 0.5)).mean()),
        "auc": _auc(score, yte),
        "logreg_accuracy": float(((lr_score > 0) == (yte > 0.5)).mean()),
        "n_train": int(len(xtr)), "n_test": int(len(xte)), "n_per_source": int(n),
    }


# -- contact sheet ------------------------------------------------------------------------------
def contact_sheet(rows: list[tuple[str, list[Sketch]]], path: str | Path, cell: int = 96) -> Path:
    """Write a PNG grid: one row per ``(label, sketches)``, the label in a 160 px column at
    the left, then one ``cell`` x ``cell`` tile per sketch (dark ink on white, normalised;
    thin grey tile borders). The image is ``len(rows) * cell`` high and
    ``160 + cell * (longest row)`` wide. Returns the path."""
    path = Path(path)
    cols = max([len(s) for _, s in rows] + [1])
    img = np.full((max(1, len(rows)) * cell, LABEL_W + cols * cell), 255, np.uint8)
    width = 2.0 * FRAME / max(cell, 1)  # 2 px lines whatever the tile size
    for r, (label, sketches) in enumerate(rows):
        y0 = r * cell
        text = str(label)
        while len(text) > 1 and cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.5, 1)[0][0] > LABEL_W - 12:
            text = text[:-1]  # clip a long label to the column
        cv2.putText(img, text, (6, y0 + cell // 2 + 5), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 0, 1,
                    cv2.LINE_AA)
        for c, sk in enumerate(sketches):
            x0 = LABEL_W + c * cell
            if not sk.is_empty:
                ink = render(normalise(sk), size=cell, width=width)
                img[y0: y0 + cell, x0: x0 + cell] = np.round(255 * (1 - ink)).astype(np.uint8)
            cv2.rectangle(img, (x0, y0), (x0 + cell - 1, y0 + cell - 1), 200, 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), img):
        raise OSError(f"{path}: could not write the PNG")
    return path

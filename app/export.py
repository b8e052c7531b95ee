"""Export of the drawing as the canvas shows it: PNG at a chosen size, or SVG.

Each stroke keeps its own pen width, scaled with the drawing. The drawing is centred and
scaled to fill the picture less a margin of MARGIN / FRAME of its side on each side, the
proportions the core uses for normalised sketches, so strokes never touch the edge.
Runs on an executor thread: QImage and QPainter need no GUI thread.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtGui import QColor, QImage, QPainter

from app import ink
from visketch_core.errors import SketchError
from visketch_core.sketch.model import FRAME, MARGIN

PNG_SIZES = (256, 512, 1024, 2048)
DEFAULT_PNG_SIZE = 1024

Ink = list[tuple[np.ndarray, float]]   # (points float (N, 2), width) per stroke


def placement(strokes: Ink, size: int) -> tuple[float, float, float]:
    """(scale, dx, dy) mapping document coordinates into a ``size`` picture: the points
    fill it less the margin, as the core's ``normalise`` places them (so the picture
    classifies like the drawing), unless the pens are so wide that the ink would reach
    the edge; then the ink, widths included, fills it less the margin."""
    pts = [p for p, _ in strokes if len(p)]
    if not pts:
        raise SketchError("nothing to export: the drawing is empty")
    allp = np.concatenate(pts).astype(np.float64)
    lo, hi = allp.min(0), allp.max(0)
    margin = size * MARGIN / FRAME
    avail = size - 2 * margin
    extent = float(max(hi - lo))
    scale = avail / extent if extent > 1e-6 else size / FRAME
    half = max(w for p, w in strokes if len(p)) / 2
    if half * scale > margin:
        lo, hi = lo - half, hi + half
        scale = avail / float(max(hi - lo))
    cx, cy = (lo + hi) / 2
    return scale, size / 2 - scale * cx, size / 2 - scale * cy


def png_image(strokes: Ink, size: int = DEFAULT_PNG_SIZE) -> QImage:
    """Dark ink on white, antialiased, 8-bit grey."""
    scale, dx, dy = placement(strokes, size)
    img = QImage(size, size, QImage.Format.Format_RGB32)
    img.fill(QColor(255, 255, 255))
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    for pts, width in strokes:
        q = np.asarray(pts, np.float64) * scale + (dx, dy)
        p.setPen(ink.ink_pen(width * scale))
        ink.draw_polyline(p, q, width * scale)
    p.end()
    return img.convertToFormat(QImage.Format.Format_Grayscale8)


def _num(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".") or "0"


def svg_text(strokes: Ink, size: int = FRAME) -> str:
    """Each stroke a path with its own stroke-width; a one-point stroke is a dot."""
    scale, dx, dy = placement(strokes, size)
    paths = []
    for pts, width in strokes:
        if not len(pts):
            continue
        q = np.asarray(pts, np.float64) * scale + (dx, dy)
        if len(q) == 1:
            q = np.vstack([q, q])   # a zero-length segment: its round cap draws the dot
        d = "M" + " L".join(f"{_num(x)} {_num(y)}" for x, y in q)
        paths.append(f'  <path d="{d}" stroke-width="{_num(width * scale)}"/>')
    return "\n".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
        f'viewBox="0 0 {size} {size}">',
        f'<rect width="{size}" height="{size}" fill="#ffffff"/>',
        '<g fill="none" stroke="#111111" stroke-linecap="round" stroke-linejoin="round">',
        *paths, "</g>", "</svg>", ""])


def export_drawing(strokes: Ink, path: str | Path, png_size: int = DEFAULT_PNG_SIZE) -> None:
    """Write ``strokes`` to ``path`` (.png or .svg); SketchError (one line) on failure."""
    from app.docfile import write_text_atomic

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".png", ".svg"):
        raise SketchError("choose a .png or .svg name", path=path)
    if not path.parent.is_dir():
        raise SketchError("folder does not exist", path=path)
    try:
        if suffix == ".svg":
            write_text_atomic(path, svg_text(strokes))
        elif not png_image(strokes, int(png_size)).save(str(path), "PNG"):
            raise SketchError("could not write the PNG", path=path)
    except OSError as exc:
        raise SketchError(f"cannot write file ({exc.strerror or exc})", path=path) from None


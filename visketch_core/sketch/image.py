"""Bitmap images (PNG, JPG): reader into a normalised ink raster, PNG writer.

Images hold dark ink on a light background. Transparent PNGs are composited over white
first (a drawing in black on transparency reads as black on white; light ink on
transparency, which would vanish, is read from the alpha channel). A mostly dark image
(light ink on a dark board) is inverted, judged by its border. The background level is
measured, not assumed, so a grey scan or a JPEG with a tinted paper still gives clean ink.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from visketch_core.errors import SketchError
from visketch_core.geometry.raster import normalise_raster, render
from visketch_core.sketch import image_check, limits
from visketch_core.sketch.model import FRAME, MARGIN, Sketch, normalise

NOISE = 0.08  # ink below this (JPEG ringing, paper grain) is dropped


def _quiet_opencv() -> None:
    """OpenCV's own log lines ("[ WARN:0@1.2] ...") must not reach a user's terminal: what
    is wrong with a file is said once, by the SketchError."""
    try:
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    except AttributeError:  # a build without the logging module
        pass


_quiet_opencv()


def _decode(path: Path) -> np.ndarray:
    """Read bytes ourselves (cv2.imread fails silently on some non-ASCII paths); check the
    header first (``image_check``), and bring a large image down to ``WORK_SIDE`` before
    any float copy of it is made."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(limits.MAX_ARRAY_BYTES + 1)
    except OSError as e:
        raise SketchError(f"cannot read file ({e.strerror})", path=path) from None
    if len(raw) > limits.MAX_ARRAY_BYTES:
        raise SketchError(f"the file is over {limits.MAX_ARRAY_BYTES >> 20} MB; larger images "
                          "are not read", path=path)
    try:
        kind, w, h = image_check.image_size(raw)
    except image_check.ImageProblem as e:
        raise SketchError(str(e), path=path) from None
    flags = cv2.IMREAD_UNCHANGED
    if kind == "jpeg":  # JPEG decodes straight to a smaller size; it has no alpha to keep
        for factor, reduced in ((8, cv2.IMREAD_REDUCED_COLOR_8), (4, cv2.IMREAD_REDUCED_COLOR_4),
                                (2, cv2.IMREAD_REDUCED_COLOR_2)):
            if max(w, h) // factor >= limits.WORK_SIDE:
                flags = reduced
                break
    img = cv2.imdecode(np.frombuffer(raw, dtype=np.uint8), flags)
    del raw
    if img is None:
        raise SketchError("not a readable PNG/JPG image", path=path)
    side = max(img.shape[:2])
    if side > limits.WORK_SIDE:
        f = limits.WORK_SIDE / side
        size = (max(1, round(img.shape[1] * f)), max(1, round(img.shape[0] * f)))
        img = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
    return img


def ink_from_image(img: np.ndarray) -> np.ndarray:
    """Decoded image (H, W) gray, (H, W, 3) BGR or (H, W, 4) BGRA, uint8 or uint16 ->
    float32 (H, W) ink in [0, 1], 1 = ink."""
    img = np.asarray(img)
    peak = 65535.0 if img.dtype == np.uint16 else 255.0 if img.dtype == np.uint8 else 1.0
    f = img.astype(np.float32) / peak
    alpha = None
    if f.ndim == 3 and f.shape[2] == 4:
        alpha = f[..., 3]
        f = f[..., :3]
    if f.ndim == 3:
        gray = f @ np.array([0.114, 0.587, 0.299], np.float32)  # BGR luma
    else:
        gray = f
    if alpha is not None:
        gray = gray * alpha + (1.0 - alpha)  # over white
    gray = np.clip(gray, 0.0, 1.0)
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    bg = float(np.median(border))
    if bg < 0.5:  # light ink on a dark background
        gray, bg = 1.0 - gray, 1.0 - bg
    ink = (bg - gray) / max(bg, 1e-3)
    ink = np.clip(ink, 0.0, 1.0)
    ink[ink < NOISE] = 0.0
    if alpha is not None and not ink.any() and float(alpha.min()) < 0.5:
        ink = np.where(alpha < NOISE, 0.0, alpha)  # light ink on transparency: shape = alpha
    return ink.astype(np.float32)


def read_image(path: str | Path, *, size: int = FRAME, margin: float = MARGIN) -> Sketch:
    """Read a PNG/JPG (any bit depth, gray/colour/alpha) as a raster sketch:
    ``raster`` float32 (size, size), ink in [0, 1] cropped, scaled and centred by
    ``normalise_raster``; no strokes. SketchError (one line) if it cannot be decoded."""
    path = Path(path)
    ink = ink_from_image(_decode(path))
    return Sketch(raster=normalise_raster(ink, size=size, margin=margin), source=str(path))


def sketch_to_image(sketch: Sketch, *, size: int = FRAME, width: float = 3.0) -> np.ndarray:
    """uint8 (size, size) image, dark ink (0) on white (255). Strokes are normalised into
    the frame (when they do not fit it already) and rendered; a raster is resized."""
    if sketch.strokes:
        x0, y0, x1, y1 = sketch.bounds() if sketch.num_points else (0, 0, 0, 0)
        if min(x0, y0) < 0 or max(x1, y1) > FRAME:
            sketch = normalise(sketch)
    elif sketch.raster is None:
        raise SketchError("nothing to write: the sketch has no strokes and no raster")
    ink = render(sketch, size=size, width=width)
    return np.round(255.0 * (1.0 - ink)).astype(np.uint8)


def write_png(sketch: Sketch, path: str | Path, *, size: int = FRAME, width: float = 3.0) -> None:
    """Write ``sketch_to_image(sketch)`` as an 8-bit grayscale PNG."""
    ok, buf = cv2.imencode(".png", sketch_to_image(sketch, size=size, width=width))
    if not ok:
        raise SketchError("could not encode PNG", path=path)
    Path(path).write_bytes(buf.tobytes())

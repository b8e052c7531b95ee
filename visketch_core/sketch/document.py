"""The app's own document format (``.visketch``: JSON inside).

Layout, version 1::

    {"format": "visketch", "version": 1, "label": "cat" | null, "key_id": ... | null,
     "frame": 256,
     "strokes": [{"points": [[x, y], ...], "t": [ms, ...] | null}, ...]}

``t`` is either given for every stroke or null for every stroke. Readers reject documents
from a newer version with a message saying so; writers replace the file atomically (a
temporary file in the same folder, then ``os.replace``), so a crash never leaves half a file.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from visketch_core.errors import SketchError
from visketch_core.sketch.model import FRAME, Sketch

FORMAT = "visketch"
VERSION = 1


def sketch_to_document(sketch: Sketch) -> dict[str, Any]:
    """A sketch as a version-1 document (a plain JSON-ready dict). Strokes only: a raster
    sketch must be vectorised first (``geometry.vectorise``)."""
    if not sketch.strokes and sketch.raster is not None:
        raise SketchError("a document holds strokes; vectorise the raster sketch first")
    sketch.validate()
    strokes = []
    for i, s in enumerate(sketch.strokes):
        t = None if sketch.times is None else [float(v) for v in sketch.times[i]]
        strokes.append({"points": [[float(x), float(y)] for x, y in s], "t": t})
    return {
        "format": FORMAT,
        "version": VERSION,
        "label": sketch.label,
        "key_id": sketch.key_id,
        "frame": FRAME,
        "strokes": strokes,
    }


def document_to_sketch(doc: Any, *, path: str | Path | None = None) -> Sketch:
    """Validate a parsed document and build its Sketch; any problem -> one-line SketchError."""

    def bad(msg: str) -> SketchError:
        return SketchError(msg, path=path)

    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise bad('not a ViSketch document (no "format": "visketch")')
    version = doc.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise bad(f"document version must be a positive integer, got {version!r}")
    if version > VERSION:
        raise bad(f"document version {version} was written by a newer ViSketch; "
                  f"this one reads version {VERSION} (please update)")
    raw_strokes = doc.get("strokes")
    if not isinstance(raw_strokes, list):
        raise bad('"strokes" must be a list')
    strokes: list[np.ndarray] = []
    times: list[np.ndarray] = []
    for i, st in enumerate(raw_strokes):
        if not isinstance(st, dict) or not isinstance(st.get("points"), list):
            raise bad(f'stroke {i} must be an object with a "points" list')
        try:
            pts = np.asarray(st["points"], dtype=np.float64).reshape(-1, 2)
        except (TypeError, ValueError):
            raise bad(f"stroke {i}: points must be [x, y] number pairs") from None
        if pts.size != 2 * len(st["points"]):
            raise bad(f"stroke {i}: points must be [x, y] number pairs")
        strokes.append(pts)
        t = st.get("t")
        if t is not None:
            try:
                times.append(np.asarray(t, dtype=np.float64).reshape(-1))
            except (TypeError, ValueError):
                raise bad(f"stroke {i}: t must be a list of numbers") from None
    if times and len(times) != len(strokes):
        raise bad('"t" must be given for every stroke or for none')
    label = doc.get("label")
    key_id = doc.get("key_id")
    try:
        sketch = Sketch(
            strokes=strokes,
            times=times or None,
            label=None if label is None else str(label),
            key_id=None if key_id is None else str(key_id),
            source=None if path is None else str(path),
        )
        sketch.validate()
    except ValueError as e:
        raise bad(str(e)) from None
    return sketch


def read_document(path: str | Path) -> Sketch:
    """Read a ``.visketch`` document; SketchError (one line) if it is not a valid one."""
    path = Path(path)
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except (ValueError, UnicodeDecodeError) as e:
        raise SketchError(f"not valid JSON ({e})".replace("\n", " "), path=path) from None
    except OSError as e:
        raise SketchError(f"cannot read file ({e.strerror})", path=path) from None
    return document_to_sketch(doc, path=path)


def write_document(sketch: Sketch, path: str | Path) -> None:
    """Write a sketch as a version-1 document, atomically (temp file + ``os.replace``)."""
    path = Path(path)
    text = json.dumps(sketch_to_document(sketch), separators=(",", ":"), allow_nan=False)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise

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
from visketch_core.sketch import limits
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
        raise bad(f"document version must be a positive integer, got {_short(version)}")
    if version > VERSION:
        raise bad(f"document version {_short(version)} was written by a newer ViSketch; "
                  f"this one reads version {VERSION} (please update)")
    raw_strokes = doc.get("strokes")
    if not isinstance(raw_strokes, list):
        raise bad('"strokes" must be a list')
    strokes: list[np.ndarray] = []
    times: list[np.ndarray] = []
    points = 0
    try:
        limits.check_counts(len(raw_strokes), 0)
        for i, st in enumerate(raw_strokes):
            if not isinstance(st, dict) or not isinstance(st.get("points"), list):
                raise bad(f'stroke {i} must be an object with a "points" list')
            pts = limits.numbers(st["points"], f"stroke {i}: points")
            if pts.ndim != 2 or pts.shape[1] != 2:
                if pts.size:
                    raise bad(f"stroke {i}: points must be [x, y] number pairs")
                pts = pts.reshape(0, 2)
            points += len(pts)
            limits.check_counts(len(raw_strokes), points)
            strokes.append(pts)
            t = st.get("t")
            if t is not None:
                if not isinstance(t, list):
                    raise bad(f"stroke {i}: t must be a list of numbers")
                times.append(limits.numbers(t, f"stroke {i}: t").reshape(-1))
    except SketchError:
        raise
    except ValueError as e:  # limits.numbers and LimitError say what is wrong
        raise bad(str(e)) from None
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


def _short(value: Any) -> str:
    """A value for a message, cut short (a 400-digit version must not fill the screen)."""
    text = repr(value)
    return text if len(text) <= 40 else text[:20] + "..." + f" ({len(text)} characters)"


def parse_json_text(data: bytes, path: str | Path) -> Any:
    """JSON text of a whole file -> Python objects; SketchError (one line) if it is not."""
    try:
        return json.loads(data)
    except RecursionError:
        raise SketchError("not valid JSON (nested too deeply)", path=path) from None
    except ValueError as e:  # JSONDecodeError, UnicodeDecodeError, a 5000-digit integer
        raise SketchError(f"not valid JSON ({e})".replace("\n", " "), path=path) from None


def read_json_file(path: str | Path) -> Any:
    """A JSON file of at most ``limits.MAX_TEXT_BYTES``, parsed; SketchError otherwise."""
    try:
        with open(path, "rb") as fh:
            data = limits.read_text_limited(fh)
    except limits.LimitError as e:
        raise SketchError(str(e), path=path) from None
    except OSError as e:
        raise SketchError(f"cannot read file ({e.strerror or e})", path=path) from None
    return parse_json_text(data, path)


def read_document(path: str | Path) -> Sketch:
    """Read a ``.visketch`` document; SketchError (one line) if it is not a valid one."""
    return document_to_sketch(read_json_file(path), path=Path(path))


def _new_file_mode(path: Path) -> int:
    """The permissions a plain ``open(path, "w")`` would give: the file's own when it
    exists, else 0666 less the umask (mkstemp's temporary file is always 0600)."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        pass
    try:  # Linux tells the umask without changing it (os.umask would, for all threads)
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o644


def write_document(sketch: Sketch, path: str | Path) -> None:
    """Write a sketch as a version-1 document, atomically (temp file + ``os.replace``)."""
    path = Path(path)
    text = json.dumps(sketch_to_document(sketch), separators=(",", ":"), allow_nan=False)
    mode = _new_file_mode(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fchmod(fh.fileno(), mode)
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise

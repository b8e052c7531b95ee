"""The app's side of ``.visketch`` files: each stroke's pen width, and normal permissions.

The core's document format (``visketch_core.sketch.document``) carries points and timing;
the app adds ``"width"`` (document units) to each stroke object. Readers that do not know
the key ignore it, so files stay readable by the core and by older versions, and a file
without widths opens with the default width.

Files are written atomically (a temporary file in the same folder, then ``os.replace``)
with the permissions any new file of the user gets (0666 less the umask), not the 0600 a
temporary file starts with: a saved drawing is an ordinary document.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from visketch_core.errors import SketchError
from visketch_core.sketch.model import Sketch


def document_dict(sketch: Sketch, widths: list[float] | None) -> dict[str, Any]:
    """The core document of ``sketch`` with each stroke's width added."""
    from visketch_core.sketch.document import sketch_to_document

    doc = sketch_to_document(sketch)
    if widths is not None:
        for st, w in zip(doc["strokes"], widths):
            st["width"] = round(float(w), 3)
    return doc


def _umask() -> int:
    mask = os.umask(0)      # the only portable way to read it: set, then restore
    os.umask(mask)
    return mask


def write_text_atomic(path: str | Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one step, with the user's normal file mode."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_visketch(sketch: Sketch, widths: list[float] | None, path: str | Path) -> None:
    """Save a drawing with its stroke widths; SketchError (one line) on failure."""
    path = Path(path)
    if not path.parent.is_dir():
        raise SketchError("folder does not exist", path=path)
    text = json.dumps(document_dict(sketch, widths), separators=(",", ":"), allow_nan=False)
    try:
        write_text_atomic(path, text)
    except OSError as exc:
        raise SketchError(f"cannot write file ({exc.strerror or exc})", path=path) from None


def read_widths(path: str | Path) -> list[float] | None:
    """The stroke widths a ``.visketch`` file recorded, one per stroke (None where a stroke
    has none), or None for a file without any (or one that is not a document)."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
        strokes = doc["strokes"]
        widths = [st.get("width") if isinstance(st, dict) else None for st in strokes]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    out = [float(w) if isinstance(w, (int, float)) and not isinstance(w, bool) else None
           for w in widths]
    return out if any(w is not None for w in out) else None

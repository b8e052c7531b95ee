"""The one entry point for sketch files: read and write by suffix.

| suffix                   | read                                    | write              |
|--------------------------|-----------------------------------------|--------------------|
| ``.ndjson`` ``.ndjson.gz`` | QuickDraw simplified or raw, per line | simplified         |
| ``.visketch``            | the app's document (JSON)               | document           |
| ``.json``                | a document, or one QuickDraw object     | document           |
| ``.npz``                 | sketch-rnn stroke-3 (all splits)        | stroke-3 (train)   |
| ``.bin``                 | QuickDraw binary                        | binary             |
| ``.npy``                 | QuickDraw numpy_bitmap (raster sketches)| numpy_bitmap       |
| ``.svg``                 | paths, lines, polylines                 | SVG                |
| ``.png`` ``.jpg`` ``.jpeg`` | image (normalised raster sketch)     | PNG (``.png`` only)|

Readers stream. A problem with the file as a whole (missing, a directory, empty, unknown
suffix, unreadable) raises SketchError, one line naming the file; a bad record inside a
multi-sketch file goes to ``on_error`` and the rest is still read (see
``sketch.quickdraw``: by default a ``MalformedSketchWarning``). Every sketch carries
``source`` = the path as a string.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path

from visketch_core.errors import NoSketchError, SketchError
from visketch_core.sketch import document, image, quickdraw, stroke3, svg
from visketch_core.sketch.model import Sketch
from visketch_core.sketch.quickdraw import OnError

READ_SUFFIXES = (".ndjson", ".ndjson.gz", ".visketch", ".json", ".npz", ".bin", ".npy",
                 ".svg", ".png", ".jpg", ".jpeg")
WRITE_SUFFIXES = (".ndjson", ".ndjson.gz", ".visketch", ".json", ".npz", ".bin", ".npy",
                  ".svg", ".png")
DOCUMENT_SUFFIX = ".visketch"


def _suffix(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".ndjson.gz"):
        return ".ndjson.gz"
    return path.suffix.lower()


def _check_readable(path: Path) -> str:
    """The file's format suffix, after checking that it can be read at all."""
    suffix = _suffix(path)
    if path.is_dir():
        raise SketchError("is a directory, not a sketch file", path=path)
    if not path.exists():
        raise SketchError("no such file", path=path)
    if not path.is_file():  # a FIFO or a device (a link to /dev/zero) would never end
        raise SketchError("not a regular file", path=path)
    if suffix not in READ_SUFFIXES:
        raise SketchError(
            f"unsupported file type {suffix or '(no suffix)'!r}; "
            f"readable: {' '.join(READ_SUFFIXES)}", path=path)
    try:
        size = path.stat().st_size
    except OSError as e:
        raise SketchError(f"cannot read file ({e.strerror})", path=path) from None
    if size == 0:
        raise SketchError("file is empty", path=path)
    return suffix


def _read_json(path: Path) -> Sketch:
    """A ``.json`` file: a ViSketch document, or a single QuickDraw ndjson object."""
    obj = document.read_json_file(path)
    if isinstance(obj, dict) and "drawing" in obj and "format" not in obj:
        return quickdraw.parse_ndjson_line(path.read_bytes(), path=path, line_no=1)
    return document.document_to_sketch(obj, path=path)


def _dispatch(path: Path, suffix: str, on_error: OnError | None) -> Iterator[Sketch]:
    if suffix in (".ndjson", ".ndjson.gz"):
        yield from quickdraw.iter_ndjson(path, on_error=on_error)
    elif suffix == ".visketch":
        yield document.read_document(path)
    elif suffix == ".json":
        yield _read_json(path)
    elif suffix == ".npz":
        yield from stroke3.iter_stroke3(path, on_error=on_error)
    elif suffix == ".bin":
        yield from quickdraw.iter_bin(path, on_error=on_error)
    elif suffix == ".npy":
        yield from quickdraw.iter_numpy_bitmap(path, on_error=on_error)
    elif suffix == ".svg":
        yield svg.read_svg(path)
    else:
        yield image.read_image(path)


def _unexpected(exc: BaseException, path: Path) -> SketchError:
    """A reader's failure that is not a SketchError, as one line naming the file: no input
    may cost a traceback, and the next input is still read."""
    if isinstance(exc, RecursionError):
        return SketchError("nested too deeply to read", path=path)
    if isinstance(exc, MemoryError):
        return SketchError("too large to read into memory", path=path)
    if isinstance(exc, (EOFError, zlib.error)):
        return SketchError(f"the file is truncated or corrupt ({exc})", path=path)
    if isinstance(exc, OSError):
        return SketchError(f"cannot read file ({exc.strerror or exc})", path=path)
    text = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
    return SketchError(f"unexpected error reading the file ({type(exc).__name__}: {text})",
                       path=path)


def read_sketches(path: str | Path, *, on_error: OnError | None = None) -> Iterator[Sketch]:
    """Stream every sketch of a file, whatever its format (see the module table).

    The file is checked before the first sketch is produced: ``read_sketches`` raises
    SketchError at once for a missing file, a directory, an unknown suffix or an empty file.
    A file whose every record is bad raises SketchError when it is exhausted, after the
    records were reported to ``on_error`` (when none was reported, the error says so).
    Whatever goes wrong inside a reader ends as a SketchError naming the file: the sketches
    yielded before it stay good.
    """
    path = Path(path)
    suffix = _check_readable(path)
    report = on_error or quickdraw.warn_on_error
    reported = 0

    def counting(err: SketchError) -> None:
        nonlocal reported
        reported += 1
        report(err)

    def generate() -> Iterator[Sketch]:
        count = 0
        try:
            for sketch in _dispatch(path, suffix, counting):
                count += 1
                yield sketch if sketch.source == str(path) else replace(sketch, source=str(path))
        except SketchError:
            raise
        except (Exception, RecursionError, MemoryError) as exc:  # noqa: BLE001 - see _unexpected
            raise _unexpected(exc, path) from None
        if count == 0:
            raise NoSketchError("no readable sketch in file" if not reported else
                                f"no readable sketch in file ({reported} bad)", path=path)

    return generate()


def read_sketch(path: str | Path, index: int = 0) -> Sketch:
    """The ``index``-th sketch (from 0) of a file; SketchError if the file has fewer.
    Bad records before it are skipped silently (they are not counted)."""
    if index < 0:
        raise SketchError(f"sketch index must be >= 0, got {index}", path=path)
    errors: list[SketchError] = []
    try:
        for i, sketch in enumerate(read_sketches(path, on_error=errors.append)):
            if i == index:
                return sketch
    except SketchError:
        if errors:  # nothing readable: the first bad record says why
            raise errors[0] from None
        raise
    raise SketchError(f"file has no sketch number {index}", path=path)


def _writable_suffix(path: Path) -> str:
    suffix = _suffix(path)
    if suffix not in WRITE_SUFFIXES:
        raise SketchError(
            f"cannot write {suffix or '(no suffix)'!r} files; writable: {' '.join(WRITE_SUFFIXES)}",
            path=path)
    if path.is_dir():
        raise SketchError("is a directory", path=path)
    if not path.parent.is_dir():
        raise SketchError("folder does not exist", path=path)
    return suffix


def _with_strokes(sketch: Sketch) -> Sketch:
    """Vector formats need strokes: a raster-only sketch is traced first."""
    if sketch.strokes or sketch.raster is None:
        return sketch
    from visketch_core.geometry.vectorise import vectorise

    traced = vectorise(sketch.raster)
    return replace(sketch, strokes=traced.strokes, times=None, raster=None)


def write_sketch(sketch: Sketch, path: str | Path) -> None:
    """Write one sketch, the format chosen by suffix (see the module table). A raster-only
    sketch is vectorised for the vector formats. SketchError (one line) on failure."""
    write_sketches([sketch], path)


def write_sketches(sketches: Iterable[Sketch], path: str | Path) -> int:
    """Write sketches to one file. ``.ndjson``, ``.npz``, ``.bin`` and ``.npy`` hold many;
    ``.svg``, ``.png``, ``.visketch`` and ``.json`` exactly one (else SketchError).
    Returns how many were written."""
    path = Path(path)
    suffix = _writable_suffix(path)
    try:
        if suffix in (".ndjson", ".ndjson.gz"):
            return quickdraw.write_ndjson((_with_strokes(s) for s in sketches), path)
        if suffix == ".npz":
            return stroke3.write_stroke3([_with_strokes(s) for s in sketches], path)["train"]
        if suffix == ".bin":
            return quickdraw.write_bin((_with_strokes(s) for s in sketches), path)
        if suffix == ".npy":
            return quickdraw.write_numpy_bitmap(sketches, path)
        items = list(sketches)
        if len(items) != 1:
            raise SketchError(f"a {suffix} file holds one sketch, got {len(items)}", path=path)
        sketch = items[0]
        if suffix == ".svg":
            svg.write_svg(_with_strokes(sketch), path)
        elif suffix == ".png":
            image.write_png(sketch, path)
        else:
            document.write_document(_with_strokes(sketch), path)
        return 1
    except SketchError as e:
        if e.path is None:
            raise SketchError(e.message, path=path) from None
        raise
    except (OSError, ValueError) as e:
        raise SketchError(f"cannot write file ({e})".replace("\n", " "), path=path) from None

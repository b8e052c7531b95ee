"""Property-based: whatever bytes a file holds, a reader yields valid sketches or says what
is wrong in one SketchError naming the file; no other exception, no warning.

Hypothesis mutates real files of every format (flipped bytes, cuts, insertions) and builds
ndjson lines and documents from arbitrary JSON. The slow variant runs ten times as many.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from fuzz_corpus import GOOD_LINE
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from visketch_core.errors import SketchError
from visketch_core.sketch.io import read_sketches, write_sketch, write_sketches
from visketch_core.sketch.limits import MAX_COORD, MAX_POINTS
from visketch_core.sketch.model import Sketch

SUFFIXES = (".ndjson", ".ndjson.gz", ".visketch", ".json", ".svg", ".png", ".jpg", ".npz",
            ".npy", ".bin")
EXAMPLES = 200


def _seeds(folder: Path) -> dict[str, bytes]:
    """One valid file per format, written by the project's own writers."""
    cat = Sketch(strokes=[[(10, 10), (200, 10), (120, 200)], [(60, 100), (150, 100)]])
    out = {}
    for suffix in SUFFIXES:
        path = folder / f"seed{suffix}"
        if suffix == ".jpg":
            import cv2

            from visketch_core.sketch.image import sketch_to_image

            path.write_bytes(cv2.imencode(".jpg", sketch_to_image(cat))[1].tobytes())
        elif suffix in (".ndjson", ".ndjson.gz", ".npz", ".npy", ".bin"):
            write_sketches([cat, cat], path)
        else:
            write_sketch(cat, path)
        out[suffix] = path.read_bytes()
    return out


SEEDS = _seeds(Path(__import__("tempfile").mkdtemp(prefix="visketch-seeds-")))


def _check(path: Path) -> None:
    """The property itself."""
    errors: list[SketchError] = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning would reach a user's terminal
        try:
            for sk in read_sketches(path, on_error=errors.append):
                assert isinstance(sk, Sketch)
                assert sk.num_points <= MAX_POINTS
                for s in sk.strokes:
                    assert s.dtype == np.float32 and np.all(np.isfinite(s))
                    assert not s.size or float(np.abs(s).max()) <= MAX_COORD
                if sk.raster is not None:
                    assert np.all(np.isfinite(sk.raster))
        except SketchError as exc:
            errors.append(exc)
    for e in errors:
        text = str(e)
        assert str(path) in text and "\n" not in text, text


@st.composite
def mutated(draw) -> tuple[str, bytes]:
    suffix = draw(st.sampled_from(SUFFIXES))
    data = bytearray(SEEDS[suffix])
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "zero"]))
        pos = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "flip" and data:
            data[pos] ^= draw(st.integers(1, 255))
        elif op == "cut":
            del data[pos:pos + draw(st.integers(1, 64))]
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=32))
        elif data:
            data[pos:pos + 8] = bytes(min(8, len(data) - pos))
    return suffix, bytes(data)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5)
    | st.integers(min_value=10**300, max_value=10**400),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner,
                                                                 max_size=3),
    max_leaves=20)


LEAF = (st.integers(-300, 300) | st.floats() | st.booleans() | st.none() | st.text(max_size=3)
        | st.integers(min_value=10**300, max_value=10**400))
# drawing-shaped: strokes of two or three rows, with odd leaves and odd lengths among them
STROKES = st.lists(st.lists(st.lists(LEAF, max_size=6), min_size=1, max_size=4), max_size=4)


def _write(tmp_path: Path, suffix: str, data: bytes) -> Path:
    path = tmp_path / f"case{suffix}"
    path.write_bytes(data)
    return path


FUZZ = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(case=mutated())
def test_mutated_files_of_every_format(tmp_path, case):
    _check(_write(tmp_path, *case))


@FUZZ
@given(drawing=JSON | STROKES, extra=st.lists(JSON, max_size=3))
def test_arbitrary_json_in_ndjson_lines(tmp_path, drawing, extra):
    lines = [json.dumps({"word": "x", "drawing": drawing}), GOOD_LINE,
             *(json.dumps(e) for e in extra)]
    path = _write(tmp_path, ".ndjson", "\n".join(lines).encode())
    _check(path)
    # the good line among them is never lost
    assert sum(1 for _ in read_sketches(path, on_error=lambda e: None)) >= 1


@FUZZ
@given(points=JSON | STROKES, version=st.just(1) | JSON)
def test_arbitrary_json_in_documents(tmp_path, points, version):
    doc = {"format": "visketch", "version": version, "strokes": [{"points": points}]}
    _check(_write(tmp_path, ".visketch", json.dumps(doc).encode()))


@pytest.mark.slow
@settings(max_examples=EXAMPLES * 10, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=mutated())
def test_mutated_files_many(tmp_path, case):
    _check(_write(tmp_path, *case))

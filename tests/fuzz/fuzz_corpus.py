"""A malformed-input corpus, generated on the fly: every format the readers take.

``build_corpus(folder)`` writes the files and returns ``BadFile`` records: the path, the
format, and how many good sketches the file still holds (a bad line among good ones must
not cost the good ones). Nothing here is random: the same corpus every run, so a failure
can be replayed. The property-based part (hypothesis) lives in test_fuzz_readers.py.
"""

from __future__ import annotations

import gzip
import io
import json
import pickle
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

GOOD_LINE = json.dumps({"word": "cat", "key_id": "1", "drawing": [
    [[10, 200, 120, 10], [10, 10, 200, 10]], [[60, 150], [100, 100]]]})


@dataclass(frozen=True)
class BadFile:
    name: str  # unique case name (also the file's stem)
    path: Path
    fmt: str
    good: int = 0  # readable sketches the file still holds


def _ndjson(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def _nest(depth: int) -> str:
    return "[" * depth + "]" * depth


def _ndjson_cases(big: bool) -> dict[str, tuple[bytes, int]]:
    deep = 5_000_000 if big else 100_000
    raw_zigzag = {"drawing": [[[0, 255] * 20000, [0, 255] * 20000, list(range(40000))]]}
    return {
        "not_json": (_ndjson("{nope"), 0),
        "huge_int": (_ndjson(GOOD_LINE, '{"drawing": [[[' + "9" * 400 + ', 1], [1, 2]]]}',
                             GOOD_LINE), 2),
        "huge_neg_int": (_ndjson('{"drawing": [[[-' + "9" * 400 + ', 1], [1, 2]]]}'), 0),
        "deep_nesting": (_ndjson(GOOD_LINE, '{"drawing": ' + _nest(deep) + '}', GOOD_LINE), 2),
        "deep_object": (_ndjson('{"a":' * 100_000 + "1" + "}" * 100_000, GOOD_LINE), 1),
        "string_coords": (_ndjson('{"drawing": [[["1", "2"], ["3", "4"]]]}', GOOD_LINE), 1),
        "bool_coords": (_ndjson('{"drawing": [[[true, false], [true, true]]]}'), 0),
        "null_coords": (_ndjson('{"drawing": [[[null, 1], [1, 2]]]}'), 0),
        "nan_literal": (_ndjson('{"drawing": [[[NaN, 1], [1, 2]]]}', GOOD_LINE), 1),
        "inf_number": (_ndjson('{"drawing": [[[1e999, 1], [1, 2]]]}'), 0),
        "far_coords": (_ndjson('{"drawing": [[[1e300, 1], [1, 2]]]}'), 0),
        "ragged": (_ndjson('{"drawing": [[[1, 2, 3], [1, 2]]]}'), 0),
        "drawing_not_list": (_ndjson('{"drawing": 5}', '{"drawing": "abc"}', "[1, 2]"), 0),
        "empty_drawing": (_ndjson('{"drawing": []}'), 0),
        "invalid_utf8": (b'{"drawing": [[[1, 2], [3, 4]]], "word": "\xff\xfe"}\n', 0),
        "nul_bytes": (b"\x00" * 4096 + b"\n" + GOOD_LINE.encode() + b"\n", 1),
        "binary_garbage": (bytes(range(256)) * 64, 0),
        "raw_zigzag": (_ndjson(json.dumps(raw_zigzag), GOOD_LINE), 1),
        "many_points": (_ndjson(json.dumps({"drawing": [[list(range(0, 256)) * 4000,
                                                          list(range(0, 256)) * 4000]]})), 0),
        "many_strokes": (_ndjson(json.dumps({"drawing": [[[1, 2], [3, 4]]] * 300_000})), 0),
        "long_line": (b'{"drawing": [[[' + b"1," * (12_000_000 if big else 3_000_000)
                      + b"1], [1]]]}\n" + GOOD_LINE.encode() + b"\n", 1),
        "only_blank": (b"\n\n   \n", 0),
    }


def _gz_cases(big: bool) -> dict[str, tuple[bytes, int]]:
    good = gzip.compress(_ndjson(GOOD_LINE, GOOD_LINE, GOOD_LINE))
    many = gzip.compress(_ndjson(*[GOOD_LINE.replace('"1"', f'"{i}"') for i in range(3000)]))
    cut = many[: len(many) * 3 // 5]
    # what a streaming reader can still read from the cut file: its complete lines
    survive = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(cut).count(b"\n")
    bad_crc = bytearray(good)
    bad_crc[-8] ^= 0xFF  # the CRC32 of the trailer
    corrupt = bytearray(good)
    corrupt[len(corrupt) // 2] ^= 0xFF
    # a line that never ends: decompresses to far more than any sane line
    bomb = gzip.compress(b"[" * ((400 if big else 64) << 20), compresslevel=9)
    return {
        "gz_truncated": (good[: len(good) * 2 // 3], 0),
        "gz_truncated_late": (cut, survive),
        "gz_bad_crc": (bytes(bad_crc), 0),  # a failed checksum: nothing in it is trusted
        "gz_corrupt": (bytes(corrupt), None),
        "gz_not_gzip": (_ndjson(GOOD_LINE), 0),
        "gz_random": (bytes((i * 37 + 11) % 256 for i in range(5000)), 0),
        "gz_bad_lines": (gzip.compress(_ndjson(GOOD_LINE, "{x", '{"drawing": 1}', GOOD_LINE)), 2),
        "gz_bomb_line": (bomb, 0),
        "gz_huge_int": (gzip.compress(_ndjson('{"drawing": [[[' + "9" * 400 + ', 1], [1, 2]]]}',
                                              GOOD_LINE)), 1),
    }


def _doc(strokes: object, **extra: object) -> bytes:
    return json.dumps({"format": "visketch", "version": 1, "strokes": strokes, **extra}).encode()


def _visketch_cases(big: bool) -> dict[str, tuple[bytes, int]]:
    return {
        "doc_huge_int": (b'{"format": "visketch", "version": 1, "strokes": [{"points": [['
                         + b"9" * 400 + b", 1]]}]}", 0),
        "doc_huge_version": (b'{"format": "visketch", "version": ' + b"9" * 400
                             + b', "strokes": []}', 0),
        "doc_deep": (b'{"format": "visketch", "version": 1, "strokes": '
                     + _nest(100_000).encode() + b"}", 0),
        "doc_strings": (_doc([{"points": [["1", "2"], ["3", "4"]]}]), 0),
        "doc_nan": (b'{"format": "visketch", "version": 1, "strokes": '
                    b'[{"points": [[NaN, 1], [2, 3]]}]}', 0),
        "doc_bool_version": (json.dumps({"format": "visketch", "version": True,
                                         "strokes": []}).encode(), 0),
        "doc_newer": (json.dumps({"format": "visketch", "version": 99, "strokes": []}).encode(), 0),
        "doc_bad_points": (_doc([{"points": [[1, 2, 3]]}, {"points": 7}]), 0),
        "doc_bad_t": (_doc([{"points": [[1, 2], [3, 4]], "t": [1]}]), 0),
        "doc_t_strings": (_doc([{"points": [[1, 2], [3, 4]], "t": ["a", "b"]}]), 0),
        "doc_empty_strokes": (_doc([]), 0),
        "doc_not_object": (b"[1, 2, 3]", 0),
        "doc_not_json": (b"\xff\xfe\x00garbage", 0),
        "doc_many_points": (_doc([{"points": [[i % 256, i % 200] for i in range(400_000)]}]), 1),
    }


def _svg(body: str, head: str = "") -> bytes:
    return (head + '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 256 256">'
            + body + "</svg>").encode()


def _svg_cases(big: bool) -> dict[str, tuple[bytes, int]]:
    line = '<path d="M10 10 L200 200" stroke="black"/>'
    laughs = ('<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa">'
              + "".join(f'<!ENTITY {c} "{("&" + p + ";") * 10}">'
                        for p, c in zip("abcdefgh", "bcdefghi")) + "]>")
    deep = 50_000 if big else 5_000
    return {
        "svg_deep_groups": (_svg("<g>" * deep + line + "</g>" * deep), None),
        "svg_laughs": ((laughs + '<svg xmlns="http://www.w3.org/2000/svg">'
                        '<text>&i;</text>' + line + "</svg>").encode(), 0),
        "svg_external_entity": (('<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM '
                                 '"file:///etc/passwd">]><svg xmlns="http://www.w3.org/2000/svg">'
                                 '<desc>&x;</desc>' + line + "</svg>").encode(), 0),
        "svg_dtd_only": (_svg(line, '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
                                    '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">'), 0),
        "svg_arc_inf": (_svg('<path d="M10 10 A1e999 1e999 0 0 1 100 100" stroke="black"/>'),
                        0),
        "svg_arc_huge": (_svg('<path d="M10 10 A1e300 1e300 0 0 1 100 100" stroke="black"/>'),
                         0),
        "svg_rotate_inf": (_svg(f'<g transform="rotate(1e999)">{line}</g>'), 0),
        "svg_scale_inf": (_svg(f'<g transform="scale(1e999)">{line}</g>'), 0),
        "svg_scale_huge": (_svg(f'<g transform="scale(1e200)">{line}</g>'), 0),
        "svg_skew_90": (_svg(f'<g transform="skewX(90)">{line}</g>'), 0),
        "svg_matrix_nan": (_svg(f'<g transform="matrix(1e999 0 0 -1e999 0 0)">{line}</g>'), 0),
        "svg_circle_huge": (_svg('<circle cx="1" cy="1" r="1e300" stroke="black"/>'), 0),
        "svg_huge_path": (_svg('<path d="M0 0' + " c1 1 2 2 250 3" * (400_000 if big else 100_000)
                               + '" stroke="black"/>'), 0),
        "svg_many_paths": (_svg('<path d="M1 1 L9 9 L1 9"/>' * (200_000 if big else 4_000)), None),
        "svg_not_xml": (b"<svg <<<", 0),
        "svg_not_svg": (b'<?xml version="1.0"?><html/>', 0),
        "svg_nothing": (_svg('<rect width="10" height="10" fill="red"/>'), 0),
        "svg_bad_numbers": (_svg('<polyline points="1,2,x,4 5" stroke="black"/>'
                                 '<line x1="a" y1="1e999" x2="3" y2="4" stroke="black"/>'), 0),
        "svg_utf16_garbage": ("\ufeff<svg>\udcff</svg>".encode("utf-16", "surrogatepass"), 0),
    }


def _png(img: np.ndarray) -> bytes:
    import cv2

    ok, buf = cv2.imencode(".png", img)
    assert ok
    return buf.tobytes()


def _png_header(width: int, height: int, idat: bytes = b"") -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _png_cases(big: bool) -> dict[str, tuple[bytes, int]]:
    side = 20000
    row = b"\x00" + b"\xff" * side  # filter byte + a white row
    huge = zlib.compress(row * (side if big else 2000), 9)
    good = np.full((64, 64), 255, np.uint8)
    good[10:50, 30:34] = 0
    full = _png(good)
    return {
        "png_huge_pixels": (_png_header(side, side, huge), 0),
        "png_header_100k": (_png_header(100000, 100000), 0),
        "png_truncated": (full[: len(full) // 2], 0),
        "png_random": (bytes((i * 53 + 7) % 256 for i in range(3000)), 0),
        "png_blank": (_png(np.full((64, 64), 255, np.uint8)), 0),
        "png_one_pixel": (_png(np.zeros((1, 1), np.uint8)), None),
        "jpg_garbage": (b"\xff\xd8\xff\xe0" + b"\x00" * 500, 0),
    }


def _npy_bytes(arr: np.ndarray, allow_pickle: bool = False) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=allow_pickle)
    return buf.getvalue()


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


class _Evil:
    def __reduce__(self):  # unpickling would call os.getcwd (a harmless stand-in for worse)
        import os

        return (os.getcwd, ())


def _objects(*items: np.ndarray) -> np.ndarray:
    arr = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        arr[i] = item
    return arr


def _npz_cases(big: bool) -> dict[str, tuple[bytes, int]]:
    ok = np.array([[10, 10, 0], [100, 0, 0], [0, 100, 1]], np.int16)
    far = np.array([[10_000_000, 0, 0], [5, 5, 1]], np.int32)
    nan = np.array([[np.nan, 0, 0], [5, 5, 1]], np.float32)
    huge_header = (b"{'descr': '<i2', 'fortran_order': False, 'shape': (100000000000, 3), }"
                   .ljust(117) + b"\n")
    return {
        "npz_far_offsets": (_zip({"train.npy": _npy_bytes(_objects(ok, far, ok), True)}), 2),
        "npz_nan_offsets": (_zip({"train.npy": _npy_bytes(_objects(nan, ok), True)}), 1),
        "npz_pickle_payload": (_zip({"train.npy": b"\x93NUMPY\x01\x00" + b"v\x00"
                                     + b"{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"
                                     .ljust(117) + b"\n" + pickle.dumps(_Evil())}), 0),
        "npz_garbage_member": (_zip({"train.npy": b"not an npy at all"}), 0),
        "npz_truncated": (_zip({"train.npy": _npy_bytes(_objects(ok, ok), True)})[:200], 0),
        "npz_random": (bytes((i * 91 + 3) % 256 for i in range(2000)), 0),
        "npz_2d_split": (_zip({"train.npy": _npy_bytes(np.zeros((3, 3), np.int16))}), 0),
        "npz_huge_shape": (_zip({"train.npy": b"\x93NUMPY\x01\x00" + struct.pack("<H", 118)
                                 + huge_header + b"\x00" * 64}), 0),
        "npz_no_arrays": (_zip({"readme.txt": b"hello"}), 0),
    }


def _npy_cases(big: bool) -> dict[str, tuple[bytes, int]]:
    huge_header = (b"{'descr': '|u1', 'fortran_order': False, 'shape': (10000000000000, 784), }"
                   .ljust(117) + b"\n")
    return {
        "npy_is_zip": (_zip({"a.npy": _npy_bytes(np.zeros((2, 784), np.uint8))}), 0),
        "npy_wrong_dtype": (_npy_bytes(np.zeros((2, 784), np.float64)), 0),
        "npy_wrong_shape": (_npy_bytes(np.zeros((2, 5), np.uint8)), 0),
        "npy_object": (_npy_bytes(_objects(np.zeros(3)), True), 0),
        "npy_truncated": (_npy_bytes(np.full((4, 784), 255, np.uint8))[:300], 0),
        "npy_huge_shape": (b"\x93NUMPY\x01\x00" + struct.pack("<H", 118) + huge_header, 0),
        "npy_random": (bytes((i * 13 + 5) % 256 for i in range(3000)), 0),
    }


def _bin_cases(big: bool) -> dict[str, tuple[bytes, int]]:
    head = struct.Struct("<Q2sBIH")
    good = head.pack(1, b"ZZ", 1, 0, 1) + struct.pack("<H", 3) + bytes([10, 200, 100, 10, 10, 200])
    return {
        "bin_truncated": (good + good[:-3], 1),
        "bin_many_strokes": (head.pack(1, b"ZZ", 1, 0, 65535) + struct.pack("<H", 65535), 0),
        "bin_random": (bytes((i * 29 + 1) % 256 for i in range(5000)), None),
    }


FORMATS = {".ndjson": _ndjson_cases, ".ndjson.gz": _gz_cases, ".visketch": _visketch_cases,
           ".svg": _svg_cases, ".png": _png_cases, ".npz": _npz_cases, ".npy": _npy_cases,
           ".bin": _bin_cases}


def build_corpus(folder: Path, *, big: bool = False) -> list[BadFile]:
    """Write every case under ``folder``; ``big`` makes the expensive ones larger (slow run).
    ``good`` is None where a sketch may or may not survive (a reader may keep a prefix)."""
    folder.mkdir(parents=True, exist_ok=True)
    out: list[BadFile] = []
    for suffix, make in FORMATS.items():
        for name, (data, good) in make(big).items():
            path = folder / f"{name}{suffix}"
            path.write_bytes(data)
            out.append(BadFile(name, path, suffix, good))
    for name, suffix, text in (("empty", ".ndjson", b""), ("unknown", ".xyz", b"x"),
                               ("doc_as_json", ".json", b'{"format": "visketch", "version": '
                                + b"9" * 400 + b"}"), ("json_deep", ".json", b"[" * 100_000)):
        (folder / f"{name}{suffix}").write_bytes(text)
        out.append(BadFile(name, folder / f"{name}{suffix}", suffix, 0))
    (folder / "folder.ndjson").mkdir(exist_ok=True)
    out.append(BadFile("folder", folder / "folder.ndjson", ".ndjson", 0))
    link = folder / "dangling.svg"
    if not link.is_symlink():
        link.symlink_to(folder / "no-such-target.svg")
    out.append(BadFile("dangling", link, ".svg", 0))
    out.append(BadFile("missing", folder / "missing.visketch", ".visketch", 0))
    endless = folder / "endless.ndjson"  # a link to a device that never ends
    if not endless.is_symlink() and Path("/dev/zero").exists():
        endless.symlink_to("/dev/zero")
    if endless.is_symlink():
        out.append(BadFile("endless", endless, ".ndjson", 0))
    return out


def write_good_inputs(folder: Path) -> tuple[Path, Path]:
    """Two good inputs with known counts: 3 and 2 sketches."""
    folder.mkdir(parents=True, exist_ok=True)
    a, b = folder / "good_a.ndjson", folder / "good_b.ndjson"
    a.write_bytes(_ndjson(GOOD_LINE, GOOD_LINE, GOOD_LINE))
    b.write_bytes(_ndjson(GOOD_LINE, GOOD_LINE))
    return a, b

"""Look at an image file's bytes before anything decodes it.

OpenCV would allocate whatever a header claims (up to its own 2^30-pixel limit: 4 GB and
more for one image) and prints libpng's complaints about a damaged file on stderr. So the
image reader first reads the size from the header and refuses one over
``limits.MAX_PIXELS``, and walks a PNG's chunks (checksums, and the amount of compressed
pixel data against what the header promises), so that a truncated or damaged PNG is one
clear SketchError and the decoder only ever sees files it can decode.
"""

from __future__ import annotations

import struct
import zlib

from visketch_core.sketch import limits

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # PNG colour type -> samples per pixel
# Adam7 passes: (x start, y start, x step, y step)
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
          (0, 1, 1, 2))


class ImageProblem(ValueError):
    """What is wrong with an image file (one line, without the path)."""


def image_size(data: bytes) -> tuple[str, int, int]:
    """("png" | "jpeg", width, height) from the header; ImageProblem for other data or a
    size over the limit. A PNG is checked whole (see ``check_png``)."""
    if data.startswith(PNG_MAGIC):
        kind, (w, h) = "png", check_png(data)
    elif data.startswith(b"\xff\xd8"):
        kind, (w, h) = "jpeg", _jpeg_size(data)
    else:
        raise ImageProblem("not a PNG or JPEG image")
    if w <= 0 or h <= 0:
        raise ImageProblem(f"the image header gives a size of {w} x {h}")
    if w * h > limits.MAX_PIXELS:
        raise ImageProblem(f"the image is {w} x {h} pixels; at most "
                           f"{limits.MAX_PIXELS // 1_000_000} megapixels are read")
    return kind, w, h


def _row_bytes(width: int, samples: int, depth: int) -> int:
    return 1 + (width * samples * depth + 7) // 8  # a filter byte, then the packed samples


def _png_data_size(w: int, h: int, samples: int, depth: int, interlaced: bool) -> int:
    if not interlaced:
        return h * _row_bytes(w, samples, depth)
    total = 0
    for x0, y0, dx, dy in _ADAM7:
        pw, ph = (w - x0 + dx - 1) // dx, (h - y0 + dy - 1) // dy
        if pw > 0 and ph > 0:
            total += ph * _row_bytes(pw, samples, depth)
    return total


def check_png(data: bytes) -> tuple[int, int]:
    """(width, height) of a PNG whose chunks are whole, whose checksums hold and whose
    compressed data holds every row; ImageProblem otherwise. The pixel data is inflated in
    pieces and counted, never kept (and only after the size passed ``MAX_PIXELS``)."""
    pos, header, idat = len(PNG_MAGIC), None, zlib.decompressobj()
    inflated, need = 0, 0
    while True:
        if pos + 8 > len(data):
            raise ImageProblem("the PNG is truncated (no IEND chunk)")
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        crc = data[pos + 8 + length:pos + 12 + length]
        if len(body) < length or len(crc) < 4:
            raise ImageProblem(f"the PNG is truncated (in a {kind!r} chunk)")
        if zlib.crc32(kind + body) & 0xFFFFFFFF != struct.unpack(">I", crc)[0]:
            raise ImageProblem(f"the PNG is damaged (checksum of a {kind!r} chunk)")
        pos += 12 + length
        if kind == b"IHDR":
            if length != 13:
                raise ImageProblem("the PNG header is malformed")
            w, h, depth, ctype, _c, _f, interlace = struct.unpack(">IIBBBBB", body)
            if ctype not in _CHANNELS or depth not in (1, 2, 4, 8, 16):
                raise ImageProblem("the PNG header is malformed")
            header = (w, h)
            if w * h > limits.MAX_PIXELS:
                return header  # image_size refuses it; no need to read further
            need = _png_data_size(w, h, _CHANNELS[ctype], depth, interlace == 1)
        elif kind == b"IDAT":
            if header is None:
                raise ImageProblem("the PNG has pixel data before its header")
            try:
                chunk = idat.decompress(body, 1 << 20)
                while chunk:
                    inflated += len(chunk)
                    chunk = idat.decompress(idat.unconsumed_tail, 1 << 20)
            except zlib.error:
                raise ImageProblem("the PNG's pixel data is corrupt") from None
        elif kind == b"IEND":
            break
    if header is None:
        raise ImageProblem("the PNG has no header chunk")
    if inflated < need:
        raise ImageProblem(f"the PNG is truncated (pixel data for {inflated * header[1] // need}"
                           f" of {header[1]} rows)")
    return header


def _jpeg_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a JPEG's first frame header (SOFn)."""
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise ImageProblem("the JPEG is damaged (no marker where one belongs)")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2:pos + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            if pos + 9 > len(data):
                break
            h, w = struct.unpack(">HH", data[pos + 5:pos + 9])
            return w, h
        pos += 2 + length
    raise ImageProblem("the JPEG is truncated or damaged (no frame header)")

"""SVG: a reader that turns vector drawings into strokes, and a writer for sketches.

The reader takes ``path`` (all commands, absolute and relative: M L H V C S Q T A Z),
``polyline``, ``polygon`` and ``line`` elements, plus ``rect``, ``circle`` and ``ellipse``
when they are stroked (a filled-only shape is a background, not a stroke). Curves and arcs
are flattened into points; ``transform`` attributes (matrix, translate, scale, rotate,
skewX, skewY) compose down the tree. Every subpath becomes one stroke, in the SVG's user
units (y down, as in images). Malformed path data keeps what came before the error, as
browsers do; a file with nothing drawable is a SketchError.

Files are parsed by defusedxml with DTDs, entities and external references forbidden: an
SVG is data from anywhere, and entity expansion or a ``file://`` reference must never be
resolved. Numbers out of range (``1e999``, a transform that overflows) and drawings over
``limits.MAX_POINTS`` are one SketchError naming the element, never a crash.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import defusedxml.ElementTree as SafeET
import numpy as np
from defusedxml import DefusedXmlException

from visketch_core.errors import SketchError
from visketch_core.sketch import limits
from visketch_core.sketch.model import FRAME, Sketch, normalise

_NUM = re.compile(r"[\s,]*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)")
_CMD = re.compile(r"[\s,]*([MmLlHhVvCcSsQqTtAaZz])")
_FLAG = re.compile(r"[\s,]*([01])")
_TRANSFORM = re.compile(r"(matrix|translate|scale|rotate|skewX|skewY)\s*\(([^)]*)\)")
_SKIP = {"defs", "clipPath", "mask", "symbol", "marker", "pattern", "title", "desc",
         "metadata", "style", "script", "text", "linearGradient", "radialGradient", "filter"}
_ARGS = {"M": 2, "L": 2, "H": 1, "V": 1, "C": 6, "S": 4, "Q": 4, "T": 2, "A": 7, "Z": 0}


def _tag(el: ET.Element) -> str:
    return el.tag.rsplit("}", 1)[-1] if isinstance(el.tag, str) else ""


def _attr(el: ET.Element, name: str) -> str | None:
    """An attribute, or the same property inside ``style="a: b; ..."`` (style wins)."""
    for decl in (el.get("style") or "").split(";"):
        key, _, value = decl.partition(":")
        if key.strip() == name:
            return value.strip()
    return el.get(name)


def _num(text: str | None, default: float = 0.0) -> float:
    m = _NUM.match(text or "")
    return float(m.group(1)) if m else default


class _OutOfRange(ValueError):
    """A number or a result an element's geometry cannot use."""


def parse_transform(text: str | None) -> np.ndarray:
    """An SVG ``transform`` attribute -> float64 (3, 3) matrix (identity when absent).
    ValueError for a number that is not finite."""
    out = np.eye(3)
    for name, args in _TRANSFORM.findall(text or ""):
        v = [float(x) for x in _NUM.findall(args)]
        if not all(math.isfinite(x) for x in v):
            raise _OutOfRange(f"transform {name}() has a number out of range")
        m = np.eye(3)
        if name == "matrix" and len(v) == 6:
            m[:2] = [[v[0], v[2], v[4]], [v[1], v[3], v[5]]]
        elif name == "translate" and v:
            m[:2, 2] = [v[0], v[1] if len(v) > 1 else 0.0]
        elif name == "scale" and v:
            m[0, 0], m[1, 1] = v[0], v[1] if len(v) > 1 else v[0]
        elif name == "rotate" and v:
            a = math.radians(v[0])
            cx, cy = (v[1], v[2]) if len(v) >= 3 else (0.0, 0.0)
            r = np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])
            t = np.array([[1, 0, cx], [0, 1, cy], [0, 0, 1.0]])
            m = t @ r @ np.linalg.inv(t)
        elif name == "skewX" and v:
            m[0, 1] = math.tan(math.radians(v[0]))
        elif name == "skewY" and v:
            m[1, 0] = math.tan(math.radians(v[0]))
        out = out @ m
    return out


def _bezier(ctrl: np.ndarray, scale: float) -> np.ndarray:
    """Points of a Bezier curve (control points (K, 2)), excluding its start."""
    length = float(np.hypot(*np.diff(ctrl, axis=0).T).sum()) * scale
    n = int(np.clip(np.ceil(length / 2.0), 2, 100))
    t = np.linspace(0.0, 1.0, n + 1)[1:, None]
    if len(ctrl) == 3:
        return (1 - t) ** 2 * ctrl[0] + 2 * (1 - t) * t * ctrl[1] + t**2 * ctrl[2]
    return ((1 - t) ** 3 * ctrl[0] + 3 * (1 - t) ** 2 * t * ctrl[1]
            + 3 * (1 - t) * t**2 * ctrl[2] + t**3 * ctrl[3])


def _arc(p0: np.ndarray, rx: float, ry: float, phi: float, large: bool, sweep: bool,
         p1: np.ndarray, scale: float) -> np.ndarray:
    """Points of an elliptical arc from p0 to p1 (SVG endpoint parameterisation), without p0."""
    rx, ry = abs(rx), abs(ry)
    if np.allclose(p0, p1):
        return np.zeros((0, 2))
    if rx == 0 or ry == 0:
        return p1[None].copy()
    c, s = math.cos(math.radians(phi)), math.sin(math.radians(phi))
    hx, hy = (p0 - p1) / 2
    x1, y1 = c * hx + s * hy, -s * hx + c * hy
    lam = x1**2 / rx**2 + y1**2 / ry**2
    if lam > 1:  # radii too small to reach: scale them up, as the spec says
        rx, ry = rx * math.sqrt(lam), ry * math.sqrt(lam)
    num = rx**2 * ry**2 - rx**2 * y1**2 - ry**2 * x1**2
    den = rx**2 * y1**2 + ry**2 * x1**2
    coef = math.sqrt(max(num, 0.0) / den) * (-1 if large == sweep else 1)
    cxp, cyp = coef * rx * y1 / ry, -coef * ry * x1 / rx
    mid = (p0 + p1) / 2
    cx, cy = c * cxp - s * cyp + mid[0], s * cxp + c * cyp + mid[1]
    ux, uy = (x1 - cxp) / rx, (y1 - cyp) / ry
    vx, vy = (-x1 - cxp) / rx, (-y1 - cyp) / ry
    theta = math.atan2(uy, ux)
    delta = math.atan2(ux * vy - uy * vx, ux * vx + uy * vy)
    if not sweep and delta > 0:
        delta -= 2 * math.pi
    elif sweep and delta < 0:
        delta += 2 * math.pi
    n = int(np.clip(np.ceil(abs(delta) * max(rx, ry) * scale / 2.0), 4, 100))
    t = theta + delta * np.linspace(0, 1, n + 1)[1:]
    x = cx + rx * c * np.cos(t) - ry * s * np.sin(t)
    y = cy + rx * s * np.cos(t) + ry * c * np.sin(t)
    return np.stack([x, y], axis=1)


def parse_path_data(d: str, scale: float = 1.0) -> list[np.ndarray]:
    """SVG path data -> one float64 (N, 2) array per subpath (curves flattened; ``scale``
    is the drawing's magnification, used to pick how finely to flatten). Stops at the
    first malformed command and keeps what came before."""
    subpaths: list[list[np.ndarray]] = []
    drawn: list[bool] = []  # a subpath that is only a moveto draws nothing
    cur = np.zeros(2)
    start = np.zeros(2)
    last_ctrl: np.ndarray | None = None  # for S/T reflection
    last_cmd = ""
    pos, cmd = 0, ""
    done = 0  # points of the finished subpaths: a short string of curves can ask for millions

    def new_subpath(at: np.ndarray) -> None:
        nonlocal done
        done += len(subpaths[-1]) if subpaths else 0
        subpaths.append([at.copy()])
        drawn.append(False)

    while True:
        if subpaths and done + len(subpaths[-1]) > limits.MAX_POINTS:
            raise limits.LimitError(f"path data makes over {limits.MAX_POINTS} points")
        m = _CMD.match(d, pos)
        if m:
            cmd, pos = m.group(1), m.end()
        elif not cmd or cmd in "Zz" or not _NUM.match(d, pos):
            break  # end of data, or garbage
        up, rel = cmd.upper(), cmd.islower()
        args: list[float] = []
        for k in range(_ARGS[up]):
            pat = _FLAG if up == "A" and k in (3, 4) else _NUM
            mm = pat.match(d, pos)
            if not mm:
                return [np.asarray(p) for p, ok in zip(subpaths, drawn, strict=True) if ok]
            args.append(float(mm.group(1)))
            pos = mm.end()
            if not math.isfinite(args[-1]):  # 1e999: malformed, like any bad number
                return [np.asarray(p) for p, ok in zip(subpaths, drawn, strict=True) if ok]
        base = cur if rel else np.zeros(2)
        if up == "M":
            cur = base + args
            start = cur.copy()
            new_subpath(cur)
            cmd = "l" if rel else "L"  # further pairs are implicit linetos
            last_cmd, last_ctrl = "M", None
            continue
        if not subpaths:
            new_subpath(cur)
        pts = subpaths[-1]
        drawn[-1] = True
        ctrl = None
        if up == "Z":
            pts.append(start.copy())
            cur = start.copy()
            new_subpath(cur)
        elif up == "L":
            cur = base + args
            pts.append(cur.copy())
        elif up == "H":
            cur = np.array([cur[0] * rel + args[0], cur[1]])
            pts.append(cur.copy())
        elif up == "V":
            cur = np.array([cur[0], cur[1] * rel + args[0]])
            pts.append(cur.copy())
        elif up in "CS":
            if up == "C":
                c1, c2, end = base + args[0:2], base + args[2:4], base + args[4:6]
            else:
                c1 = 2 * cur - last_ctrl if last_cmd in "CS" and last_ctrl is not None else cur
                c2, end = base + args[0:2], base + args[2:4]
            pts.extend(_bezier(np.array([cur, c1, c2, end]), scale))
            cur, ctrl = end, c2
        elif up in "QT":
            if up == "Q":
                c1, end = base + args[0:2], base + args[2:4]
            else:
                c1 = 2 * cur - last_ctrl if last_cmd in "QT" and last_ctrl is not None else cur
                end = base + args[0:2]
            pts.extend(_bezier(np.array([cur, c1, end]), scale))
            cur, ctrl = end, c1
        elif up == "A":
            end = base + args[5:7]
            pts.extend(_arc(cur, args[0], args[1], args[2], bool(args[3]), bool(args[4]), end, scale))
            cur = end
        last_cmd, last_ctrl = up, ctrl
    return [np.asarray(p) for p, ok in zip(subpaths, drawn, strict=True) if ok]


def _shape_points(el: ET.Element, tag: str, scale: float) -> list[np.ndarray]:
    if tag == "path":
        return parse_path_data(el.get("d") or "", scale)
    if tag in ("polyline", "polygon"):
        v = [float(x) for x in _NUM.findall(el.get("points") or "")]
        pts = np.asarray(v[: len(v) // 2 * 2]).reshape(-1, 2)
        if tag == "polygon" and len(pts):
            pts = np.vstack([pts, pts[:1]])
        return [pts]
    if tag == "line":
        return [np.array([[_num(el.get(k)) for k in ("x1", "y1")],
                          [_num(el.get(k)) for k in ("x2", "y2")]])]
    if tag == "rect":
        x, y, w, h = (_num(el.get(k)) for k in ("x", "y", "width", "height"))
        return [np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h], [x, y]])]
    if tag in ("circle", "ellipse"):
        cx, cy = _num(el.get("cx")), _num(el.get("cy"))
        rx = _num(el.get("r") if tag == "circle" else el.get("rx"))
        ry = _num(el.get("r") if tag == "circle" else el.get("ry"))
        n = int(np.clip(np.ceil(2 * math.pi * max(rx, ry) * scale / 2.0), 8, 100))
        t = np.linspace(0, 2 * math.pi, n + 1)
        return [np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=1)]
    return []


def _walk(root: ET.Element, out: list[np.ndarray]) -> None:
    """Collect the strokes of the tree under ``root`` into ``out``, in document order.
    Iterative (an explicit stack): 5000 nested groups must not exhaust Python's stack."""
    seen: dict[str, int] = {}
    points = 0
    stack: list[tuple[ET.Element, np.ndarray, bool]] = [(root, np.eye(3), False)]
    while stack:
        el, matrix, stroked = stack.pop()
        tag = _tag(el)
        seen[tag] = seen.get(tag, 0) + 1
        if tag in _SKIP or _attr(el, "display") == "none" or _attr(el, "visibility") == "hidden":
            continue
        try:
            transform = el.get("transform")
            if transform:  # (most elements have none: no matrix product for them)
                matrix = matrix @ parse_transform(transform)
                if not np.all(np.isfinite(matrix)):
                    raise _OutOfRange("its transforms overflow")
            stroke = _attr(el, "stroke")
            stroked = stroked if stroke is None else stroke != "none"
            if tag not in ("rect", "circle", "ellipse") or stroked:  # filled-only: background
                for pts in _element_strokes(el, tag, matrix):
                    points += len(pts)
                    limits.check_counts(len(out) + 1, points)
                    out.append(pts)
        except limits.LimitError as e:
            raise limits.LimitError(f"<{tag}> number {seen[tag]}: {e}") from None
        except _OutOfRange as e:
            raise _OutOfRange(f"<{tag}> number {seen[tag]}: {e}") from None
        except (ValueError, OverflowError, ZeroDivisionError, FloatingPointError) as e:
            # (math on numbers near the float limit: "math domain error", NaN to int)
            raise _OutOfRange(f"<{tag}> number {seen[tag]}: numbers out of range "
                              f"({e})") from None
        stack.extend((child, matrix, stroked) for child in reversed(el))


def _element_strokes(el: ET.Element, tag: str, matrix: np.ndarray) -> list[np.ndarray]:
    """One element's strokes in the root's coordinates (float32)."""
    scale = math.sqrt(abs(np.linalg.det(matrix[:2, :2]))) or 1.0
    strokes = []
    for pts in _shape_points(el, tag, min(scale, 1e6)):
        if len(pts) == 0:
            continue
        if not np.all(np.isfinite(pts)):
            raise _OutOfRange("numbers out of range")
        pts = pts @ matrix[:2, :2].T + matrix[:2, 2]
        if not np.all(np.isfinite(pts)) or float(np.abs(pts).max()) > limits.MAX_COORD:
            raise _OutOfRange(f"coordinates beyond {limits.MAX_COORD:g} once transformed")
        # drop consecutive duplicates, keep at least one point
        keep = np.concatenate([[True], np.any(np.diff(pts, axis=0) != 0, axis=1)])
        strokes.append(pts[keep].astype(np.float32))
    return strokes


def read_svg(path: str | Path) -> Sketch:
    """Read an SVG file into one Sketch (strokes in user units). SketchError (one line) if
    the file is not SVG/XML, uses a DTD or entities, is over the limits, or has nothing
    drawable."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            data = limits.read_text_limited(fh)
        root = SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True,
                                 forbid_external=True)
    except DefusedXmlException as e:
        what = "a DTD (<!DOCTYPE ...>)" if "DTD" in type(e).__name__ else "entities"
        raise SketchError(f"the SVG uses {what}: these are not read, for safety",
                          path=path) from None
    except ET.ParseError as e:
        raise SketchError(f"not valid SVG/XML ({e})", path=path) from None
    except limits.LimitError as e:
        raise SketchError(str(e), path=path) from None
    except OSError as e:
        raise SketchError(f"cannot read file ({e.strerror})", path=path) from None
    if _tag(root) != "svg":
        raise SketchError(f"not an SVG file (root element <{_tag(root)}>)", path=path)
    strokes: list[np.ndarray] = []
    try:
        with np.errstate(all="ignore"):  # overflows become inf, checked and reported above
            _walk(root, strokes)
    except ValueError as e:  # _OutOfRange and LimitError
        raise SketchError(str(e), path=path) from None
    if not strokes:
        raise SketchError("SVG has no paths, lines or polylines to read", path=path)
    sketch = Sketch(strokes=strokes, source=str(path))
    try:
        sketch.validate()
    except ValueError as e:
        raise SketchError(str(e), path=path) from None
    return sketch


def _fmt(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".") or "0"


def sketch_to_svg(sketch: Sketch, *, width: float = 3.0, ink: str = "#111111",
                  size: int = FRAME) -> str:
    """SVG text for a stroke sketch: a white background rect, then each stroke as a
    ``<path d="M x y L ...">`` (round caps and joins, no fill), viewBox ``0 0 size size``.
    A sketch that does not fit the frame is normalised first; a single-point stroke is
    written as a zero-length segment so its round cap draws a dot."""
    if sketch.num_points == 0:
        raise SketchError("nothing to write: the sketch has no strokes")
    x0, y0, x1, y1 = sketch.bounds()
    if min(x0, y0) < 0 or max(x1, y1) > size:
        sketch = normalise(sketch, size=size)
    paths = []
    for s in sketch.strokes:
        if len(s) == 0:
            continue
        pts = s if len(s) > 1 else np.vstack([s, s])
        d = "M" + " L".join(f"{_fmt(x)} {_fmt(y)}" for x, y in pts)
        paths.append(f'  <path d="{d}"/>')
    return "\n".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
        f'viewBox="0 0 {size} {size}">',
        f'<rect width="{size}" height="{size}" fill="#ffffff"/>',
        f'<g fill="none" stroke="{ink}" stroke-width="{_fmt(width)}" '
        'stroke-linecap="round" stroke-linejoin="round">',
        *paths,
        "</g>",
        "</svg>",
        "",
    ])


def write_svg(sketch: Sketch, path: str | Path, *, width: float = 3.0) -> None:
    """Write ``sketch_to_svg(sketch)`` to ``path`` (UTF-8)."""
    Path(path).write_text(sketch_to_svg(sketch, width=width), encoding="utf-8")

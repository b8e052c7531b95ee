"""Rasters back into strokes: threshold, thin to a skeleton, trace it, simplify.

Used to turn a generated raster (or SDF) into strokes for the canvas and for SVG export.

1. ink = raster > threshold (or sdf < 0); ink specks below ``min_area`` pixels are dropped;
2. Zhang-Suen thinning, vectorised: each sub-iteration computes every pixel's 8-neighbour
   code at once and looks the decision up in a 256-entry table; then staircase corners
   are removed so that the skeleton is one pixel thin in the 8-connected sense;
3. the skeleton is walked into polylines between endpoints and junctions (closed loops too);
   spurs shorter than ``min_length`` are pruned and the pieces meeting at a junction that
   is left with two branches are joined;
4. Ramer-Douglas-Peucker (``geometry.simplify``) with ``epsilon``.
"""

from __future__ import annotations

from collections import defaultdict

import cv2
import numpy as np

from visketch_core.geometry.simplify import polyline_length, rdp
from visketch_core.sketch.model import FRAME, Sketch

# 8 neighbours clockwise from north, as Zhang-Suen's P2..P9: (dy, dx)
_RING = ((-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1))


def _tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Deletion tables (bool (256,)) for Zhang-Suen's two sub-iterations and for corners."""
    codes = np.arange(256)
    p = [(codes >> i) & 1 for i in range(8)]  # p[0] = P2 (north) ... p[7] = P9 (north-west)
    b = sum(p)
    a = sum((p[i] == 0) & (p[(i + 1) % 8] == 1) for i in range(8))
    base = (b >= 2) & (b <= 6) & (a == 1)
    n, e, s, w = p[0], p[2], p[4], p[6]
    step1 = base & (n * e * s == 0) & (e * s * w == 0)
    step2 = base & (n * e * w == 0) & (n * s * w == 0)
    # staircase corner: two 4-neighbours at a right angle, and the neighbours form one
    # 8-connected group without the pixel (so removing it disconnects nothing)
    corner = np.zeros(256, dtype=bool)
    for c in range(256):
        on = [(c >> i) & 1 for i in range(8)]
        if not any(on[k] and on[(k + 2) % 8] for k in (0, 2, 4, 6)):
            continue
        groups = 0
        seen = [False] * 8
        for i in range(8):
            if on[i] and not seen[i]:
                groups += 1
                stack = [i]
                seen[i] = True
                while stack:
                    j = stack.pop()
                    nbrs = [(j + 1) % 8, (j - 1) % 8]
                    if j % 2 == 0:  # a 4-neighbour also touches the next 4-neighbours
                        nbrs += [(j + 2) % 8, (j - 2) % 8]
                    for k in nbrs:
                        if on[k] and not seen[k]:
                            seen[k] = True
                            stack.append(k)
        corner[c] = groups == 1
    return step1, step2, corner


_STEP1, _STEP2, _CORNER = _tables()


def _codes(m: np.ndarray) -> np.ndarray:
    """Neighbour code (uint8) of every interior pixel of a zero-padded uint8 mask (H, W)."""
    h, w = m.shape
    code = np.zeros((h - 2, w - 2), dtype=np.uint8)
    for bit, (dy, dx) in enumerate(_RING):
        code |= m[1 + dy : h - 1 + dy, 1 + dx : w - 1 + dx] << bit
    return code


def thin(mask: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning plus corner removal. bool (H, W) -> bool (H, W) skeleton."""
    mask = np.asarray(mask, dtype=bool)
    out = np.zeros_like(mask)
    ys, xs = np.nonzero(mask)
    if len(ys) == 0:
        return out
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    m = np.zeros((y1 - y0 + 2, x1 - x0 + 2), dtype=np.uint8)  # crop + 1 px zero border
    m[1:-1, 1:-1] = mask[y0:y1, x0:x1]
    inner = m[1:-1, 1:-1]  # a view: edits land in m
    while True:
        changed = False
        for table in (_STEP1, _STEP2):
            kill = table[_codes(m)] & (inner == 1)
            if kill.any():
                inner[kill] = 0
                changed = True
        if not changed:
            break
    # corners, in four phases on a 2x2 grid so that no two removed pixels touch
    rr, cc = np.indices(inner.shape)
    for py in (0, 1):
        for px in (0, 1):
            kill = _CORNER[_codes(m)] & (inner == 1) & (rr % 2 == py) & (cc % 2 == px)
            inner[kill] = 0
    out[y0:y1, x0:x1] = inner.astype(bool)
    return out


def trace(skeleton: np.ndarray) -> list[np.ndarray]:
    """Walk a one-pixel skeleton (bool (H, W)) into polylines of pixel positions.

    Returns int (N, 2) arrays of (row, col). Polylines run between nodes (endpoints and
    junctions, i.e. pixels without exactly two neighbours); closed loops start and end on
    the same pixel; an isolated pixel is a one-point polyline.
    """
    h, w = skeleton.shape
    pad = np.zeros((h + 2, w + 2), dtype=np.uint8)
    pad[1:-1, 1:-1] = skeleton
    wp = w + 2
    offs = [dy * wp + dx for dy, dx in _RING]
    deg = np.zeros_like(pad)
    deg[1:-1, 1:-1] = sum(pad[1 + dy : h + 1 + dy, 1 + dx : w + 1 + dx] for dy, dx in _RING)
    on = pad.ravel().astype(bool).tolist()
    flat_deg = deg.ravel()
    node_idx = np.flatnonzero(pad.ravel().astype(bool) & (flat_deg != 2))
    is_node = [False] * len(on)
    for q in node_idx.tolist():
        is_node[q] = True
    visited = [False] * len(on)
    paths: list[list[int]] = []

    def walk(first: int, second: int) -> list[int]:
        """Follow two-neighbour pixels from ``first`` via ``second`` to a node (or back to
        ``first``, for a loop)."""
        path, prev, cur = [first, second], first, second
        visited[second] = True
        while not is_node[cur]:
            nxt = -1
            for o in offs:
                r = cur + o
                if on[r] and r != prev and (is_node[r] or r == first or not visited[r]):
                    nxt = r
                    break
            if nxt < 0:
                break
            path.append(nxt)
            if is_node[nxt] or nxt == first:
                break
            visited[nxt] = True
            prev, cur = cur, nxt
        return path

    for n in node_idx.tolist():
        if flat_deg[n] == 0:
            paths.append([n])
            continue
        for o in offs:
            q = n + o
            if not on[q]:
                continue
            if is_node[q]:
                if n < q:
                    paths.append([n, q])
            elif not visited[q]:
                paths.append(walk(n, q))
    # what is left unvisited lies on closed loops without nodes
    for q in np.flatnonzero(pad.ravel().astype(bool) & (flat_deg == 2)).tolist():
        if not visited[q]:
            visited[q] = True
            nxt = next(q + o for o in offs if on[q + o])
            paths.append(walk(q, nxt))
    out = []
    for p in paths:
        arr = np.asarray(p, dtype=np.int64)
        out.append(np.stack([arr // wp - 1, arr % wp - 1], axis=1))
    return out


def _direction(path: np.ndarray, reach: float = 6.0) -> np.ndarray:
    """Unit vector from a polyline's first point towards its point ``reach`` px along."""
    d = np.hypot(*(path - path[0]).T)
    far = np.flatnonzero(d >= reach)
    v = path[far[0] if len(far) else -1] - path[0]
    n = float(np.hypot(*v))
    return v / n if n > 0 else v


def _extend(path: np.ndarray, mask: np.ndarray, half_width: float) -> np.ndarray:
    """Thinning eats into stroke ends: push the first point outwards along the stroke's
    direction to where the ink ends, less the stroke's half width (the cap adds it back)."""
    if len(path) < 2:
        return path
    u = -_direction(path)
    h, w = mask.shape
    step = 0.0
    while True:
        x, y = path[0] + u * (step + 0.5)
        xi, yi = int(round(x)), int(round(y))
        if not (0 <= xi < w and 0 <= yi < h and mask[yi, xi]) or step > 4 * half_width + 4:
            break
        step += 0.5
    grow = step - half_width
    if grow <= 0.5:
        return path
    return np.vstack([path[:1] + u * grow, path[1:]])


def _chains(paths: list[np.ndarray], links: dict[tuple[int, int], tuple[int, int]]) -> list[np.ndarray]:
    """Concatenate polylines along ``links`` ((path, end) <-> (path, end), end 0 = first
    point, 1 = last); each path is used once, a chain that comes back on itself closes."""
    used = [False] * len(paths)
    out = []

    def run(i: int, enter: int) -> np.ndarray:
        pieces = []
        while not used[i]:
            used[i] = True
            p = paths[i] if enter == 0 else paths[i][::-1]
            pieces.append(p if not pieces else p[1:])
            nxt = links.get((i, 1 - enter))
            if nxt is None:
                break
            i, enter = nxt
        return np.concatenate(pieces)

    starts = [(i, e) for i in range(len(paths)) for e in (0, 1) if (i, e) not in links]
    for i, e in starts:  # open chains first, from a free end
        if not used[i]:
            out.append(run(i, e))
    for i in range(len(paths)):  # what is left is closed
        if not used[i]:
            out.append(run(i, 0))
    return out


def vectorise(
    image: np.ndarray,
    *,
    sdf: bool = False,
    threshold: float = 0.5,
    epsilon: float = 1.0,
    min_length: float = 4.0,
    min_area: int = 4,
    straight: float = 0.7,
    fill_holes: int = 0,
    fill_slits: float = 0.0,
    label: str | None = None,
) -> Sketch:
    """Trace an ink raster (float (H, W), 1 = ink) or an SDF (``sdf=True``: ink where < 0)
    into centre-line strokes.

    Returns a Sketch whose strokes are float32 (N_i, 2) (x, y) in FRAME coordinates, scaled
    so that ``render(result, size=H)`` lands on the input's pixels. At a junction, branches
    that continue each other (cosine of their angle below ``-straight``) become one stroke.
    Dots become one-point strokes; ink specks under ``min_area`` pixels and dangling spurs
    shorter than ``min_length`` pixels are dropped. Holes in the ink of at most
    ``fill_holes`` pixels are filled first (a thick generated line with a pinhole would
    otherwise trace as a tiny loop), and so are enclosed slits no wider than twice
    ``fill_slits`` pixels anywhere (two lines drawn too close, which would trace as a thin
    doubled loop). An empty image gives an empty Sketch.
    """
    img = np.asarray(image, dtype=np.float32)
    if img.ndim != 2:
        raise ValueError(f"expected a (H, W) image, got shape {img.shape}")
    mask = (img < 0) if sdf else (img > threshold)
    if not mask.any():
        return Sketch(strokes=[], label=label)
    if min_area > 1:
        _, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
        small = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] < min_area)
        small = small[small > 0]
        if len(small):
            mask &= ~np.isin(labels, small)
    if fill_holes > 0 or fill_slits > 0:
        n, holes, hstats, _ = cv2.connectedComponentsWithStats((~mask).astype(np.uint8),
                                                               connectivity=4)
        touches = np.unique(np.concatenate([holes[0], holes[-1], holes[:, 0], holes[:, -1]]))
        small = hstats[:, cv2.CC_STAT_AREA] <= fill_holes
        if fill_slits > 0:
            dist = cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, 3)
            widest = np.zeros(n, np.float32)
            order = np.argsort(dist, axis=None, kind="stable")   # the last write is the max
            widest[holes.ravel()[order]] = dist.ravel()[order]
            small |= widest <= fill_slits
        small = np.setdiff1d(np.flatnonzero(small), np.append(touches, 0))
        if len(small):
            mask |= np.isin(holes, small)
    skel = thin(mask)
    deg = cv2.filter2D(skel.astype(np.uint8), -1, np.ones((3, 3), np.float32),
                       borderType=cv2.BORDER_CONSTANT).astype(np.int64) - skel
    # junction clusters: touching junction pixels are one junction, at their centroid
    junction = (skel & (deg >= 3)).astype(np.uint8)
    _, cluster, _, centroids = cv2.connectedComponentsWithStats(junction, connectivity=8)
    half = cv2.distanceTransform(np.pad(mask, 1).astype(np.uint8), cv2.DIST_L2, 3)[1:-1, 1:-1]

    paths: list[np.ndarray] = []
    end_cluster: list[tuple[int, int]] = []
    for p in trace(skel):
        c0, c1 = int(cluster[p[0][0], p[0][1]]), int(cluster[p[-1][0], p[-1][1]])
        if c0 and c0 == c1 and len(p) <= 3:
            continue  # a link inside one junction cluster
        free0, free1 = deg[p[0][0], p[0][1]] <= 1, deg[p[-1][0], p[-1][1]] <= 1
        xy = p[:, ::-1].astype(np.float64)  # (row, col) -> (x, y)
        if (free0 and c1 or free1 and c0) and len(p) >= 2 and polyline_length(xy) < min_length:
            continue  # a dangling spur
        if c0:
            xy = np.vstack([centroids[c0], xy])
        if c1 and len(p) > 1:
            xy = np.vstack([xy, centroids[c1]])
        if free0 and len(p) > 1:
            xy = _extend(xy, mask, float(half[p[0][0], p[0][1]]))
        if free1 and len(p) > 1:
            xy = _extend(xy[::-1], mask, float(half[p[-1][0], p[-1][1]]))[::-1]
        paths.append(xy)
        end_cluster.append((c0, c1 if len(p) > 1 else 0))
    # pair the branches at each junction: two branches always join, more join by straightness
    at: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for i, (c0, c1) in enumerate(end_cluster):
        for e, c in ((0, c0), (1, c1)):
            if c:
                at[c].append((i, e))
    links: dict[tuple[int, int], tuple[int, int]] = {}
    for ends in at.values():
        if len(ends) == 2:
            pairs = [(0.0, ends[0], ends[1])]
        else:
            dirs = [_direction(paths[i] if e == 0 else paths[i][::-1]) for i, e in ends]
            pairs = sorted(
                (float(dirs[a] @ dirs[b]), ends[a], ends[b])
                for a in range(len(ends)) for b in range(a + 1, len(ends))
            )
            pairs = [q for q in pairs if q[0] < -straight]
        for _, a, b in pairs:
            if a not in links and b not in links and a != b:
                links[a], links[b] = b, a
    scale = FRAME / img.shape[0]
    strokes = [(rdp(p, epsilon) * scale).astype(np.float32) for p in _chains(paths, links)]
    return Sketch(strokes=strokes, label=label)

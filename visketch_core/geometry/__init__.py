"""Sketch geometry: raster, SDF, quadtree, per-leaf contexts and vectorising."""

from __future__ import annotations

from visketch_core.geometry.config import GeometryConfig
from visketch_core.geometry.context import Contexts, build_contexts
from visketch_core.geometry.quadtree import Quadtree, build_quadtree
from visketch_core.geometry.raster import render
from visketch_core.geometry.sdf import ink_from_sdf, sdf_from_ink

__all__ = [
    "Contexts",
    "GeometryConfig",
    "Quadtree",
    "build_contexts",
    "build_quadtree",
    "ink_from_sdf",
    "preprocess",
    "render",
    "sdf_from_ink",
]


def preprocess(sketch, cfg: GeometryConfig | None = None) -> Contexts:
    """Strokes (or raster) -> normalised -> raster -> SDF -> quadtree -> contexts."""
    from visketch_core.sketch.model import normalise

    cfg = cfg or GeometryConfig()
    sk = normalise(sketch, size=cfg.size, margin=cfg.margin)
    ink = render(sk, size=cfg.size, width=cfg.line_width)
    sdf = sdf_from_ink(ink, scale=cfg.sdf_scale)
    tree = build_quadtree(ink, cfg)
    return build_contexts(sdf, tree, cfg)

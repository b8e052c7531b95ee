"""One frozen config for all sketch geometry (raster, SDF, quadtree, contexts)."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class GeometryConfig:
    """Geometry defaults; see docs/method.md for why each value was chosen.

    size: canvas side in pixels (the normalised frame).
    margin: free border kept by ``normalise``.
    line_width: stroke width of the anti-aliased raster, in pixels at ``size``.
    sdf_scale: SDF distances are divided by this and clipped to [-1, 1].
    depth: number of quadtree levels (256/128/64/32 px at the defaults).
    patch: side of every patch fed to the models (leaves and context cells alike).
    min_ink: a node splits while larger than the leaf size and holding >= min_ink ink pixels.
    ink_threshold: raster value above which a pixel counts as ink.
    """

    size: int = 256
    margin: int = 16
    line_width: float = 3.0
    sdf_scale: float = 16.0
    depth: int = 4
    patch: int = 32
    min_ink: int = 24
    ink_threshold: float = 0.5

    def __post_init__(self) -> None:
        assert self.size == self.patch * 2 ** (self.depth - 1), "size must be patch * 2**(depth-1)"
        assert self.sdf_scale > 0 and self.line_width > 0

    @property
    def leaf_size(self) -> int:
        """Side in pixels of the finest quadtree cells."""
        return self.size // 2 ** (self.depth - 1)

    @property
    def num_nodes(self) -> int:
        """Cells over all levels: 1 + 4 + 16 + 64 = 85 at depth 4."""
        return sum(4**k for k in range(self.depth))

    @property
    def context_len(self) -> int:
        """Tokens per leaf context, without the CLS token (D levels x 9 neighbours)."""
        return self.depth * 9

    def to_dict(self) -> dict:
        return asdict(self)

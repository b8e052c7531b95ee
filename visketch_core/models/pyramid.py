"""A convolutional feature pyramid over the whole sketch whose cells line up with the quadtree.

One CNN reads the sketch once, at ``size`` px (64 by default), from two planes made of the
finest level's node patches (which tile the 256 px SDF exactly): the ink share of every
pixel (an anti-aliased render, what a plain CNN sees) and the SDF itself. Its stages halve
the resolution until the map has one cell per quadtree node of a level:

    64 px --block--> 32 --block--> 16 --block--> 8x8   (level 3, 32 px nodes)
                                     --block--> 4x4   (level 2)
                                     --block--> 2x2   (level 1)
                                     mean      1x1   (level 0)

so a node's embedding is its own cell's feature, projected to the model width, with the
node table's order ((4**k - 1) // 3 + r * 2**k + c). The first four blocks are the plain
CNN's body (``models/cnn.py``); the global-average-pooled 4x4 map is what that CNN
classifies, which is how the benchmark compares the two heads on one backbone.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
    )


def sketch_planes(patches: torch.Tensor, depth: int, size: int) -> torch.Tensor:
    """(B, M, P, P) node SDF patches -> (B, 2, size, size): ink share and SDF of the sketch.

    The finest level's ``4**(depth-1)`` patches are the full-resolution SDF cut in a grid;
    they are put back together, then area-averaged down to ``size``.
    """
    B, M, P, _ = patches.shape
    n = 2 ** (depth - 1)
    first = (4 ** (depth - 1) - 1) // 3
    fine = patches[:, first:first + n * n].float()                 # (B, n*n, P, P)
    sdf = fine.view(B, n, n, P, P).permute(0, 1, 3, 2, 4).reshape(B, 1, n * P, n * P)
    ink = (sdf < 0).float()
    x = torch.cat([ink, sdf], 1)
    f = (n * P) // size
    return F.avg_pool2d(x, f) if f > 1 else x


class FeaturePyramid(nn.Module):
    """forward(planes (B, 2, S, S)) -> list of per-level maps, coarsest first:
    [(B, C4, 1, 1), (B, C4, 2, 2), (B, C4, 4, 4), (B, C3, 8, 8)] for depth 4 at S = 64."""

    def __init__(self, width: int = 32, depth: int = 4, size: int = 64, in_ch: int = 2):
        super().__init__()
        assert depth == 4 and size == 64, "the pyramid is laid out for depth 4 at 64 px"
        w = width
        self.depth = depth
        self.to8 = nn.Sequential(_block(in_ch, w), _block(w, 2 * w), _block(2 * w, 4 * w))
        self.to4 = _block(4 * w, 4 * w)
        self.to2 = _block(4 * w, 4 * w)
        self.channels = 4 * w

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        f8 = self.to8(x)
        f4 = self.to4(f8)
        f2 = self.to2(f4)
        f1 = f2.mean(dim=(2, 3), keepdim=True)
        return [f1, f2, f4, f8]


class PyramidEmbed(nn.Module):
    """(B, M, P, P) node patches -> (B, M, dim) node embeddings from the pyramid's cells.

    Also exposes ``pooled`` (B, C): the global average of the 4x4 map, the plain CNN's
    feature, for the "gap" head.
    """

    def __init__(self, dim: int, depth: int = 4, width: int = 32, size: int = 64):
        super().__init__()
        self.depth, self.size = depth, size
        self.backbone = FeaturePyramid(width, depth, size)
        c = self.backbone.channels
        self.proj = nn.ModuleList([nn.Linear(c, dim) for _ in range(depth)])

    def maps(self, patches: torch.Tensor) -> list[torch.Tensor]:
        return self.backbone(sketch_planes(patches, self.depth, self.size))

    def forward(self, patches: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        maps = self.maps(patches)
        nodes = [proj(m.flatten(2).transpose(1, 2)) for proj, m in zip(self.proj, maps)]
        pooled = maps[2].mean(dim=(2, 3))
        return torch.cat(nodes, 1), pooled

"""Signed distance fields of ink, and ink recovered from them."""

from __future__ import annotations

import cv2
import numpy as np


def sdf_from_ink(ink: np.ndarray, scale: float = 16.0, threshold: float = 0.5) -> np.ndarray:
    """Signed distance to the inked region, negative inside, divided by ``scale``, in [-1, 1].

    ink: float (H, W) in [0, 1]. Returns float32 (H, W). Pixel centres of ink are at
    distance <= -0.5 px, others >= +0.5 px, so ``ink_from_sdf`` inverts the threshold exactly.
    An image without ink is +1 everywhere.
    """
    mask = (np.asarray(ink) > threshold).astype(np.uint8)
    if not mask.any():
        return np.ones(mask.shape, np.float32)
    d_out = cv2.distanceTransform(1 - mask, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    d_in = cv2.distanceTransform(mask, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    sdf = np.where(mask > 0, 0.5 - d_in, d_out - 0.5)
    return np.clip(sdf * (1.0 / scale), -1.0, 1.0).astype(np.float32)


def ink_from_sdf(sdf: np.ndarray) -> np.ndarray:
    """Binary ink (float32 0/1) where the SDF is negative. Works on any shape (batched too)."""
    return (np.asarray(sdf) < 0).astype(np.float32)

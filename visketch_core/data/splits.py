"""The fixed train/validation/test split: a hash of ``key_id``, 80/10/10.

A drawing's split depends on its key_id alone, so the same drawing lands in the same split
whichever file it comes from (simplified-15, simplified-344x25, raw-samples), and adding
data never moves an existing drawing. See docs/data.md.
"""

from __future__ import annotations

import hashlib

SPLITS = ("train", "val", "test")


def split_of(key_id: str, train: int = 80, val: int = 10) -> str:
    """'train', 'val' or 'test' for a QuickDraw key_id (percentages of a sha1 bucket)."""
    h = int(hashlib.sha1(str(key_id).encode("utf-8")).hexdigest()[:8], 16) % 100
    if h < train:
        return "train"
    if h < train + val:
        return "val"
    return "test"

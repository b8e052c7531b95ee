"""The shipped generation models: they load, stream leaves, complete without touching the
user's ink, and draw sketches that the shipped classifier recognises for a few classes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from visketch_core.paths import models_dir

NEEDED = ("tokenizer.pt", "diffusion.pt", "refiner.pt")
CLASSES = ("eye", "bicycle", "headphones", "guitar")


@pytest.fixture(scope="module")
def generator():
    if not all((models_dir() / n).exists() for n in NEEDED):
        pytest.skip("generation models not shipped")
    from visketch_core.generate.pipeline import Generator

    torch.set_num_threads(2)
    return Generator.load(device="cpu")


@pytest.fixture(scope="module")
def recognizer():
    if not (models_dir() / "classifier.pt").exists():
        pytest.skip("classifier not shipped")
    from visketch_core.inference import Recognizer

    return Recognizer.load(device="cpu")


def test_shipped_generation_is_recognised(generator, recognizer):
    """Of 4 sketches per class, the classifier's top-3 holds the class for most of them
    (first drafts only: with drafts the same recognizer would have chosen them)."""
    from dataclasses import replace

    shipped = generator.sampling
    generator.sampling = replace(shipped, drafts=1)
    hits, total = 0, 0
    try:
        _recognised(generator, recognizer, hits, total)
    finally:
        generator.sampling = shipped


def _recognised(generator, recognizer, hits, total):
    for name in CLASSES:
        for r in generator.generate(name, 4, seed=11, schedule="parallel"):
            assert r.sketch.strokes, f"empty {name}"
            top = [n for n, _ in recognizer.classify(r.sketch, top_k=3).top]
            hits += name in top
            total += 1
    assert hits / total >= 0.6, f"{hits}/{total} recognised"


def test_shipped_drafts_are_judged_by_the_shipped_recognizer(generator):
    """The shipped sampling lets the recognizer beside the models ask for more drafts; a
    sketch it is sure of keeps its first draft."""
    assert generator.sampling.drafts > 1 and generator.critic is not None
    assert generator.critic.classes == generator.classes
    coarse = generator.stage1([generator.class_index("eye")] * 3, seed=2)
    tries = generator.last_drafts
    assert coarse.shape == (3, 32, 32) and all(1 <= t <= generator.sampling.drafts for t in tries)
    sure, _ = generator.judge_drafts(coarse, [generator.class_index("eye")] * 3)
    assert sure[tries < generator.sampling.drafts].all()   # kept early only when sure


def test_shipped_events_and_cancel(generator):
    from visketch_core.generate.pipeline import Finished, LeafEvent

    seen: list = []
    for ev in generator.events("cat", seed=3, schedule="sequential",
                               cancel=lambda: len(seen) >= 2):
        if isinstance(ev, LeafEvent):
            seen.append(ev)
    assert len(seen) == 2 and isinstance(ev, Finished) and ev.result.cancelled


def test_shipped_completion_keeps_user_ink(generator, quickdraw_dir):
    from visketch_core.data.augment import partial
    from visketch_core.generate.completion import complete
    from visketch_core.sketch.quickdraw import iter_ndjson

    sk = next(iter(iter_ndjson(quickdraw_dir / "bicycle.ndjson")))
    half = partial(sk, 0.5)
    for c in complete(generator, half, "bicycle", 2, seed=0):
        assert c.ink_unchanged
        k = len(half.strokes)
        assert len(c.sketch.strokes) > k
        assert all(np.allclose(a, b) for a, b in zip(c.sketch.strokes[:k],
                                                     _framed(half).strokes))


def _framed(sketch):
    from visketch_core.generate.completion import completion_frame

    return completion_frame(sketch)

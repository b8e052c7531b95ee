"""The shipped models on a CUDA GPU: the same answers as on the CPU for recognition, and
generation and completion that run there end to end. Skipped where torch sees no CUDA device
(CI has none; run them on a machine that has one)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from visketch_core.paths import default_classifier_path, models_dir

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")

GEN = ("tokenizer.pt", "diffusion.pt", "refiner.pt")


@pytest.fixture(scope="module")
def real(quickdraw_dir):
    from visketch_core.data.corpus import load_corpus
    from visketch_core.inference import Recognizer

    if not default_classifier_path().exists():
        pytest.skip("classifier not shipped")
    classes = Recognizer.load(device="cpu").classes
    return load_corpus(quickdraw_dir, "test", classes=classes, limit_per_class=2)


def test_recognizer_on_cuda_agrees_with_the_cpu(real):
    from visketch_core.inference import Recognizer

    cpu, gpu = Recognizer.load(device="cpu"), Recognizer.load(device="cuda")
    assert gpu.device_name == "CUDA"
    a, b = cpu.classify_many(real.sketches), gpu.classify_many(real.sketches)
    assert [p.label for p in a] == [p.label for p in b]
    gap = max(float(np.abs(p.probs - q.probs).max()) for p, q in zip(a, b))
    assert gap < 2e-3, f"CPU and CUDA probabilities differ by {gap:.4f}"
    leaf = max(float(np.abs(p.leaf_weights - q.leaf_weights).max()) for p, q in zip(a, b))
    assert leaf < 2e-3


@pytest.fixture(scope="module", params=["fast", "guided"])
def generator(request):
    from visketch_core.generate.pipeline import Generator

    if not all((models_dir() / n).exists() for n in GEN):
        pytest.skip("generation models not shipped")
    g = Generator.load(device="cuda", stage1=request.param)
    assert g.device.type == "cuda"
    return g


@pytest.mark.parametrize("schedule", ["sequential", "parallel"])
def test_generation_on_cuda_draws_sketches(generator, schedule):
    out = generator.generate("bicycle", 2, seed=0, schedule=schedule)
    assert len(out) == 2
    for r in out:
        assert r.sketch.strokes and not r.cancelled
        pts = np.concatenate([np.asarray(s, np.float64) for s in r.sketch.strokes])
        assert np.isfinite(pts).all()


def test_completion_on_cuda_keeps_user_ink(generator, quickdraw_dir):
    from visketch_core.data.augment import partial
    from visketch_core.generate.completion import complete, completion_frame
    from visketch_core.sketch.quickdraw import iter_ndjson

    sk = next(iter(iter_ndjson(quickdraw_dir / "cat.ndjson")))
    half = partial(sk, 0.5)
    framed = completion_frame(half)
    k = len(half.strokes)
    for c in complete(generator, half, "cat", 2, seed=0):
        assert c.ink_unchanged and len(c.sketch.strokes) >= k
        assert all(np.allclose(a, b) for a, b in zip(c.sketch.strokes[:k], framed.strokes))

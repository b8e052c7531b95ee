"""The SketchRNN decoder port: file format, sampling, and that it really draws bicycles."""

from __future__ import annotations

import base64
import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from visketch_core.errors import ModelError
from visketch_core.eval import sketchrnn
from visketch_core.sketch.model import Sketch, normalise

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT.parent / "shared" / "data" / "quickdraw" / "sketchrnn-models"
BICYCLE = MODELS / "bicycle.gen.json"
needs_models = pytest.mark.skipif(not BICYCLE.is_file(), reason="needs the sketch-rnn models")


def _b64(w: np.ndarray) -> str:
    q = np.clip(np.round(np.asarray(w, np.float64) / sketchrnn.DEQUANT), -32767, 32767)
    return base64.b64encode(q.astype("<i2").tobytes()).decode()


def _tiny_model(path: Path, mu=(1.0, 0.0), pen=(10.0, -10.0, -10.0), max_len=10,
                units: int = 4) -> Path:
    """A 4-unit, 1-mixture decoder whose LSTM is all zeros (h stays 0), so every step draws
    from the output bias: pen logits ``pen``, mean offset ``mu``, tiny sigmas."""
    nout = 3 + 6
    b_out = np.zeros(nout)
    b_out[:3] = pen
    b_out[3] = 0.0                 # mixture logit
    b_out[4], b_out[5] = mu        # mu_x, mu_y
    b_out[6] = b_out[7] = -9.0     # log sigma_x, log sigma_y
    ws = [np.zeros((units, nout)), b_out, np.zeros((5, 4 * units)),
          np.zeros((units, 4 * units)), np.zeros(4 * units)]
    info = {"name": "tiny", "scale_factor": 50.0, "max_seq_len": max_len, "mode": 2,
            "version": 6}
    path.write_text(json.dumps([info, [list(w.shape) for w in ws], [_b64(w) for w in ws]]))
    return path


def test_head_layout_on_a_hand_made_model(tmp_path):
    horiz = sketchrnn.sample(sketchrnn.load(_tiny_model(tmp_path / "h.gen.json")), 2, seed=0)
    for sk in horiz:
        assert len(sk.strokes) == 1 and len(sk.strokes[0]) == 11  # origin + 10 steps
        s = sk.strokes[0]
        assert np.allclose(s[:, 1], 128, atol=0.5)              # mu_x drives x only
        assert s[0, 0] == pytest.approx(16) and s[-1, 0] == pytest.approx(240)
    vert = sketchrnn.sample(sketchrnn.load(_tiny_model(tmp_path / "v.gen.json", mu=(0, 1))),
                            1, seed=0)[0]
    assert np.allclose(vert.strokes[0][:, 0], 128, atol=0.5)
    # pen "up" every step: 11 one-point strokes; "end" at once: an empty sketch
    dots = sketchrnn.sample(sketchrnn.load(_tiny_model(tmp_path / "u.gen.json",
                                                       pen=(-10, 10, -10))), 1, seed=0)[0]
    assert [len(s) for s in dots.strokes] == [2] + [1] * 9
    empty = sketchrnn.sample(sketchrnn.load(_tiny_model(tmp_path / "e.gen.json",
                                                        pen=(-10, -10, 10))), 1, seed=0)[0]
    assert empty.strokes == []


def test_bad_files_raise_model_error_naming_the_file(tmp_path):
    with pytest.raises(ModelError, match="missing.gen.json: .*not found"):
        sketchrnn.load(tmp_path / "missing.gen.json")
    bad = tmp_path / "bad.gen.json"
    bad.write_text("{not json")
    with pytest.raises(ModelError, match="bad.gen.json: not a readable"):
        sketchrnn.load(bad)
    bad.write_text(json.dumps({"a": 1}))
    with pytest.raises(ModelError, match="bad.gen.json: not a SketchRNN"):
        sketchrnn.load(bad)
    p = _tiny_model(tmp_path / "t.gen.json")
    info, shapes, weights = json.loads(p.read_text())
    p.write_text(json.dumps([info, shapes, weights[:2] + [weights[2][:8]] + weights[3:]]))
    with pytest.raises(ModelError, match="t.gen.json: weight 2 holds"):
        sketchrnn.load(p)
    shapes[2] = [5, 16 * 4]  # e.g. a layer-norm or hyper cell: not this decoder
    p.write_text(json.dumps([info, shapes, weights]))
    with pytest.raises(ModelError, match="t.gen.json: weight shapes"):
        sketchrnn.load(p)


def test_stroke5_round_trip():
    sk = Sketch(strokes=[np.array([[10, 10], [50, 10], [50, 40]]), np.array([[70, 70]]),
                         np.array([[0, 90], [30, 100]])])
    seq = sketchrnn.sketch_to_stroke5(sk, unit=2.0)
    assert seq.shape == (6, 5) and (seq[:, 2:].sum(1) == 1).all() and seq[-1, 4] == 1
    back = sketchrnn.stroke5_to_sketch(seq[:-1], scale=2.0)
    want = normalise(sk)
    assert [len(s) for s in back.strokes] == [3, 1, 2]
    for a, b in zip(back.strokes, want.strokes):
        assert np.allclose(a, b, atol=1e-4)


@pytest.fixture(scope="module")
def bicycle_model():
    if not BICYCLE.is_file():
        pytest.skip("needs the sketch-rnn models")
    return sketchrnn.load(BICYCLE)


@needs_models
def test_weights_decode_to_the_files_shapes(bicycle_model):
    m = bicycle_model
    info, shapes, weights = json.loads(BICYCLE.read_text())
    got = [list(t.shape) for t in (m.w_out, m.b_out, m.w_x, m.w_h, m.b)]
    assert got == shapes == [[512, 123], [123], [5, 2048], [512, 2048], [2048]]
    assert m.units == 512 and m.mixtures == 20 and m.name == "bicycle"
    q = np.frombuffer(base64.b64decode(weights[1]), "<i2").astype(np.float64)
    assert np.allclose(m.b_out.numpy(), q * 10 / 32767)
    assert float(m.w_h.abs().max()) <= 10.0


@needs_models
def test_sampled_bicycles_are_plausible_and_recognised(bicycle_model):
    from visketch_core.eval.realism import renders
    from visketch_core.paths import models_dir
    from visketch_core.train.judge import judge_images, load_judge

    sks = sketchrnn.sample(bicycle_model, 32, seed=0)
    again = sketchrnn.sample(bicycle_model, 4, seed=0)
    assert [s.strokes[0].tolist() for s in again] == [
        s.strokes[0].tolist() for s in sketchrnn.sample(bicycle_model, 4, seed=0)]
    assert again[0].strokes[0].tolist() != sketchrnn.sample(bicycle_model, 4, seed=1)[0].strokes[0].tolist()
    counts = [len(s.strokes) for s in sks]
    assert 3 <= np.median(counts) <= 15 and min(counts) >= 1
    for s in sks:
        x0, y0, x1, y1 = s.bounds()
        assert min(x0, y0) >= 15.9 and max(x1, y1) <= 240.1
        assert max(x1 - x0, y1 - y0) == pytest.approx(224, abs=0.1)
        assert s.num_points <= bicycle_model.max_seq_len + 1
    judge, classes = load_judge(models_dir() / "judge.pt")
    probs, _ = judge_images(judge, renders(sks))
    hits = int((probs.argmax(1) == classes.index("bicycle")).sum())
    assert hits >= 24, f"the judge calls only {hits} of 32 sampled bicycles a bicycle"


@needs_models
def test_real_bicycles_are_far_likelier_than_cats(bicycle_model, quickdraw_dir):
    from visketch_core.sketch.quickdraw import iter_ndjson

    bikes = list(itertools.islice(iter_ndjson(quickdraw_dir / "bicycle.ndjson"), 20))
    cats = list(itertools.islice(iter_ndjson(quickdraw_dir / "cat.ndjson"), 20))
    unit = sketchrnn.offset_unit(bikes)
    lb = sketchrnn.log_likelihood(bicycle_model, bikes, unit)
    lc = sketchrnn.log_likelihood(bicycle_model, cats, unit)
    assert lb.shape == lc.shape == (20,) and np.isfinite(lb).all()
    assert lb.mean() > lc.mean() + 0.5  # nats per step
    assert np.median(lb) > np.percentile(lc, 90)

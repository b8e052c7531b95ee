"""The generation pipeline, completion and commands on tiny untrained models."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest
import torch

from visketch_core.generate.pipeline import (
    Finished,
    Generator,
    LeafEvent,
    Stage1Done,
    Stage1Step,
)
from visketch_core.sketch.model import Sketch

CLASSES = ["cat", "eye", "map"]


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def tiny_models(tiny_gen_models):
    return tiny_gen_models


def test_generate_streams_events_in_order(tiny_models):
    gen = Generator.load(tiny_models, device="cpu")
    events = list(gen.events("cat", seed=1, schedule="parallel"))
    steps = [e for e in events if isinstance(e, Stage1Step)]
    assert events[:len(steps)] == steps     # stage 1's steps come first, one per DDIM step
    assert [e.step for e in steps] == list(range(1, gen.sampling.steps + 1))
    assert all(e.total == gen.sampling.steps for e in steps)
    assert all(e.x0.shape == (32, 32) and e.x0.dtype == np.float32 for e in steps)
    assert all(0.0 <= e.x0.min() and e.x0.max() <= 1.0 for e in steps)
    events = events[len(steps):]
    assert isinstance(events[0], Stage1Done) and isinstance(events[-1], Finished)
    assert np.allclose(steps[-1].x0, events[0].coarse, atol=0.02)  # the last guess is the sketch
    leaves = [e for e in events if isinstance(e, LeafEvent)]
    assert len(leaves) == events[0].leaves > 0
    assert all(e.patch.shape == (32, 32) and e.size in (32, 64, 128, 256) for e in leaves)
    res = events[-1].result
    assert res.ink.shape == (256, 256) and not res.cancelled
    assert res.timings["first_leaf_s"] <= res.timings["total_s"]
    steps = [e.step for e in leaves]
    assert steps == sorted(steps)


def test_cancel_stops_between_leaves(tiny_models):
    gen = Generator.load(tiny_models, device="cpu")
    seen = []
    stream = gen.events("eye", seed=2, schedule="sequential", cancel=lambda: len(seen) >= 3)
    for ev in stream:
        if isinstance(ev, LeafEvent):
            seen.append(ev)
    assert len(seen) == 3
    assert isinstance(ev, Finished) and ev.result.cancelled
    assert ev.result.timings["refined"] == 3


def test_generate_is_seeded(tiny_models):
    gen = Generator.load(tiny_models, device="cpu")
    a = gen.generate("map", 2, seed=5, schedule="parallel")
    b = gen.generate("map", 2, seed=5, schedule="parallel")
    assert np.array_equal(a[0].ink, b[0].ink) and np.array_equal(a[1].coarse, b[1].coarse)
    s1 = gen.generate("map", 1, seed=5, stage1_only=True)[0]
    assert s1.timings["leaves"] == 0 and np.array_equal(s1.coarse, a[0].coarse)


def test_stage1_steps_stream_the_same_sketches(tiny_models):
    gen = Generator.load(tiny_models, device="cpu")
    it = gen.stage1_steps([0, 2], seed=4)
    seen = []
    while True:
        try:
            seen.append(next(it))
        except StopIteration as done:
            coarse = done.value
            break
    assert [s for s, _, _ in seen] == list(range(1, gen.sampling.steps + 1))
    assert all(x0.shape == (2, 32, 32) for _, _, x0 in seen)
    assert np.array_equal(coarse, gen.stage1([0, 2], seed=4))


def test_candidates_stream_stage1_steps_for_every_candidate(tiny_models, cat_sketches):
    """Each candidate: its own stage-1 steps, then its refinement, then the next one's (the
    first leaf does not wait for the other candidates' stage 1)."""
    from visketch_core.data.augment import partial
    from visketch_core.generate.completion import completion_candidates, completion_frame

    gen = Generator.load(tiny_models, device="cpu")
    framed = completion_frame(partial(cat_sketches[0], 0.5))
    for stream in (gen.candidates("cat", 2, seed=1),
                   completion_candidates(gen, framed, "cat", 2, seed=1)):
        events = list(stream)
        order = [k for k, _ in events]
        assert order == sorted(order) and set(order) == {0, 1}
        for k in (0, 1):
            mine = [e for j, e in events if j == k]
            steps = [e for e in mine if isinstance(e, Stage1Step)]
            assert mine[:len(steps)] == steps and len(steps) == gen.sampling.steps
            assert isinstance(mine[len(steps)], Stage1Done) and isinstance(mine[-1], Finished)


def test_completion_keeps_user_ink(tiny_models, cat_sketches):
    from visketch_core.data.augment import partial
    from visketch_core.generate.completion import complete

    gen = Generator.load(tiny_models, device="cpu")
    user = partial(cat_sketches[0], 0.5)
    comps = complete(gen, user, "cat", 2, seed=0)
    assert len(comps) == 2
    for c in comps:
        assert c.ink_unchanged
        assert c.user_ink.sum() > 0
        k = len(user.strokes)
        assert len(c.sketch.strokes) >= k


def _parser():
    from visketch_core.generate.commands import register

    p = argparse.ArgumentParser(prog="visketch")
    register(p.add_subparsers(dest="command"))
    return p


def test_generate_command_writes_png_and_svg(tiny_models, tmp_path, capsys):
    args = _parser().parse_args(["generate", "cat", "-n", "2", "--seed", "3", "--schedule",
                                 "parallel", "--out", str(tmp_path / "o"),
                                 "--models", str(tiny_models)])
    assert args.func(args) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [x["index"] for x in lines] == [0, 1]
    assert {"stage1_s", "first_leaf_s", "total_s"} <= set(lines[0])
    assert [x["drafts"] for x in lines] == [1, 1]          # no classifier.pt: no critic
    for i in range(2):
        assert (tmp_path / "o" / f"cat-{i}.png").exists()
        svg = (tmp_path / "o" / f"cat-{i}.svg").read_text()
        assert "<image" not in svg
    before = {p.name: p.read_bytes() for p in (tmp_path / "o").iterdir()}
    args = _parser().parse_args(["generate", "cat", "-n", "1", "--seed", "9", "--out",
                                 str(tmp_path / "o"), "--models", str(tiny_models)])
    assert args.func(args) == 0                       # the same folder again: nothing replaced
    again = json.loads(capsys.readouterr().out.splitlines()[0])
    assert again["png"].endswith("cat-0_2.png") and again["svg"].endswith("cat-0_2.svg")
    assert all((tmp_path / "o" / n).read_bytes() == b for n, b in before.items())


def test_complete_command_and_errors(tiny_models, tmp_path, capsys, quickdraw_dir):
    from visketch_core.sketch.io import write_sketches
    from visketch_core.sketch.quickdraw import iter_ndjson

    sk = next(iter(iter_ndjson(quickdraw_dir / "eye.ndjson")))
    half = Sketch(strokes=sk.strokes[: max(1, len(sk.strokes) // 2)])
    src = tmp_path / "half.ndjson"
    write_sketches([half], src)
    args = _parser().parse_args(["complete", str(src), "--class", "eye", "-n", "2",
                                 "--out", str(tmp_path / "c"), "--models", str(tiny_models)])
    assert args.func(args) == 0
    out = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [o["candidate"] for o in out] == [0, 1] and all(o["ink_unchanged"] for o in out)
    assert [o["drafts"] for o in out] == [1, 1]
    assert (tmp_path / "c" / "0-1.svg").exists()
    bad = _parser().parse_args(["generate", "unicorn", "--out", str(tmp_path / "x"),
                                "--models", str(tiny_models)])
    assert bad.func(bad) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unicorn" in err[0]
    missing = _parser().parse_args(["generate", "cat", "--out", str(tmp_path / "x"),
                                    "--models", str(tmp_path / "none")])
    assert missing.func(missing) == 1


def _ink(sketch) -> float:
    """Share of the 256 frame a traced sketch inks."""
    from visketch_core.geometry import render

    return float((render(sketch, 256, 3.0) > 0).mean())


class _Critic:
    """A stand-in recognizer: sure of a draft when ``sure(ink share)``; every class's
    probability is the draft's share of ink (so the inkiest draft scores best, and class
    0 is its top guess: the tests ask for class 0)."""

    def __init__(self, sure):
        self.sure = sure

    def classify_many(self, sketches):
        from types import SimpleNamespace

        out = []
        for sk in sketches:
            probs = np.full(len(CLASSES), _ink(sk))
            out.append(SimpleNamespace(probs=probs, known=True, confident=self.sure(_ink(sk))))
        return out


def _traced_ink(gen, coarse) -> float:
    from visketch_core.generate.canvas import shat_from_coarse
    from visketch_core.generate.pipeline import trace_ink

    sk = trace_ink(shat_from_coarse(coarse, gen.geometry).ink, gen.sampling)
    return _ink(sk) if sk.strokes else -1.0


def _run(it):
    seen = []
    while True:
        try:
            seen.append(next(it))
        except StopIteration as done:
            return seen, done.value


def test_drafts_keep_a_sure_first_draft_and_redraw_the_rest(tiny_models):
    from dataclasses import replace


    gen = Generator.load(tiny_models, device="cpu")
    steps = gen.sampling.steps
    seed = next(s for s in range(100)        # a seed whose first drafts both have strokes
                if all(_traced_ink(gen, x) > 0 for x in gen.stage1([0, 0], seed=s)))
    first = gen.stage1([0, 0], seed=seed)
    gen.sampling = replace(gen.sampling, drafts=3)
    gen.critic = _Critic(lambda v: True)
    seen, kept = _run(gen.stage1_steps([0, 0], seed=seed))
    assert np.array_equal(kept, first) and gen.last_drafts.tolist() == [1, 1]
    assert [s for s, _, _ in seen] == list(range(1, steps + 1))

    gen.critic = _Critic(lambda v: False)            # never sure: three drafts, best kept
    seen, kept = _run(gen.stage1_steps([0, 0], seed=seed))
    assert gen.last_drafts.tolist() == [3, 3]
    assert [s for s, _, _ in seen] == list(range(1, 3 * steps + 1))   # the bar counts on
    assert [t for _, t, _ in seen] == [steps] * steps + [2 * steps] * steps + [3 * steps] * steps
    gen.critic = None
    drafts = [gen.stage1([0, 0], seed=seed + 104729 * r) for r in range(3)]
    ink = np.array([[_traced_ink(gen, d[k]) for d in drafts] for k in range(2)])
    for k in range(2):
        assert np.array_equal(kept[k], drafts[int(ink[k].argmax())][k])


def test_drafts_redraw_only_the_sketches_not_yet_sure(tiny_models):
    from dataclasses import replace


    gen = Generator.load(tiny_models, device="cpu")
    seed = next(s for s in range(100)
                if all(_traced_ink(gen, x) > 0 for x in gen.stage1([0, 0], seed=s)))
    first = gen.stage1([0, 0], seed=seed)
    gen.sampling = replace(gen.sampling, drafts=2)
    a = _traced_ink(gen, first[0])
    gen.critic = _Critic(lambda v: abs(v - a) < 1e-9)   # sure of sketch 0 only
    seen, kept = _run(gen.stage1_steps([0, 0], seed=seed))
    assert gen.last_drafts.tolist() == [1, 2]
    assert np.array_equal(kept[0], first[0])
    # while sketch 1 is redrawn, the preview keeps showing sketch 0's kept draft
    assert all(np.array_equal(x0[0], first[0]) for s, _, x0 in seen if s > gen.sampling.steps)


def test_draft_sure_replaces_the_recognizers_own_threshold(tiny_models):
    from dataclasses import replace
    from types import SimpleNamespace

    class Fixed:                      # names class 0 with probability p; never "confident"
        def __init__(self, p):
            self.p = p

        def classify_many(self, sketches):
            probs = np.array([self.p, (1 - self.p) / 2, (1 - self.p) / 2])
            return [SimpleNamespace(probs=probs, known=True, confident=False) for _ in sketches]

    gen = Generator.load(tiny_models, device="cpu")
    seed = next(s for s in range(100)
                if all(_traced_ink(gen, x) > 0 for x in gen.stage1([0, 0], seed=s)))
    gen.sampling = replace(gen.sampling, drafts=3)
    gen.critic = Fixed(0.95)
    _run(gen.stage1_steps([0, 0], seed=seed))
    assert gen.last_drafts.tolist() == [3, 3]          # its own verdict: never sure
    gen.sampling = replace(gen.sampling, drafts=3, draft_sure=0.9)
    _run(gen.stage1_steps([0, 0], seed=seed))
    assert gen.last_drafts.tolist() == [1, 1]          # 0.95 >= 0.9: kept at once
    gen.critic = Fixed(0.85)
    _run(gen.stage1_steps([0, 0], seed=seed))
    assert gen.last_drafts.tolist() == [3, 3]


def test_the_stage1_solver_comes_from_the_checkpoint_and_a_bad_one_is_one_line(tiny_models,
                                                                              tmp_path):
    import shutil

    from visketch_core.errors import ModelError

    gen = Generator.load(tiny_models, device="cpu")
    assert gen.sampling.solver == "ddim"
    ddim = gen.stage1([0, 2], seed=4)
    gen.sampling = type(gen.sampling)(**{**gen.sampling.__dict__, "solver": "dpm2m"})
    dpm = gen.stage1([0, 2], seed=4)
    assert dpm.shape == ddim.shape and not np.array_equal(dpm, ddim)
    assert np.array_equal(dpm, gen.stage1([0, 2], seed=4))
    bad = tmp_path / "models"
    shutil.copytree(tiny_models, bad)
    blob = torch.load(bad / "diffusion.pt", weights_only=False)
    blob["sampling"] = {**blob.get("sampling", {}), "solver": "euler"}
    torch.save(blob, bad / "diffusion.pt")
    with pytest.raises(ModelError, match="unknown stage-1 solver 'euler'") as err:
        Generator.load(bad, device="cpu")
    assert "\n" not in str(err.value)
    for value in (1.5, -0.1, float("nan"), "half"):
        blob["sampling"] = {**blob["sampling"], "solver": "ddim", "guide_from": value}
        torch.save(blob, bad / "diffusion.pt")
        with pytest.raises(ModelError, match="guide_from must be in") as err:
            Generator.load(bad, device="cpu")
        assert "\n" not in str(err.value)


def test_a_completion_says_whether_it_added_ink():
    from visketch_core.generate.completion import Completion
    from visketch_core.sketch.model import Sketch

    user = np.zeros((256, 256), np.float32)
    user[100:104, 50:150] = 1.0
    same = Completion("cat", Sketch(strokes=[]), user.copy(), user, {})
    assert same.ink_unchanged and not same.ink_added
    more = user.copy()
    more[180:183, 60:90] = 1.0
    grown = Completion("cat", Sketch(strokes=[]), more, user, {})
    assert grown.ink_unchanged and grown.ink_added


def test_new_ink_pixels_count_only_ink_beyond_the_users_drawing():
    from visketch_core.generate.pipeline import new_ink_pixels

    user = np.zeros((1, 32, 32), np.float32)
    user[0, 10, 5:20] = 1.0
    draft = user.copy()
    draft[0, 11, 5:20] = 1.0                      # hugging the user's line: not new
    assert new_ink_pixels(draft, user).tolist() == [0]
    draft[0, 25, 2:9] = 1.0                       # a line of its own
    assert new_ink_pixels(draft, user).tolist() == [7]


def test_a_completion_draft_that_adds_nothing_is_not_kept_at_once(tiny_models):
    from dataclasses import replace

    from visketch_core.generate.pipeline import new_ink_pixels

    gen = Generator.load(tiny_models, device="cpu")
    none = np.zeros((2, 32, 32), np.float32)              # the "user" drew nothing here
    seed = next(s for s in range(200)                     # first drafts with ink of their own
                if (new_ink_pixels(gen.stage1([0, 0], seed=s, partial=none), none) >= 4).all()
                and all(_traced_ink(gen, x) > 0 for x in gen.stage1([0, 0], seed=s)))
    gen.critic = _Critic(lambda v: True)                  # sure of every draft
    whole = np.ones((2, 32, 32), np.float32)              # the "user" inked everything
    gen.sampling = replace(gen.sampling, drafts=3)
    _run(gen.stage1_steps([0, 0], seed=seed, partial=whole))
    assert gen.last_drafts.tolist() == [1, 1]             # off: kept at once
    gen.sampling = replace(gen.sampling, drafts=3, draft_new_ink=4)
    _run(gen.stage1_steps([0, 0], seed=seed, partial=whole))
    assert gen.last_drafts.tolist() == [3, 3]             # nothing can be new: all drafts drawn
    _run(gen.stage1_steps([0, 0], seed=seed, partial=none))
    assert gen.last_drafts.tolist() == [1, 1]             # new ink and sure: kept at once


def _shat_of(ink):
    from visketch_core.generate.canvas import Shat

    return Shat(ink, None, None, None)


def test_leaves_with_user_ink_keep_stage1s_own_ink_only_with_user_leaf_new():
    from visketch_core.generate.pipeline import frozen_canvas
    from visketch_core.geometry import sdf_from_ink

    user = np.zeros((256, 256), np.float32)
    user[100:103, 40:200] = 1.0
    frozen = sdf_from_ink(user, 8.0)
    shat = np.zeros_like(user)
    shat[96:108, 40:200] = 1.0                    # stage 1's thick copy of the user's line
    shat[160:166, 60:120] = 1.0                   # and a line of its own, 57 px below it
    assert np.array_equal(frozen_canvas(frozen, _shat_of(shat), 0.0, 8.0), frozen)   # off
    held = frozen_canvas(frozen, _shat_of(shat), 10.0, 8.0)
    ink = held < 0
    assert np.array_equal(ink[user > 0], np.ones(int((user > 0).sum()), bool))     # user kept
    assert ink[160:166, 60:120].all()                                             # own ink kept
    band = np.zeros_like(ink)
    band[90:112] = True                           # nothing new hugs the user's line
    assert not (ink & band & ~(user > 0)).any()
    assert not ink[:, :30].any() and not ink[200:].any()


def test_the_guided_stage1_is_taken_only_when_asked_for_and_present(tiny_models, tmp_path):
    import shutil

    import torch

    from visketch_core.generate.pipeline import GUIDED_FILE
    from visketch_core.models.checkpoint import read_checkpoint

    d = tmp_path / "models"
    shutil.copytree(tiny_models, d)
    assert Generator.load(d, device="cpu", stage1="guided").sampling == \
        Generator.load(d, device="cpu").sampling          # no guided file: diffusion.pt
    blob = read_checkpoint(d / "diffusion.pt", kind="diffusion")
    blob["sampling"] = {**blob.get("sampling", {}), "guidance": 5.0, "steps": 3}
    torch.save(blob, d / GUIDED_FILE)
    guided = Generator.load(d, device="cpu", stage1="guided")
    assert (guided.sampling.guidance, guided.sampling.steps) == (5.0, 3)
    fast = Generator.load(d, device="cpu", stage1="fast")
    assert (fast.sampling.guidance, fast.sampling.steps) != (5.0, 3)
    steps = [e for e in guided.events("cat", seed=1, schedule="parallel")
             if isinstance(e, Stage1Step)]
    assert len(steps) == 3
    with pytest.raises(ValueError):
        Generator.load(d, device="cpu", stage1="best")


def test_an_unrefined_completion_traces_stage1s_own_ink_beyond_the_users(tiny_models,
                                                                         cat_sketches):
    """complete_refine False: stage 1's steps, a Stage1Done with no leaves to refine, no
    leaf events, then the result; the new strokes keep clear of the user's ink and the
    user's pixels are unchanged."""
    from dataclasses import replace

    import cv2

    from visketch_core.data.augment import partial
    from visketch_core.generate.completion import complete, completion_candidates, completion_frame

    gen = Generator.load(tiny_models, device="cpu")
    gen.sampling = replace(gen.sampling, complete_refine=False, user_leaf_new=6.0)
    user = partial(cat_sketches[0], 0.5)
    framed = completion_frame(user)
    events = [ev for _, ev in completion_candidates(gen, framed, "cat", 1, seed=0)]
    kinds = [type(e).__name__ for e in events]
    assert "LeafEvent" not in kinds and kinds[-2:] == ["Stage1Done", "Finished"]
    assert set(kinds[:-2]) == {"Stage1Step"} and events[-2].leaves == 0
    res = events[-1].result
    assert res.timings["refined"] == 0 and res.timings["first_leaf_s"] is None
    (c,) = complete(gen, user, "cat", 1, seed=0)
    assert c.ink_unchanged
    assert all(np.array_equal(a, b) for a, b in zip(c.sketch.strokes, framed.strokes))
    user_px = (c.user_ink > 0).astype(np.uint8)
    dist = cv2.distanceTransform(1 - user_px, cv2.DIST_L2, 3)
    new = c.sketch.strokes[len(framed.strokes):]
    assert new, "the tiny stage 1 inks far from the user's lines; some of it must be traced"
    xy = np.clip(np.round(np.concatenate(new)).astype(int), 0, 255)
    near = dist[xy[:, 1], xy[:, 0]] < 3.0     # only where a bridged gap crosses the user's line
    assert near.mean() < 0.1, f"{near.mean():.2f} of the new strokes hug the user's ink"

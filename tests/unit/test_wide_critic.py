"""The wide critic of stage-1 drafts: loaded only when it knows our classes, read with the
training prior divided out, and able to veto a draft the recognizer is sure of."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from visketch_core.generate.pipeline import Generator, SamplingConfig, WideCritic
from visketch_core.models.checkpoint import save_checkpoint
from visketch_core.models.cnn import CNNConfig, SketchCNN

CLASSES = ["cat", "eye"]


def write_wide(path, classes, counts=True):
    cfg = CNNConfig(num_classes=len(classes), width=8)
    metrics = {"train_counts": [10] * len(classes)} if counts else {}
    save_checkpoint(path, kind="judge", config=cfg, model=SketchCNN(cfg), classes=classes,
                    metrics=metrics)


def test_loaded_only_when_it_knows_every_class(tmp_path):
    assert WideCritic.load(tmp_path / "none.pt", CLASSES) is None
    write_wide(tmp_path / "a.pt", ["fork", "cat"])                 # lacks eye
    assert WideCritic.load(tmp_path / "a.pt", CLASSES) is None
    write_wide(tmp_path / "b.pt", ["fork", "eye", "cat"], counts=False)   # no prior
    assert WideCritic.load(tmp_path / "b.pt", CLASSES) is None
    (tmp_path / "c.pt").write_bytes(b"not a checkpoint")
    assert WideCritic.load(tmp_path / "c.pt", CLASSES) is None
    write_wide(tmp_path / "d.pt", ["fork", "eye", "cat"])
    critic = WideCritic.load(tmp_path / "d.pt", CLASSES)
    assert critic is not None and critic.index.tolist() == [2, 1]


def stroke_sketch():
    from visketch_core.sketch.model import Sketch
    return Sketch(strokes=[np.array([[20, 20], [200, 200]], np.float32)])


def test_the_prior_is_divided_out(monkeypatch):
    import visketch_core.train.judge as judge

    probs = np.array([[0.5, 0.3, 0.2]])             # columns: fork, eye, cat
    monkeypatch.setattr(judge, "judge_images", lambda model, imgs: (probs, None))
    even = WideCritic(None, [1, 1, 1], np.array([2, 1]))
    named, p = even.verdicts([stroke_sketch()], [1])
    assert not named[0] and abs(p[0] - 0.3) < 1e-9
    # fork was seen 4 times as often as the others: 0.5 / 4 < 0.3, so eye wins
    skewed = WideCritic(None, [4, 1, 1], np.array([2, 1]))
    named, p = skewed.verdicts([stroke_sketch()], [1])
    assert named[0] and p[0] > 0.3


@dataclass
class Verdict:
    probs: np.ndarray
    known: bool = True
    confident: bool = True


class SureCritic:
    """The recognizer's stand-in: sure that every draft is class 0."""

    def classify_many(self, sketches):
        return [Verdict(np.array([1.0, 0.0])) for _ in sketches]


class Named:
    def __init__(self, named):
        self.named = named

    def verdicts(self, sketches, labels):
        return np.full(len(sketches), self.named), np.full(len(sketches), 0.25)


def drafts():
    coarse = np.zeros((2, 32, 32), np.float32)
    coarse[0, 8:24, 16] = 1.0                        # a line
    return coarse                                     # and a blank


def test_the_wide_critic_can_veto_a_sure_draft():
    gen = Generator(None, None, None, None, ["cat", "eye"],
                    SamplingConfig(drafts=4, draft_sure=0.9), critic=SureCritic())
    sure, score = gen.judge_drafts(drafts(), [0, 0])
    assert sure.tolist() == [True, False] and score[1] == -1.0
    gen.wide_critic = Named(False)
    sure, vetoed = gen.judge_drafts(drafts(), [0, 0])
    assert sure.tolist() == [False, False] and vetoed[0] == score[0] + 0.25
    gen.wide_critic = Named(True)
    sure, kept = gen.judge_drafts(drafts(), [0, 0])
    assert sure.tolist() == [True, False] and kept[0] == score[0] + 1.25
    gen.sampling = SamplingConfig(drafts=4, draft_sure=0.9, draft_wide=False)
    gen.wide_critic = Named(False)
    assert gen.judge_drafts(drafts(), [0, 0])[0].tolist() == [True, False]

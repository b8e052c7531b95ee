"""Knowledge distillation from a CNN teacher into the quadtree classifier.

The teacher (a ``SketchCNN`` checkpoint trained on the same train split, e.g. the judge)
sees a 64x64 render of the very augmented sketch the student sees as a quadtree. The
student's loss becomes

    (1 - alpha) * CE(logits, label) + alpha * T^2 * KL(teacher_T || student_T) + votes

where ``_T`` is a softmax at temperature T and ``votes`` is the student's own per-leaf vote
loss. The teacher is frozen, kept in eval mode, and is not part of the student's weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from visketch_core.errors import ModelError


@dataclass(frozen=True)
class DistillConfig:
    teacher: str            # path of a "judge" (SketchCNN) checkpoint
    alpha: float = 0.5      # share of the distillation term in the class loss
    temperature: float = 2.0


def load_teacher(cfg: DistillConfig, classes: list[str]) -> nn.Module:
    """The frozen teacher; its classes must be the student's, in the same order."""
    from visketch_core.train.judge import load_judge

    teacher, t_classes = load_judge(Path(cfg.teacher))
    if list(t_classes) != list(classes):
        raise ModelError(f"{cfg.teacher}: the teacher's classes differ from the training data's")
    for p in teacher.parameters():
        p.requires_grad_(False)
    return teacher.eval()


class Distilled(nn.Module):
    """Wraps the student for training: same outputs, distillation added to the loss.

    ``forward(batch, targets)`` needs ``batch["ink"]`` (B, 1, S, S) when training with
    targets; without targets (or in eval mode) it is the student alone. ``state_dict`` holds
    the student's weights only (under ``student.``); save ``.student`` for a checkpoint.
    """

    def __init__(self, student: nn.Module, teacher: nn.Module, cfg: DistillConfig):
        super().__init__()
        if not 0.0 <= cfg.alpha <= 1.0 or cfg.temperature <= 0:
            raise ValueError("distillation needs 0 <= alpha <= 1 and temperature > 0")
        self.student = student
        self.cfg = cfg
        object.__setattr__(self, "_teacher", teacher)   # not a submodule: never trained/saved

    def _apply(self, fn, *args, **kwargs):  # .to()/.cuda() move the teacher too
        super()._apply(fn, *args, **kwargs)
        object.__setattr__(self, "_teacher", self._teacher._apply(fn, *args, **kwargs))
        return self

    def forward(self, batch: dict, targets: torch.Tensor | None = None) -> dict:
        out = self.student(batch, targets)
        if targets is None or not self.training:
            return out
        if "ink" not in batch:
            raise ValueError("distillation needs the batch's 'ink' renders")
        with torch.no_grad():
            t_logits = self._teacher(batch["ink"])["logits"].float()
        T, a = self.cfg.temperature, self.cfg.alpha
        s_logits = out["logits"]
        ce = F.cross_entropy(s_logits, targets, label_smoothing=self.student.cfg.label_smoothing)
        kd = F.kl_div(F.log_softmax(s_logits / T, -1), F.log_softmax(t_logits / T, -1),
                      log_target=True, reduction="batchmean") * T * T
        votes = out["loss"] - ce
        out["loss"] = (1 - a) * ce + a * kd + votes
        out["distill_loss"] = kd.detach()
        return out

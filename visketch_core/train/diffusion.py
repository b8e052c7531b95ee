"""Training the stage-1 diffusion model on 32x32 coarse images of the train split.

Keeps an exponential moving average of the weights (what is shipped and sampled from).
With ``cond_channels=2`` the denoiser also sees a partial view of the sketch (its coarse
image and the mask of its known pixels), or nothing (``p_blank`` of the time, so one model
both draws and completes): it learns what usually comes next. ``init`` warm-starts from a
trained checkpoint (an unconditioned one is widened with zero weights for the new planes);
``shift`` moves (part, whole) pairs together by up to that many coarse pixels;
``extra_dir``: another corpus (for example every other QuickDraw class) whose sketches
fill ``extra_share`` of each batch as null-class samples: the unconditional model, which
classifier-free guidance steers away from, learns from every sketch there is, not only
from the 15 classes; that corpus's own copies of our classes are left out.
a ``<out>.state`` file beside the checkpoint makes a run resumable step for step.
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from visketch_core.errors import ModelError
from visketch_core.generate.data import cached_arrays, cached_partials
from visketch_core.models.checkpoint import load_weights, read_checkpoint, save_checkpoint
from visketch_core.models.diffusion import DiffusionConfig, GaussianDiffusion
from visketch_core.models.unet import UNet, UNetConfig, widen_input
from visketch_core.train.loop import TrainConfig, lr_at


def load_diffusion(path: str | Path) -> tuple[UNet, GaussianDiffusion, list[str], dict]:
    """-> (UNet in eval mode, process, classes, extra dict with 'sampling')."""
    blob = read_checkpoint(path, kind="diffusion")
    try:
        ucfg = UNetConfig.from_dict(blob["config"]["unet"])
        dcfg = DiffusionConfig(**blob["config"]["diffusion"])
    except (KeyError, TypeError) as exc:
        raise ModelError(f"{path}: config does not fit this version ({exc})") from None
    unet = load_weights(UNet(ucfg), blob, path).eval()
    return unet, GaussianDiffusion(dcfg, ucfg.num_classes), list(blob["classes"]), \
        {"sampling": dict(blob.get("sampling", {}))}


def save_diffusion(path: str | Path, unet: UNet, dcfg: DiffusionConfig, classes: list[str],
                   metrics: dict, sampling: dict | None = None, half: bool = True) -> None:
    save_checkpoint(path, kind="diffusion", config={"unet": asdict(unet.cfg), "diffusion": asdict(dcfg)},
                    model=unet, classes=classes, metrics=metrics,
                    extra={"sampling": dict(sampling or {})}, half=half)


def class_balanced_batch(labels: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """n indices: a uniform class, then a uniform sketch of that class."""
    classes = np.unique(labels)
    by = {c: np.flatnonzero(labels == c) for c in classes}
    ys = rng.choice(classes, size=n)
    return np.array([rng.choice(by[c]) for c in ys])


KNOWN_THRESHOLD = 0.3   # coarse pixels at least this inked are "known" (the mask plane)


def cond_planes(partial: torch.Tensor) -> torch.Tensor:
    """(B, 32, 32) partial coarse images in [0, 1] -> (B, 2, 32, 32) conditioning planes:
    the image and its known-pixel mask. A blank partial (zeros) means "nothing drawn"."""
    return torch.stack([partial, (partial >= KNOWN_THRESHOLD).float()], dim=1)


def shift_pairs(x0: torch.Tensor, part: torch.Tensor, which: torch.Tensor, reach: int,
                generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Move the rows ``which`` (bool (B,)) of a (whole, part) batch by the same random whole
    number of coarse pixels (up to ``reach`` each way): x0 (B, 1, 32, 32) in [-1, 1] (blank
    = -1), part (B, 32, 32) in [0, 1] (blank = 0). A user's part sits wherever the user drew
    it, not where a centred whole sketch would have it; the model learns to complete
    around the part wherever it is."""
    if reach <= 0 or not bool(which.any()):
        return x0, part
    x0, part = x0.clone(), part.clone()
    shifts = torch.randint(-reach, reach + 1, (len(x0), 2), generator=generator)
    S = part.shape[-1]
    for i in torch.nonzero(which).flatten().tolist():
        dy, dx = shifts[i].tolist()
        src = (slice(max(0, -dy), S - max(0, dy)), slice(max(0, -dx), S - max(0, dx)))
        dst = (slice(max(0, dy), S - max(0, -dy)), slice(max(0, dx), S - max(0, -dx)))
        w, p = torch.full_like(x0[i, 0], -1.0), torch.zeros_like(part[i])
        w[dst], p[dst] = x0[i, 0][src], part[i][src]
        x0[i, 0], part[i] = w, p
    return x0, part


def _warm_start(model: UNet, path: str | Path) -> None:
    blob = read_checkpoint(path, kind="diffusion")
    src = UNetConfig.from_dict(blob["config"]["unet"])
    if {**asdict(src), "cond_channels": 0} != {**asdict(model.cfg), "cond_channels": 0}:
        raise ModelError(f"{path}: a different UNet shape; cannot start from it")
    state = {k: v.float() for k, v in blob["weights"].items()}
    model.load_state_dict(widen_input(state, model.cfg.cond_channels))


def extra_rows(data_dir: str | Path, classes: list[str], cache_dir: str | Path, copies: int,
               partials: bool, log=print) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The train split of another corpus, less its sketches of ``classes``, as stage-1
    inputs: (coarse (N, 1, 32, 32) in [-1, 1], partial views (N, 2, 32, 32) or None)."""
    ex = cached_arrays(data_dir, "train", cache_dir, copies=copies, log=log)
    names = np.asarray(ex.classes)[ex.labels]
    keep = np.flatnonzero(~np.isin(names, list(classes)))
    if not len(keep):
        raise ModelError(f"{data_dir}: no sketches of classes other than ours to add")
    x = torch.from_numpy(ex.coarse[keep] * 2 - 1)[:, None]
    part = None
    if partials:
        p = cached_partials(data_dir, "train", cache_dir, copies=copies, log=log)
        if len(p) != len(ex):
            raise ModelError(f"{cache_dir}: partial views do not line up with the arrays; "
                             "delete the cache")
        part = torch.from_numpy(p[keep])
    log(f"adding {len(keep)} sketches of {len(set(names[keep]))} other classes "
        f"from {data_dir} as null-class samples")
    return x, part


def train_diffusion(data_dir: str | Path, out: str | Path | None, *,
                    unet_cfg: UNetConfig | None = None, cfg: DiffusionConfig | None = None,
                    train_cfg: TrainConfig | None = None, copies: int = 3, ema: float = 0.999,
                    cache_dir: str | Path = "runs/gen/cache", minutes: float = 0.0,
                    limit_per_class: int | None = None, save_every: int = 500,
                    init: str | Path | None = None, p_blank: float = 0.3,
                    shift: int = 0, resume: bool = False, distil: float = 0.0,
                    grid_steps: int = 15, student: str | Path | None = None,
                    extra_dir: str | Path | None = None, extra_share: float = 0.0,
                    extra_copies: int = 1, log=print) -> tuple[UNet, dict]:
    """Train on the train split (plus ``copies`` augmented versions of each sketch).

    ``distil`` > 0 (needs ``init``, the teacher): guidance distillation. The model starts as
    the teacher and learns to give, in one conditional pass, the teacher's output guided
    with weight ``distil`` (``GaussianDiffusion.distil_loss``), so it is sampled with
    guidance 1 at half the cost a step; ``grid_steps``: the sampler whose noise levels
    half of each batch takes. ``student``: the student starts from this checkpoint (for
    example the student of an earlier teacher) instead of from the teacher."""
    cfg = cfg or DiffusionConfig()
    tc = train_cfg or TrainConfig(batch_size=64, lr=1e-3, warmup_steps=200, max_steps=4000,
                                  weight_decay=0.0)
    tr = cached_arrays(data_dir, "train", cache_dir, copies=copies,
                       limit_per_class=limit_per_class, log=log)
    ucfg = unet_cfg or UNetConfig()
    ucfg = UNetConfig.from_dict({**asdict(ucfg), "num_classes": len(tr.classes)})
    part_all = None
    if ucfg.cond_channels:
        if ucfg.cond_channels != 2:
            raise ModelError("a conditioned stage 1 takes 2 planes (partial image, mask)")
        part_all = torch.from_numpy(cached_partials(data_dir, "train", cache_dir, copies=copies,
                                                    limit_per_class=limit_per_class, log=log))
        if len(part_all) != len(tr):
            raise ModelError(f"{cache_dir}: partial views do not line up with the arrays; "
                             "delete the cache")
    x_ex = part_ex = None
    n_extra = int(round(tc.batch_size * extra_share)) if extra_dir is not None else 0
    if n_extra:
        x_ex, part_ex = extra_rows(extra_dir, tr.classes, cache_dir, extra_copies,
                                   bool(ucfg.cond_channels), log)
        n_extra = min(n_extra, tc.batch_size - 1)
    torch.manual_seed(tc.seed)
    model = UNet(ucfg)
    if init is not None:
        _warm_start(model, init)
    teacher = None
    if distil:
        if init is None:
            raise ModelError("guidance distillation starts from a teacher: give --init")
        teacher = copy.deepcopy(model).eval()
        for q in teacher.parameters():
            q.requires_grad_(False)
        if student is not None:
            _warm_start(model, student)
    elif student is not None:
        raise ModelError("--student is the starting point of a distilled model: give --distil")
    avg = copy.deepcopy(model).eval()
    diff = GaussianDiffusion(cfg, ucfg.num_classes)
    opt = torch.optim.AdamW(model.parameters(), lr=tc.lr, weight_decay=tc.weight_decay)
    rng = np.random.default_rng(tc.seed)
    g = torch.Generator().manual_seed(tc.seed)
    x_all = torch.from_numpy(tr.coarse * 2 - 1)[:, None]          # (N, 1, 32, 32)
    y_all = torch.from_numpy(tr.labels)
    t0, run, metrics, start = time.perf_counter(), 0.0, {}, 0
    state_path = None if out is None else Path(f"{out}.state")
    if resume and state_path is not None and state_path.exists():
        st = torch.load(state_path, map_location="cpu", weights_only=True)
        model.load_state_dict(st["model"])
        avg.load_state_dict(st["avg"])
        opt.load_state_dict(st["opt"])
        start, run = int(st["step"]), float(st["run"])
        rng.bit_generator.state = st["rng"]
        g.set_state(st["g"])
        log(f"resuming {out} at step {start}")
    total = tc.max_steps
    for step in range(start, total):
        for grp in opt.param_groups:
            grp["lr"] = lr_at(step, total, tc)
        idx = torch.from_numpy(class_balanced_batch(tr.labels, tc.batch_size - n_extra, rng))
        x0, y = x_all[idx], y_all[idx]
        if n_extra:
            eidx = torch.from_numpy(rng.integers(0, len(x_ex), n_extra))
            x0 = torch.cat([x0, x_ex[eidx]])
            y = torch.cat([y, torch.full((n_extra,), ucfg.num_classes, dtype=y.dtype)])
        flip = torch.rand(len(x0), generator=g) < 0.5
        x0 = torch.where(flip[:, None, None, None], x0.flip(3), x0)
        cond = None
        if part_all is not None:
            pick = torch.randint(0, part_all.shape[1], (len(x0),), generator=g)
            part = part_all[idx, pick[:len(idx)]]                       # (B, 32, 32)
            if n_extra:
                part = torch.cat([part, part_ex[eidx, pick[len(idx):]]])
            blank = torch.rand(len(x0), generator=g) < p_blank
            part = torch.where(blank[:, None, None], torch.zeros_like(part), part)
            part = torch.where(flip[:, None, None], part.flip(2), part)
            x0, part = shift_pairs(x0, part, ~blank, shift, g)
            cond = cond_planes(part)
        model.train()
        if teacher is None:
            loss = diff.loss(model, x0, y, generator=g, cond=cond)
        else:
            loss = diff.distil_loss(model, teacher, x0, y, distil, generator=g,
                                    cond=cond, grid_steps=grid_steps)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), tc.clip)
        opt.step()
        with torch.no_grad():
            d = min(ema, (1 + step) / (10 + step))
            for pa, pm in zip(avg.parameters(), model.parameters()):
                pa.mul_(d).add_(pm.detach(), alpha=1 - d)
            for ba, bm in zip(avg.buffers(), model.buffers()):
                ba.copy_(bm)
        lv = float(loss.detach())
        run = 0.98 * run + 0.02 * lv if step > start else lv
        over = bool(minutes) and time.perf_counter() - t0 > minutes * 60
        if (step + 1) % save_every == 0 or step + 1 == total or over:
            metrics = {"step": step + 1, "loss": run, "minutes": (time.perf_counter() - t0) / 60,
                       **({"init": str(init)} if init is not None else {}),
                       **({"distilled_guidance": distil} if distil else {}),
                       **({"student_init": str(student)} if student is not None else {}),
                       **({"extra": str(extra_dir), "extra_share": n_extra / tc.batch_size,
                           "extra_sketches": len(x_ex)} if n_extra else {})}
            log(json.dumps({"diffusion": metrics}))
            if out is not None:
                save_diffusion(out, avg, cfg, tr.classes, metrics,
                               sampling={"guidance": 1.0} if distil else None)
                tmp = Path(f"{state_path}.tmp")
                torch.save({"model": model.state_dict(), "avg": avg.state_dict(),
                            "opt": opt.state_dict(), "step": step + 1, "run": run,
                            "rng": rng.bit_generator.state, "g": g.get_state()}, tmp)
                tmp.replace(state_path)
        if over:
            break
    return avg, metrics

"""Training the stage-1 diffusion model on 32x32 coarse images of the train split.

Keeps an exponential moving average of the weights (what is shipped and sampled from).
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
from visketch_core.generate.data import cached_arrays
from visketch_core.models.checkpoint import load_weights, read_checkpoint, save_checkpoint
from visketch_core.models.diffusion import DiffusionConfig, GaussianDiffusion
from visketch_core.models.unet import UNet, UNetConfig
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


def train_diffusion(data_dir: str | Path, out: str | Path | None, *,
                    unet_cfg: UNetConfig | None = None, cfg: DiffusionConfig | None = None,
                    train_cfg: TrainConfig | None = None, copies: int = 3, ema: float = 0.999,
                    cache_dir: str | Path = "runs/gen/cache", minutes: float = 0.0,
                    limit_per_class: int | None = None, save_every: int = 500,
                    log=print) -> tuple[UNet, dict]:
    """Train on the train split (plus ``copies`` augmented versions of each sketch)."""
    cfg = cfg or DiffusionConfig()
    tc = train_cfg or TrainConfig(batch_size=64, lr=1e-3, warmup_steps=200, max_steps=4000,
                                  weight_decay=0.0)
    tr = cached_arrays(data_dir, "train", cache_dir, copies=copies,
                       limit_per_class=limit_per_class, log=log)
    ucfg = unet_cfg or UNetConfig()
    ucfg = UNetConfig.from_dict({**asdict(ucfg), "num_classes": len(tr.classes)})
    torch.manual_seed(tc.seed)
    model = UNet(ucfg)
    avg = copy.deepcopy(model).eval()
    diff = GaussianDiffusion(cfg, ucfg.num_classes)
    opt = torch.optim.AdamW(model.parameters(), lr=tc.lr, weight_decay=tc.weight_decay)
    rng = np.random.default_rng(tc.seed)
    g = torch.Generator().manual_seed(tc.seed)
    x_all = torch.from_numpy(tr.coarse * 2 - 1)[:, None]          # (N, 1, 32, 32)
    y_all = torch.from_numpy(tr.labels)
    t0, run, metrics = time.perf_counter(), 0.0, {}
    total = tc.max_steps
    for step in range(total):
        for grp in opt.param_groups:
            grp["lr"] = lr_at(step, total, tc)
        idx = torch.from_numpy(class_balanced_batch(tr.labels, tc.batch_size, rng))
        x0 = x_all[idx]
        flip = torch.rand(len(idx), generator=g) < 0.5
        x0 = torch.where(flip[:, None, None, None], x0.flip(3), x0)
        model.train()
        loss = diff.loss(model, x0, y_all[idx], generator=g)
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
        run = 0.98 * run + 0.02 * float(loss) if step else float(loss)
        over = bool(minutes) and time.perf_counter() - t0 > minutes * 60
        if (step + 1) % save_every == 0 or step + 1 == total or over:
            metrics = {"step": step + 1, "loss": run, "minutes": (time.perf_counter() - t0) / 60}
            log(json.dumps({"diffusion": metrics}))
            if out is not None:
                save_diffusion(out, avg, cfg, tr.classes, metrics)
        if over:
            break
    return avg, metrics

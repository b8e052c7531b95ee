"""Training the leaf refiner with teacher forcing, as DESIGN.md says.

For a real sketch S: S -> coarse 32x32 -> S-hat (the canvas stage 2 starts from). A random
share of S-hat's leaves is replaced by the truth (as if already refined); the refiner then
predicts the truth's tokens of up to ``leaves_per_sketch`` of the other leaves, each from
its context on that canvas. The frozen tokenizer turns truth patches into target tokens.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from visketch_core.errors import ModelError
from visketch_core.generate.canvas import leaf_node, leaf_slices, shat_from_coarse
from visketch_core.generate.data import GenArrays, cached_arrays
from visketch_core.geometry import GeometryConfig, sdf_from_ink
from visketch_core.geometry.context import node_patches
from visketch_core.models.checkpoint import load_weights, read_checkpoint, save_checkpoint
from visketch_core.models.refiner import LeafRefiner, RefinerConfig
from visketch_core.models.vqvae import VQVAE
from visketch_core.train.loop import TrainConfig, Trainer


def load_refiner(path: str | Path) -> tuple[LeafRefiner, list[str]]:
    blob = read_checkpoint(path, kind="refiner")
    try:
        cfg = RefinerConfig.from_dict(blob["config"])
    except (KeyError, TypeError) as exc:
        raise ModelError(f"{path}: config does not fit this version ({exc})") from None
    return load_weights(LeafRefiner(cfg), blob, path).eval(), list(blob["classes"])


def teacher_forcing_item(ink: np.ndarray, coarse: np.ndarray, label: int,
                         rng: np.random.Generator, leaves: int,
                         cfg: GeometryConfig) -> dict[str, np.ndarray]:
    """One training canvas: patches (M, P, P) f16, tokens (K, 36), level (K,), boxes (K, 4),
    truth (K, P, P) f16 target SDF patches, label."""
    shat = shat_from_coarse(coarse, cfg)
    tree = shat.tree
    truth = sdf_from_ink(ink, cfg.sdf_scale)
    L = len(tree)
    canvas = shat.sdf.copy()
    done = rng.random(L) < rng.random()
    open_ = np.flatnonzero(~done)
    if not len(open_):
        open_ = np.arange(L)
        done[:] = False
    for i in np.flatnonzero(done):
        rows, cols = leaf_slices(tree, i)
        canvas[rows, cols] = truth[rows, cols]
    pick = rng.permutation(open_)[:leaves]
    own = np.asarray(leaf_node(tree, pick))
    return {"patches": node_patches(canvas, cfg), "tokens": shat.tokens[pick],
            "level": tree.level[pick], "boxes": tree.boxes[pick],
            "truth": node_patches(truth, cfg)[own], "label": label}


class RefinerDataset(Dataset):
    def __init__(self, arr: GenArrays, leaves: int = 8, seed: int = 0,
                 cfg: GeometryConfig | None = None):
        self.arr, self.leaves, self.seed, self.epoch = arr, leaves, seed, 0
        self.cfg = cfg or GeometryConfig()
        # sketches whose S-hat has no leaf cannot teach anything
        self.ok = np.array([bool((a > 0.5).any()) for a in arr.coarse])

    def __len__(self) -> int:
        return len(self.arr)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __getitem__(self, i: int) -> dict:
        j = i if self.ok[i] else int(np.flatnonzero(self.ok)[i % int(self.ok.sum())])
        rng = np.random.default_rng((self.seed, self.epoch, i))
        return teacher_forcing_item(self.arr.ink(j), self.arr.coarse[j], int(self.arr.labels[j]),
                                    rng, self.leaves, self.cfg)


def collate_leaves(items: list[dict]) -> dict[str, torch.Tensor]:
    """Pad the K leaves of each canvas to the batch's largest K (mask marks real ones)."""
    B = len(items)
    K = max(len(it["tokens"]) for it in items)
    S = items[0]["tokens"].shape[1]
    P = items[0]["patches"].shape[-1]
    tokens = torch.full((B, K, S), -1, dtype=torch.long)
    level = torch.zeros(B, K, dtype=torch.long)
    boxes = torch.zeros(B, K, 4)
    truth = torch.ones(B, K, P, P)
    mask = torch.zeros(B, K, dtype=torch.bool)
    for b, it in enumerate(items):
        k = len(it["tokens"])
        tokens[b, :k] = torch.from_numpy(it["tokens"])
        level[b, :k] = torch.from_numpy(it["level"])
        boxes[b, :k] = torch.from_numpy(it["boxes"])
        truth[b, :k] = torch.from_numpy(it["truth"].astype(np.float32))
        mask[b, :k] = True
    return {"patches": torch.from_numpy(np.stack([it["patches"] for it in items]).astype(np.float32)),
            "tokens": tokens, "level": level, "boxes": boxes, "truth": truth, "mask": mask,
            "label": torch.tensor([it["label"] for it in items], dtype=torch.long)}


class TeacherForcing(torch.nn.Module):
    """The refiner plus the frozen tokenizer that turns truth patches into target codes."""

    def __init__(self, refiner: LeafRefiner, tokenizer: VQVAE):
        super().__init__()
        self.refiner = refiner
        self.tokenizer = [tokenizer.eval()]      # a list: not a submodule, never trained

    def forward(self, batch: dict, targets=None) -> dict:
        B, K, P, _ = batch["truth"].shape
        codes = self.tokenizer[0].tokenize(batch["truth"].view(B * K, 1, P, P)).view(B, K, -1)
        return self.refiner({**batch, "codes": codes})


def train_refiner(data_dir: str | Path, out: str | Path | None, tokenizer: VQVAE, *,
                  cfg: RefinerConfig | None = None, train_cfg: TrainConfig | None = None,
                  copies: int = 3, leaves: int = 8, cache_dir: str | Path = "runs/gen/cache",
                  limit_per_class: int | None = None, val_canvases: int = 300,
                  minutes: float = 0.0, init: str | Path | None = None, resume: bool = False,
                  log=print) -> tuple[LeafRefiner, dict]:
    """Teacher-forced training; reports token accuracy and loss on val canvases.
    ``minutes`` > 0 stops at the first step past that wall time (and still saves).
    ``init``: start from this refiner checkpoint's weights (same config). ``resume``: continue
    from ``OUT.state`` (weights, optimiser, epoch and step; written with every checkpoint); an
    epoch stopped part-way starts again from its beginning, the schedule where it stopped."""
    tc = train_cfg or TrainConfig(epochs=4, batch_size=24, lr=1e-3, warmup_steps=200,
                                  weight_decay=0.05, workers=1)
    tr = cached_arrays(data_dir, "train", cache_dir, copies=copies,
                       limit_per_class=limit_per_class, log=log)
    va = cached_arrays(data_dir, "val", cache_dir, limit_per_class=limit_per_class, log=log)
    cfg = replace(cfg or RefinerConfig(), num_classes=len(tr.classes),
                  codebook=tokenizer.cfg.codebook, seq_len=tokenizer.cfg.tokens)
    torch.manual_seed(tc.seed)
    model = LeafRefiner(cfg)
    if init is not None:
        start, _ = load_refiner(init)
        if start.cfg != cfg:
            raise ModelError(f"{init}: its config differs from this run's; cannot start from it")
        model.load_state_dict({k: v.float() for k, v in start.state_dict().items()})
    wrapped = TeacherForcing(model, tokenizer)
    vds = RefinerDataset(va, leaves, seed=tc.seed + 99)
    n_val = min(val_canvases, len(vds))
    val_batch = collate_leaves([vds[i] for i in range(n_val)])
    metrics: dict = {}
    t0 = time.perf_counter()
    losses: list[float] = []

    def on_event(event, trainer, **info):
        if event == "step":
            losses.append(info["loss"])
            if trainer.step % 50 == 0:
                log(json.dumps({"refiner_step": trainer.step, "loss": round(info["loss"], 4),
                                "minutes": round((time.perf_counter() - t0) / 60, 2)}))
            if minutes and time.perf_counter() - t0 > minutes * 60:
                raise _TimeUp
            return
        if event == "epoch_end":
            evaluate(trainer, info["train_loss"])

    def evaluate(trainer, train_loss: float) -> None:
        nonlocal metrics
        wrapped.eval()
        with torch.no_grad():
            res = wrapped(val_batch)
        wrapped.train()
        metrics = {"epoch": trainer.epoch, "step": trainer.step, "train_loss": train_loss,
                   "val_loss": float(res["loss"]), "val_token_acc": float(res["acc"])}
        if init is not None:
            metrics["init"] = str(init)
        log(json.dumps({"refiner": metrics}))
        if out is not None:
            save_checkpoint(out, kind="refiner", config=cfg, model=model, classes=tr.classes,
                            metrics=metrics, half=True)
            tmp = Path(f"{state_path}.tmp")
            torch.save({"model": model.state_dict(), "trainer": trainer.state()}, tmp)
            tmp.replace(state_path)

    state_path = None if out is None else Path(f"{out}.state")
    trainer = Trainer(wrapped, RefinerDataset(tr, leaves, seed=tc.seed), collate_leaves, tc,
                      torch.device("cpu"), tr.labels, [on_event])
    if resume and state_path is not None and state_path.exists():
        st = torch.load(state_path, map_location="cpu", weights_only=True)
        model.load_state_dict(st["model"])
        trainer.load_state(st["trainer"])
        log(f"resuming {out} at epoch {trainer.epoch}, step {trainer.step}")
    try:
        trainer.fit()
    except _TimeUp:
        evaluate(trainer, float(np.mean(losses[-50:])))
    return model.eval(), metrics


class _TimeUp(Exception):
    """Raised from the step callback when the wall-time budget is spent."""

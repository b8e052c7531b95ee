"""One training loop for every model: AdamW, warmup + cosine, grad clipping, resumable
checkpoints, callbacks, and data parallelism under ``torchrun`` (NCCL on GPUs, gloo on CPUs).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.distributed as dist


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 20
    batch_size: int = 32
    lr: float = 1.5e-3
    min_lr_ratio: float = 0.05
    weight_decay: float = 0.05
    warmup_steps: int = 200
    clip: float = 1.0
    seed: int = 0
    workers: int = 1
    balance: bool = True        # cap each class at the median class size per epoch
    max_steps: int = 0          # stop early after this many steps (0: run all epochs)


def lr_at(step: int, total: int, cfg: TrainConfig) -> float:
    """Linear warmup to ``cfg.lr`` then cosine decay to ``cfg.lr * cfg.min_lr_ratio``."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    t = min(1.0, (step - cfg.warmup_steps) / max(1, total - cfg.warmup_steps))
    lo = cfg.lr * cfg.min_lr_ratio
    return lo + 0.5 * (cfg.lr - lo) * (1 + math.cos(math.pi * t))


@dataclass
class DistInfo:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0


def init_distributed(device: torch.device) -> DistInfo:
    """Join the process group when launched by torchrun (WORLD_SIZE > 1)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo()
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend)
    return DistInfo(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", 0)))


def close_distributed(info: DistInfo) -> None:
    """Leave the process group together: every rank waits for the others, then tears down.

    Call ``Trainer.release()`` first. Exiting with the group still open lets the interpreter
    destroy the backend's worker threads mid-flight, which can abort the process ("terminate
    called without an active exception") after training finished.
    """
    if info.world > 1 and dist.is_initialized():
        import gc

        gc.collect()  # DDP wrappers already released must be gone before the group is
        dist.barrier()
        dist.destroy_process_group()


def epoch_indices(labels: np.ndarray, epoch: int, cfg: TrainConfig, info: DistInfo) -> np.ndarray:
    """This rank's sample order for one epoch; the same on every rank before sharding.

    With ``balance``, each class contributes at most the median class size (a fresh random
    subset each epoch), so one large class does not dominate.
    """
    rng = np.random.default_rng((cfg.seed, epoch))
    if cfg.balance:
        counts = np.bincount(labels)
        cap = int(np.median(counts[counts > 0]))
        picks = []
        for c in np.nonzero(counts)[0]:
            idx = np.nonzero(labels == c)[0]
            picks.append(rng.permutation(idx)[:cap])
        order = rng.permutation(np.concatenate(picks))
    else:
        order = rng.permutation(len(labels))
    n = len(order) // info.world * info.world  # equal shards: ranks stay in step
    return order[:n][info.rank::info.world]


@dataclass
class Trainer:
    """Runs ``model(batch, targets) -> {"loss": ...}`` over a dataset for ``cfg.epochs``.

    callbacks: called as cb(event, trainer, **info) with events "step", "epoch_end".
    """

    model: torch.nn.Module
    dataset: torch.utils.data.Dataset
    collate: Callable
    cfg: TrainConfig
    device: torch.device
    labels: np.ndarray
    callbacks: list[Callable] = field(default_factory=list)
    info: DistInfo = field(default_factory=DistInfo)
    epoch: int = 0
    step: int = 0

    def __post_init__(self) -> None:
        self.model.to(self.device)
        self.net = self.model
        if self.info.world > 1:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.net = torch.nn.parallel.DistributedDataParallel(self.model, device_ids=ids)
        decay = [p for n, p in self.model.named_parameters() if p.ndim >= 2]
        no_decay = [p for n, p in self.model.named_parameters() if p.ndim < 2]
        self.opt = torch.optim.AdamW(
            [{"params": decay, "weight_decay": self.cfg.weight_decay},
             {"params": no_decay, "weight_decay": 0.0}], lr=self.cfg.lr, betas=(0.9, 0.98))

    @property
    def steps_per_epoch(self) -> int:
        n = len(epoch_indices(self.labels, 0, self.cfg, self.info))
        return max(1, math.ceil(n / self.cfg.batch_size))

    @property
    def total_steps(self) -> int:
        total = self.steps_per_epoch * self.cfg.epochs
        return min(total, self.cfg.max_steps) if self.cfg.max_steps else total

    def state(self) -> dict:
        return {"optimizer": self.opt.state_dict(), "epoch": self.epoch, "step": self.step}

    def load_state(self, state: dict) -> None:
        self.opt.load_state_dict(state["optimizer"])
        self.epoch, self.step = int(state["epoch"]), int(state["step"])

    def release(self) -> None:
        """Drop the data-parallel wrapper (and its hold on the process group); weights stay."""
        self.net = self.model

    def _emit(self, event: str, **info) -> None:
        for cb in self.callbacks:
            cb(event, self, **info)

    def fit(self) -> None:
        from tqdm import tqdm

        total = self.total_steps
        while self.epoch < self.cfg.epochs and self.step < total:
            if hasattr(self.dataset, "set_epoch"):
                self.dataset.set_epoch(self.epoch)
            idx = epoch_indices(self.labels, self.epoch, self.cfg, self.info)
            loader = torch.utils.data.DataLoader(
                torch.utils.data.Subset(self.dataset, idx.tolist()),
                batch_size=self.cfg.batch_size, shuffle=False, collate_fn=self.collate,
                num_workers=self.cfg.workers, persistent_workers=False)
            self.net.train()
            bar = tqdm(loader, desc=f"epoch {self.epoch + 1}/{self.cfg.epochs}",
                       disable=not self.info.main, dynamic_ncols=True, mininterval=2.0)
            t0, seen, loss_sum = time.perf_counter(), 0, 0.0
            for batch in bar:
                if self.step >= total:
                    break
                lr = lr_at(self.step, total, self.cfg)
                for g in self.opt.param_groups:
                    g["lr"] = lr
                batch = {k: v.to(self.device, non_blocking=True) for k, v in batch.items()}
                out = self.net(batch, batch["label"])
                loss = out["loss"]
                self.opt.zero_grad(set_to_none=True)
                loss.backward()
                gnorm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.clip)
                self.opt.step()
                self.step += 1
                lv = loss.item()
                seen += len(batch["label"])
                loss_sum += lv * len(batch["label"])
                bar.set_postfix(loss=f"{lv:.3f}", lr=f"{lr:.2e}")
                self._emit("step", loss=lv, lr=lr, grad_norm=float(gnorm))
            self.epoch += 1
            rate = seen / max(1e-9, time.perf_counter() - t0)
            self._emit("epoch_end", train_loss=loss_sum / max(1, seen), samples_per_s=rate)


def replica_spread(model: torch.nn.Module) -> float:
    """Largest difference of any parameter between data-parallel ranks (0.0 when alone).

    DDP keeps replicas identical by averaging gradients; this checks it really did.
    """
    if not (dist.is_available() and dist.is_initialized()):
        return 0.0
    flat = torch.cat([p.detach().float().flatten().cpu() for p in model.parameters()])
    lo, hi = flat.clone(), flat.clone()
    dist.all_reduce(lo, op=dist.ReduceOp.MIN)
    dist.all_reduce(hi, op=dist.ReduceOp.MAX)
    return float((hi - lo).max())

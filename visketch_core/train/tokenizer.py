"""Training the leaf tokenizer (VQ-VAE) on SDF patches cut at S-hat leaves of real sketches.

Reports the codebook perplexity and the ink IoU of reconstructions on validation patches;
``binary=True`` trains the same model on +-1 ink masks (the paper's reason for the SDF).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch

from visketch_core.generate.data import cached_arrays, leaf_patches
from visketch_core.models.checkpoint import load_weights, read_checkpoint, save_checkpoint
from visketch_core.models.vqvae import VQVAE, VQVAEConfig, ink_iou
from visketch_core.train.loop import TrainConfig, lr_at


def load_tokenizer(path: str | Path) -> VQVAE:
    blob = read_checkpoint(path, kind="tokenizer")
    model = VQVAE(VQVAEConfig(**blob["config"]))
    return load_weights(model, blob, path).eval()


def random_dihedral(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Each (1, P, P) patch of a batch rotated by k*90 degrees and maybe flipped."""
    k = int(torch.randint(0, 4, (1,), generator=g))
    x = torch.rot90(x, k, dims=(2, 3))
    return x.flip(3) if bool(torch.randint(0, 2, (1,), generator=g)) else x


@torch.no_grad()
def evaluate_tokenizer(model: VQVAE, patches: np.ndarray, batch: int = 1024) -> dict:
    """Ink IoU (pooled, and mean over patches with ink), perplexity and codes used."""
    model.eval()
    counts = np.zeros(model.cfg.codebook)
    inter = union = 0
    per = []
    for i in range(0, len(patches), batch):
        x = torch.from_numpy(patches[i: i + batch].astype(np.float32))[:, None]
        idx = model.tokenize(x)
        rec = model.decode_indices(idx)
        counts += np.bincount(idx.flatten().numpy(), minlength=len(counts))
        a, b = (rec < 0).flatten(1), (x < 0).flatten(1)
        inter += (a & b).sum().item()
        union += (a | b).sum().item()
        u = (a | b).sum(1).float()
        keep = u > 0
        per.extend(((a & b).sum(1).float()[keep] / u[keep]).tolist())
    p = counts / counts.sum()
    nz = p[p > 0]
    return {"ink_iou": inter / max(1, union), "mean_patch_iou": float(np.mean(per)) if per else 1.0,
            "perplexity": float(np.exp(-(nz * np.log(nz)).sum())),
            "codes_used": int((counts > 0).sum()), "patches": int(len(patches))}


def train_tokenizer(data_dir: str | Path, out: str | Path | None, *, cfg: VQVAEConfig | None = None,
                    train_cfg: TrainConfig | None = None, max_patches: int = 60000,
                    val_patches: int = 6000, cache_dir: str | Path = "runs/gen/cache",
                    minutes: float = 0.0, limit_per_class: int | None = None,
                    eval_every: int = 500, log=print) -> tuple[VQVAE, dict]:
    """Train on the train split, measure on the val split; write ``out`` (kind tokenizer)."""
    cfg = cfg or VQVAEConfig()
    tc = train_cfg or TrainConfig(batch_size=128, lr=2e-3, warmup_steps=200, max_steps=6000,
                                  weight_decay=0.0)
    torch.manual_seed(tc.seed)
    tr = cached_arrays(data_dir, "train", cache_dir, limit_per_class=limit_per_class, log=log)
    va = cached_arrays(data_dir, "val", cache_dir, limit_per_class=limit_per_class, log=log)
    t_sdf, t_bin = leaf_patches(tr, max_patches=max_patches, seed=tc.seed)
    v_sdf, v_bin = leaf_patches(va, max_patches=val_patches, seed=tc.seed + 1)
    train_x, val_x = (t_bin, v_bin) if cfg.binary else (t_sdf, v_sdf)
    model = VQVAE(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=tc.lr, weight_decay=tc.weight_decay)
    g = torch.Generator().manual_seed(tc.seed)
    total = tc.max_steps
    t0 = time.perf_counter()
    metrics: dict = {}
    for step in range(total):
        for grp in opt.param_groups:
            grp["lr"] = lr_at(step, total, tc)
        idx = torch.randint(0, len(train_x), (tc.batch_size,), generator=g).numpy()
        x = random_dihedral(torch.from_numpy(train_x[idx].astype(np.float32))[:, None], g)
        model.train()
        res = model(x)
        opt.zero_grad(set_to_none=True)
        res["loss"].backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), tc.clip)
        opt.step()
        over = minutes and time.perf_counter() - t0 > minutes * 60
        if (step + 1) % eval_every == 0 or step + 1 == total or over:
            metrics = evaluate_tokenizer(model, val_x)
            metrics.update(step=step + 1, rec_loss=float(res["rec_loss"]),
                           batch_perplexity=res["perplexity"],
                           train_iou=ink_iou(res["recon"], x), minutes=(time.perf_counter() - t0) / 60)
            log(json.dumps({"tokenizer": metrics}))
        if over:
            break
    metrics["binary"] = cfg.binary
    if out is not None:
        save_checkpoint(out, kind="tokenizer", config=cfg, model=model, metrics=metrics,
                        extra={"train": asdict(replace(tc))})
    return model.eval(), metrics

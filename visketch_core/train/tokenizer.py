"""Training the leaf tokenizer (VQ-VAE) on SDF patches cut at S-hat leaves of real sketches.

Reports the codebook perplexity and the ink IoU of reconstructions on validation patches;
``binary=True`` trains the same model on +-1 ink masks (the paper's reason for the SDF).
``init`` with ``decoder_only`` trains on only the decoder of a trained tokenizer: encoder and
codebook stay as they are, so every patch keeps its codes and a refiner trained on them
stays valid, while the codes are drawn back more faithfully. ``extra_dir`` adds the leaf
patches of another corpus's train split (a leaf's ink does not depend on its class).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch

from visketch_core.errors import ModelError
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


def decoder_step(model: VQVAE, x: torch.Tensor) -> dict:
    """The reconstruction loss of ``VQVAE.forward`` with the codes fixed: the encoder and
    the codebook are read, never updated (no gradient, no EMA step, no restarts)."""
    with torch.no_grad():
        z_q = model.quantizer.lookup(model.tokenize(x).view(-1, model.cfg.grid, model.cfg.grid))
    y = torch.tanh(model.decoder(z_q))
    t = model._in(x)
    w = 1.0 + model.cfg.edge_weight * torch.exp(-4.0 * t.abs())
    rec = (w * (y - t).abs()).mean()
    return {"recon": model._out(y), "rec_loss": rec, "loss": rec,
            "perplexity": None}      # the codebook is not touched: no batch perplexity


def train_tokenizer(data_dir: str | Path, out: str | Path | None, *, cfg: VQVAEConfig | None = None,
                    train_cfg: TrainConfig | None = None, max_patches: int = 60000,
                    val_patches: int = 6000, cache_dir: str | Path = "runs/gen/cache",
                    minutes: float = 0.0, limit_per_class: int | None = None,
                    eval_every: int = 500, init: str | Path | None = None,
                    decoder_only: bool = False, extra_dir: str | Path | None = None,
                    log=print) -> tuple[VQVAE, dict]:
    """Train on the train split, measure on the val split; write ``out`` (kind tokenizer)."""
    if decoder_only and init is None:
        raise ModelError("--decoder-only trains the decoder of a trained tokenizer: give --init")
    start = load_tokenizer(init) if init is not None else None
    cfg = start.cfg if start is not None else (cfg or VQVAEConfig())
    tc = train_cfg or TrainConfig(batch_size=128, lr=2e-3, warmup_steps=200, max_steps=6000,
                                  weight_decay=0.0)
    torch.manual_seed(tc.seed)
    tr = cached_arrays(data_dir, "train", cache_dir, limit_per_class=limit_per_class, log=log)
    va = cached_arrays(data_dir, "val", cache_dir, limit_per_class=limit_per_class, log=log)
    t_sdf, t_bin = leaf_patches(tr, max_patches=max_patches, seed=tc.seed)
    v_sdf, v_bin = leaf_patches(va, max_patches=val_patches, seed=tc.seed + 1)
    train_x, val_x = (t_bin, v_bin) if cfg.binary else (t_sdf, v_sdf)
    if extra_dir is not None:
        ex = cached_arrays(extra_dir, "train", cache_dir, log=log)
        e_sdf, e_bin = leaf_patches(ex, max_patches=max_patches, seed=tc.seed + 2)
        train_x = np.concatenate([train_x, e_bin if cfg.binary else e_sdf])
        log(f"adding {len(e_sdf)} leaf patches from {extra_dir}")
    model = start if start is not None else VQVAE(cfg)
    params = model.decoder.parameters() if decoder_only else model.parameters()
    opt = torch.optim.AdamW(params, lr=tc.lr, weight_decay=tc.weight_decay)
    before = evaluate_tokenizer(model, val_x) if start is not None else None
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
        res = decoder_step(model, x) if decoder_only else model(x)
        opt.zero_grad(set_to_none=True)
        res["loss"].backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), tc.clip)
        opt.step()
        over = minutes and time.perf_counter() - t0 > minutes * 60
        if (step + 1) % eval_every == 0 or step + 1 == total or over:
            metrics = evaluate_tokenizer(model, val_x)
            metrics.update(step=step + 1, rec_loss=float(res["rec_loss"].detach()),
                           batch_perplexity=res["perplexity"],
                           train_iou=ink_iou(res["recon"], x), minutes=(time.perf_counter() - t0) / 60)
            log(json.dumps({"tokenizer": metrics}))
        if over:
            break
    metrics["binary"] = cfg.binary
    if start is not None:
        metrics.update(init=str(init), decoder_only=decoder_only,
                       **{f"init_{k}": before[k] for k in ("ink_iou", "mean_patch_iou")})
    if out is not None:
        save_checkpoint(out, kind="tokenizer", config=cfg, model=model, metrics=metrics,
                        extra={"train": asdict(replace(tc))})
    return model.eval(), metrics

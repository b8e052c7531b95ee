"""Training the plain CNN (baseline and judge) with the same augmentations and loop."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch
from torch.utils.data import Dataset

from visketch_core.data.augment import AugmentConfig, augment
from visketch_core.data.corpus import Corpus
from visketch_core.models.cnn import CNNConfig, SketchCNN, ink_batch, render_small
from visketch_core.train.loop import TrainConfig, Trainer


class RenderDataset(Dataset):
    """Items are (ink (S, S) float32, label); augmented afresh each epoch when asked."""

    def __init__(self, corpus: Corpus, size: int = 64, augment_cfg: AugmentConfig | None = None,
                 seed: int = 0):
        self.corpus, self.size, self.aug, self.seed, self.epoch = corpus, size, augment_cfg, seed, 0
        self._memo: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.corpus)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __getitem__(self, i: int):
        sk = self.corpus.sketches[i]
        if self.aug is None:
            if i not in self._memo:
                self._memo[i] = render_small(sk, self.size)
            return self._memo[i], self.corpus.labels[i]
        rng = np.random.default_rng((self.seed, self.epoch, i))
        width = float(rng.uniform(*self.aug.width_range))
        return render_small(augment(sk, rng, self.aug), self.size, width), self.corpus.labels[i]


def collate_ink(items) -> dict[str, torch.Tensor]:
    return {"ink": ink_batch([x for x, _ in items]),
            "label": torch.tensor([y for _, y in items], dtype=torch.long)}


class _Adapter(torch.nn.Module):
    """Lets the shared Trainer feed dict batches to the CNN."""

    def __init__(self, model: SketchCNN):
        super().__init__()
        self.model = model

    def forward(self, batch: dict, targets=None) -> dict:
        return self.model(batch["ink"], targets)


@torch.inference_mode()
def predict_cnn(model: SketchCNN, images: np.ndarray, device: torch.device | None = None,
                batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """(probs (N, C), features (N, F)) for (N, S, S) ink images."""
    device = device or torch.device("cpu")
    model.eval()
    probs, feats = [], []
    for i in range(0, len(images), batch_size):
        out = model(ink_batch(images[i: i + batch_size]).to(device))
        probs.append(out["probs"].cpu().numpy())
        feats.append(out["features"].cpu().numpy())
    return np.concatenate(probs), np.concatenate(feats)


def train_cnn(train: Corpus, val: Corpus | None = None, *, cfg: CNNConfig | None = None,
              train_cfg: TrainConfig | None = None, device: torch.device | None = None,
              callbacks=None) -> SketchCNN:
    """Train a SketchCNN on ``train`` (augmented); keeps the epoch best on ``val``."""
    from visketch_core.eval.metrics import balanced_accuracy

    device = device or torch.device("cpu")
    cfg = replace(cfg or CNNConfig(), num_classes=len(train.classes))
    train_cfg = train_cfg or TrainConfig(epochs=20, batch_size=64, lr=2e-3, warmup_steps=100)
    model = SketchCNN(cfg)
    ds = RenderDataset(train, cfg.size, AugmentConfig(), seed=train_cfg.seed)
    best = {"score": -1.0, "state": None}
    val_imgs = None if val is None else np.stack(
        [render_small(s, cfg.size) for s in val.sketches])

    def on_epoch(event, tr, **kw):
        if event != "epoch_end" or val is None:
            return
        probs, _ = predict_cnn(model, val_imgs, device)
        score = balanced_accuracy(probs, np.asarray(val.labels))
        if score > best["score"]:
            best["score"] = score
            best["state"] = {k: v.detach().clone() for k, v in model.state_dict().items()}
        model.train()

    Trainer(_Adapter(model), ds, collate_ink, train_cfg, device, np.asarray(train.labels),
            [on_epoch, *(callbacks or [])]).fit()
    if best["state"] is not None:
        model.load_state_dict(best["state"])
    return model.eval()

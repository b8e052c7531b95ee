"""Shared test setup: offscreen Qt, isolated user dirs, paths to the QuickDraw data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "quickdraw"
SIMPLIFIED = DATA / "simplified-15"
MINI = Path(__file__).resolve().parent / "fixtures" / "quickdraw-mini"


@pytest.fixture(autouse=True)
def _user_dirs(tmp_path_factory, monkeypatch):
    """Settings and autosaves of tests never touch the real user's dirs."""
    base = tmp_path_factory.mktemp("userdirs")
    monkeypatch.setenv("VISKETCH_CONFIG_DIR", str(base / "config"))
    monkeypatch.setenv("VISKETCH_DATA_DIR", str(base / "data"))


@pytest.fixture(scope="session")
def quickdraw_dir() -> Path:
    """The full 15-class folder when it is next to the checkout, else the small fixture
    (a few real sketches per class, test-split ones included)."""
    return SIMPLIFIED if SIMPLIFIED.is_dir() else MINI


@pytest.fixture(scope="session")
def cat_sketches(quickdraw_dir):
    from visketch_core.sketch.quickdraw import iter_ndjson

    out = []
    for sk in iter_ndjson(quickdraw_dir / "cat.ndjson"):
        out.append(sk)
        if len(out) >= 40:
            break
    return out


TINY_CLASSES = ["cat", "eye", "map"]


@pytest.fixture(scope="session")
def tiny_gen_models(tmp_path_factory) -> Path:
    """A folder with tiny untrained tokenizer/diffusion/refiner checkpoints (classes
    TINY_CLASSES): the real generation code paths at a fraction of a second a sketch."""
    import torch

    from visketch_core.models.checkpoint import save_checkpoint
    from visketch_core.models.context_encoder import ContextEncoderConfig
    from visketch_core.models.diffusion import DiffusionConfig
    from visketch_core.models.refiner import LeafRefiner, RefinerConfig
    from visketch_core.models.unet import UNet, UNetConfig
    from visketch_core.models.vqvae import VQVAE, VQVAEConfig
    from visketch_core.train.diffusion import save_diffusion

    torch.manual_seed(0)
    d = tmp_path_factory.mktemp("models")
    tok = VQVAE(VQVAEConfig(codebook=16, code_dim=8, width=16))
    save_checkpoint(d / "tokenizer.pt", kind="tokenizer", config=tok.cfg, model=tok)
    unet = UNet(UNetConfig(num_classes=3, base=16, blocks=1, mults=(1, 2), attn_res=()))
    for p in unet.out.parameters():        # non-zero output: the untrained model draws noise
        torch.nn.init.normal_(p, std=0.3)
    save_diffusion(d / "diffusion.pt", unet, DiffusionConfig(sample_steps=3), TINY_CLASSES, {},
                   sampling={"steps": 3})
    enc = ContextEncoderConfig(dim=16, layers=1, heads=2, stem_width=8)
    ref = LeafRefiner(RefinerConfig(encoder=enc, num_classes=3, codebook=16, seq_len=16,
                                    dec_layers=1, heads=2))
    save_checkpoint(d / "refiner.pt", kind="refiner", config=ref.cfg, model=ref,
                    classes=TINY_CLASSES)
    return d

"""Tiny-config tests of the generation models: shapes, gradients, masks, overfitting."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from visketch_core.models.context_encoder import ContextEncoderConfig
from visketch_core.models.diffusion import DiffusionConfig, GaussianDiffusion, cosine_alpha_bar
from visketch_core.models.refiner import LeafRefiner, RefinerConfig
from visketch_core.models.unet import UNet, UNetConfig
from visketch_core.models.vqvae import VQVAE, VQVAEConfig, ink_iou


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny models run fastest on one thread (and never oversubscribe a busy machine)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _sdf_patches(n: int, seed: int = 0) -> torch.Tensor:
    """(n, 1, 32, 32) SDF patches of random line segments."""
    import cv2

    from visketch_core.geometry import sdf_from_ink

    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        img = np.zeros((32, 32), np.float32)
        p = rng.integers(0, 32, size=4)
        cv2.line(img, (int(p[0]), int(p[1])), (int(p[2]), int(p[3])), 1.0, 3)
        out.append(sdf_from_ink(img, 16.0))
    return torch.from_numpy(np.stack(out))[:, None]


@pytest.mark.parametrize("grid", [4, 8])
def test_vqvae_shapes(grid):
    m = VQVAE(VQVAEConfig(grid=grid, codebook=32, code_dim=8, width=16))
    x = _sdf_patches(3)
    out = m(x)
    assert out["recon"].shape == x.shape
    assert out["indices"].shape == (3, grid * grid)
    assert m.decode_indices(out["indices"]).shape == x.shape
    assert m.tokenize(x).shape == (3, grid * grid)
    assert float(out["recon"].detach().abs().max()) <= 1.0


def test_straight_through_gradient_reaches_encoder():
    m = VQVAE(VQVAEConfig(codebook=16, code_dim=8, width=16))
    out = m(_sdf_patches(4))
    out["rec_loss"].backward()           # the reconstruction loss alone, through the quantizer
    g = m.encoder[0].weight.grad
    assert g is not None and float(g.abs().sum()) > 0


def test_dead_codes_restart_on_encoder_outputs():
    torch.manual_seed(0)
    m = VQVAE(VQVAEConfig(codebook=64, code_dim=8, width=16, decay=0.5, dead_after=0.5))
    x = _sdf_patches(32)
    for _ in range(2):                   # unused codes' usage: 1 -> 0.5 -> 0.25 (< 0.5)
        m(x)
    q = m.quantizer
    with torch.no_grad():
        z = m.encoder(m._in(x)).permute(0, 2, 3, 1).reshape(-1, 8)
    d = torch.cdist(q.embed, z).min(1).values            # each code to its nearest output
    assert int((d < 0.1).sum()) > 32                     # most codes now sit on encoder outputs
    assert bool((q.usage >= 0.5).all())


def test_vqvae_overfits_one_batch():
    torch.manual_seed(0)
    m = VQVAE(VQVAEConfig(codebook=64, code_dim=16, width=32, grid=8))
    x = _sdf_patches(16)
    opt = torch.optim.Adam(m.parameters(), 3e-3)
    for _ in range(250):
        out = m(x)
        opt.zero_grad()
        out["loss"].backward()
        opt.step()
    m.eval()
    assert ink_iou(m(x)["recon"], x) > 0.6


def test_unet_and_diffusion_shapes_and_inpainting():
    torch.manual_seed(0)
    net = UNet(UNetConfig(num_classes=3, base=16, blocks=1, mults=(1, 2), attn_res=(16,)))
    x = torch.randn(2, 1, 32, 32)
    assert net(x, torch.tensor([10.0, 500.0]), torch.tensor([0, 3])).shape == x.shape
    diff = GaussianDiffusion(DiffusionConfig(sample_steps=4), num_classes=3)
    known = torch.rand(2, 1, 32, 32) * 2 - 1
    mask = torch.rand(2, 1, 32, 32) < 0.3
    out = diff.sample(net.eval(), torch.tensor([0, 1]), known=known, known_mask=mask)
    assert out.shape == (2, 1, 32, 32)
    assert torch.equal(out[mask], known[mask])
    ab = cosine_alpha_bar(torch.linspace(0, 1, 11))
    assert bool((ab[1:] <= ab[:-1]).all()) and float(ab[0]) > 0.99


def test_dpm2m_solves_the_sampling_ode_closer_than_ddim_in_few_steps():
    """Gaussian data N(0, sd^2): the ideal denoiser is known in closed form, and so is where
    the deterministic sampler must end (x_T scaled by sd / sqrt(a^2 sd^2 + s^2) at T)."""
    diff = GaussianDiffusion(DiffusionConfig(timesteps=1000), num_classes=1)
    sd = 0.3

    def ideal(x, t, y):
        ab = diff.alpha_bar[t.long()][:, None, None, None]
        a, s = ab.sqrt(), (1 - ab).sqrt()
        x0 = a * sd ** 2 * x / (ab * sd ** 2 + 1 - ab)
        eps = (x - a * x0) / s
        return a * eps - s * x0                       # v

    ab_T = float(diff.alpha_bar[1000])
    y = torch.zeros(64, dtype=torch.long)
    errors = {}
    for solver in ("ddim", "dpm2m"):
        for steps in (6, 10, 15, 200):
            x = diff.sample(ideal, y, shape=(1, 4, 4), steps=steps, guidance=1.0, solver=solver,
                            generator=torch.Generator().manual_seed(0))
            x_T = torch.randn((64, 1, 4, 4), generator=torch.Generator().manual_seed(0))
            exact = sd * x_T / (ab_T * sd ** 2 + 1 - ab_T) ** 0.5
            errors[solver, steps] = float((x - exact).abs().mean())
    assert errors["ddim", 200] < 0.01 and errors["dpm2m", 200] < 0.002
    assert errors["dpm2m", 15] < 0.5 * errors["ddim", 15]
    assert errors["dpm2m", 10] < errors["ddim", 15]      # 10 second-order steps do for 15
    assert errors["dpm2m", 6] < errors["ddim", 6]
    with pytest.raises(ValueError):
        diff.sample(ideal, y, shape=(1, 4, 4), steps=2, guidance=1.0, solver="euler")


def test_guidance_stops_below_guide_from_and_each_such_step_is_one_pass():
    """Guidance only where t / T >= guide_from: below it the network sees the conditional
    batch alone (B rows, not 2B), and guide_from = 0 guides every step."""
    diff = GaussianDiffusion(DiffusionConfig(timesteps=1000), num_classes=3)
    calls = []

    def net(x, t, y):
        calls.append((float(t[0]), len(x), bool((y == diff.null).any())))
        return torch.zeros_like(x)

    y = torch.tensor([0, 2])
    for gf in (0.0, 0.3):
        calls.clear()
        diff.sample(net, y, shape=(1, 4, 4), steps=10, guidance=3.0, guide_from=gf)
        assert len(calls) == 10
        for t, rows, uncond in calls:
            guided = t >= gf * 1000
            assert rows == (4 if guided else 2) and uncond == guided
    assert sum(rows == 2 for _, rows, _ in calls) == 2       # t = 200 and 100


def test_diffusion_overfits_one_batch():
    torch.manual_seed(0)
    net = UNet(UNetConfig(num_classes=2, base=16, blocks=1, mults=(1, 2), attn_res=()))
    diff = GaussianDiffusion(DiffusionConfig(), num_classes=2)
    x0 = torch.zeros(8, 1, 32, 32) - 1
    x0[:, :, 10:20, 15] = 1
    y = torch.zeros(8, dtype=torch.long)
    opt = torch.optim.Adam(net.parameters(), 2e-3)
    g = torch.Generator().manual_seed(0)
    losses = []
    for _ in range(120):
        loss = diff.loss(net, x0, y, generator=g)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert np.mean(losses[-20:]) < 0.5 * np.mean(losses[:10])


def _refiner(**kw) -> LeafRefiner:
    enc = ContextEncoderConfig(dim=32, layers=1, heads=2, stem_width=8, dropout=0.0)
    return LeafRefiner(RefinerConfig(encoder=enc, num_classes=3, codebook=20, seq_len=6,
                                     dec_layers=1, heads=2, dropout=0.0, **kw))


def _refiner_batch(B: int = 2, K: int = 3, seed: int = 0) -> dict:
    g = torch.Generator().manual_seed(seed)
    tokens = torch.randint(-1, 85, (B, K, 36), generator=g)
    return {"patches": torch.rand(B, 85, 32, 32, generator=g) * 2 - 1, "tokens": tokens,
            "level": torch.full((B, K), 3), "boxes": torch.rand(B, K, 4, generator=g) * 256,
            "mask": torch.ones(B, K, dtype=torch.bool), "label": torch.tensor([0, 2])[:B],
            "codes": torch.randint(0, 20, (B, K, 6), generator=g)}


def test_refiner_shapes_and_sampling():
    m = _refiner().eval()
    b = _refiner_batch()
    b["mask"][1, 2] = False
    out = m(b)
    assert out["logits"].shape == (5, 6, 20)
    mem = m.memory(b["patches"], b["tokens"], b["level"], b["boxes"], b["mask"], b["label"])
    assert mem.shape == (5, 38, 32)
    codes = m.sample(mem, temperature=1.0, generator=torch.Generator().manual_seed(0))
    assert codes.shape == (5, 6) and int(codes.max()) < 20
    assert torch.equal(m.sample(mem, temperature=0), m.sample(mem, temperature=0))


def test_refiner_decoder_is_causal():
    m = _refiner().eval()
    b = _refiner_batch()
    mem = m.memory(b["patches"], b["tokens"], b["level"], b["boxes"], b["mask"], b["label"])
    prefix = torch.randint(0, 20, (mem.shape[0], 5))
    a = m.decode_logits(mem, prefix)
    changed = prefix.clone()
    changed[:, 3:] = (changed[:, 3:] + 1) % 20
    c = m.decode_logits(mem, changed)
    assert torch.allclose(a[:, :4], c[:, :4], atol=1e-5)       # positions <= 3 unaffected
    assert not torch.allclose(a[:, 4:], c[:, 4:], atol=1e-5)


def test_refiner_overfits_one_batch():
    torch.manual_seed(0)
    m = _refiner()
    b = _refiner_batch()
    opt = torch.optim.Adam(m.parameters(), 3e-3)
    for _ in range(150):
        out = m(b)
        opt.zero_grad()
        out["loss"].backward()
        opt.step()
    assert float(out["acc"]) > 0.95


def test_a_decoder_only_run_keeps_every_patchs_codes_and_draws_them_closer(tmp_path):
    from pathlib import Path

    from visketch_core.errors import ModelError
    from visketch_core.generate.data import cached_arrays, leaf_patches
    from visketch_core.models.checkpoint import save_checkpoint
    from visketch_core.train.loop import TrainConfig
    from visketch_core.train.tokenizer import load_tokenizer, train_tokenizer

    mini = Path(__file__).resolve().parents[1] / "fixtures" / "quickdraw-mini"
    torch.manual_seed(0)
    tok = VQVAE(VQVAEConfig(codebook=16, code_dim=8, width=16))
    save_checkpoint(tmp_path / "tok.pt", kind="tokenizer", config=tok.cfg, model=tok)
    quiet = dict(cache_dir=tmp_path / "cache", limit_per_class=2, max_patches=300,
                 val_patches=100, log=lambda *_: None)
    with pytest.raises(ModelError, match="give --init"):
        train_tokenizer(mini, None, decoder_only=True, **quiet)
    _, m = train_tokenizer(mini, tmp_path / "dec.pt", init=tmp_path / "tok.pt",
                           decoder_only=True, extra_dir=mini,
                           train_cfg=TrainConfig(batch_size=32, lr=3e-3, warmup_steps=1,
                                                 max_steps=60), **quiet)
    before, after = load_tokenizer(tmp_path / "tok.pt"), load_tokenizer(tmp_path / "dec.pt")
    va = cached_arrays(mini, "val", tmp_path / "cache", limit_per_class=2, log=lambda *_: None)
    x = torch.from_numpy(leaf_patches(va, max_patches=100, seed=1)[0].astype(np.float32))[:, None]
    assert torch.equal(before.tokenize(x), after.tokenize(x))          # the same codes
    assert torch.equal(before.quantizer.embed, after.quantizer.embed)
    assert not torch.allclose(before.decoder[0].weight, after.decoder[0].weight)
    # the untrained decoder drew the codes far off; sixty steps draw them closer
    with torch.no_grad():
        err = [float((t.decode_indices(t.tokenize(x)) - x).abs().mean()) for t in (before, after)]
    assert m["decoder_only"] and "init_ink_iou" in m and err[1] < 0.9 * err[0]

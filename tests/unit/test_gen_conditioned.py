"""Stage 1 that learns completion: partial views, widened input, training, resuming, use."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from visketch_core.generate.completion import complete
from visketch_core.generate.data import cached_arrays, cached_partials, partial_views
from visketch_core.generate.pipeline import Generator
from visketch_core.models.checkpoint import save_checkpoint
from visketch_core.models.diffusion import DiffusionConfig
from visketch_core.models.unet import UNet, UNetConfig, widen_input
from visketch_core.sketch.model import Sketch
from visketch_core.train.diffusion import cond_planes, save_diffusion, shift_pairs, train_diffusion
from visketch_core.train.loop import TrainConfig

MINI = Path(__file__).resolve().parents[1] / "fixtures" / "quickdraw-mini"
TINY_CLASSES = ["cat", "eye", "map"]      # the classes of the tiny_gen_models fixture
TINY = UNetConfig(num_classes=3, base=16, blocks=1, mults=(1, 2), attn_res=())


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def test_partial_views_are_proper_parts():
    rng = np.random.default_rng(0)
    sk = Sketch(strokes=[np.full((3, 2), i, np.float32) for i in range(6)])
    for _ in range(50):
        prefix, subset = partial_views(sk, rng)
        assert 1 <= len(prefix.strokes) < 6 and 1 <= len(subset.strokes) < 6
        assert all(np.array_equal(a, b) for a, b in zip(prefix.strokes, sk.strokes))
    one = Sketch(strokes=[np.arange(20, dtype=np.float32).reshape(10, 2)])
    a, _ = partial_views(one, rng)
    assert 1 <= len(a.strokes[0]) < 10


def test_widened_unet_computes_what_the_old_one_did():
    torch.manual_seed(0)
    old = UNet(TINY).eval()
    for p in old.out.parameters():
        torch.nn.init.normal_(p, std=0.3)
    new = UNet(UNetConfig.from_dict({**TINY.__dict__, "cond_channels": 2})).eval()
    new.load_state_dict(widen_input(old.state_dict(), 2))
    x, t, y = torch.randn(2, 1, 32, 32), torch.tensor([10.0, 500.0]), torch.tensor([0, 2])
    cond = cond_planes(torch.rand(2, 32, 32))
    with torch.no_grad():
        assert torch.allclose(old(x, t, y), new(x, t, y, cond), atol=1e-6)
        assert torch.allclose(new(x, t, y), new(x, t, y, torch.zeros_like(cond)))


def test_partial_planes_line_up_with_the_whole(tmp_path):
    arr = cached_arrays(MINI, "train", tmp_path, copies=1, limit_per_class=3, log=lambda *_: None)
    part = cached_partials(MINI, "train", tmp_path, copies=1, limit_per_class=3,
                           log=lambda *_: None)
    assert part.shape == (len(arr), 2, 32, 32)
    # a part's ink lies inside the whole's ink, and is less of it
    assert np.all(part <= arr.coarse[:, None] + 1e-6)
    assert np.all(part.sum((2, 3)) < arr.coarse.sum((1, 2))[:, None] + 1e-6)


def test_conditioned_training_warm_starts_and_resumes(tmp_path):
    quiet = dict(cache_dir=tmp_path / "cache", limit_per_class=2, copies=0)
    base = tmp_path / "base.pt"
    train_diffusion(MINI, base, unet_cfg=TINY, log=lambda *_: None,
                    train_cfg=TrainConfig(batch_size=4, max_steps=1, warmup_steps=1), **quiet)
    out = tmp_path / "diffusion.pt"
    cfg = UNetConfig.from_dict({**TINY.__dict__, "cond_channels": 2})
    logs: list[str] = []
    kw = dict(unet_cfg=cfg, cfg=DiffusionConfig(sample_steps=3), save_every=2, init=base,
              log=logs.append, **quiet)
    train_diffusion(MINI, out, train_cfg=TrainConfig(batch_size=4, max_steps=2, warmup_steps=1),
                    **kw)
    assert (tmp_path / "diffusion.pt.state").exists()
    _, m = train_diffusion(MINI, out, resume=True,
                           train_cfg=TrainConfig(batch_size=4, max_steps=4, warmup_steps=1), **kw)
    assert any("resuming" in line and "step 2" in line for line in logs)
    assert m["step"] == 4
    from visketch_core.train.diffusion import load_diffusion

    unet, _, _, _ = load_diffusion(out)
    assert unet.cfg.cond_channels == 2 and unet.inp.weight.shape[1] == 3


def test_a_conditioned_stage1_reads_the_users_sketch(tmp_path, tiny_gen_models):
    models = tmp_path / "models"
    models.mkdir()
    for f in ("tokenizer.pt", "refiner.pt"):
        (models / f).write_bytes((tiny_gen_models / f).read_bytes())
    torch.manual_seed(0)
    unet = UNet(UNetConfig.from_dict({**TINY.__dict__, "cond_channels": 2}))
    with torch.no_grad():
        for p in unet.out.parameters():
            torch.nn.init.normal_(p, std=0.3)
        unet.inp.weight[:, 1:].normal_(std=0.5)        # make the conditioning planes matter
    save_diffusion(models / "diffusion.pt", unet, DiffusionConfig(sample_steps=3), TINY_CLASSES,
                   {}, sampling={"steps": 3})
    gen = Generator.load(models, device="cpu")
    assert gen.conditioned
    blank = gen.stage1([0], seed=3)
    given = gen.stage1([0], seed=3, partial=np.ones((1, 32, 32), np.float32))
    assert not np.allclose(blank, given)
    half = Sketch(strokes=[np.array([[30, 30], [200, 40], [120, 200]], np.float32)])
    cand = complete(gen, half, "cat", 1, seed=1)[0]
    assert cand.ink_unchanged


def test_an_unconditioned_checkpoint_cannot_seed_another_shape(tmp_path):
    from visketch_core.errors import ModelError

    other = UNet(UNetConfig(num_classes=3, base=8, blocks=1, mults=(1, 2), attn_res=()))
    save_checkpoint(tmp_path / "d.pt", kind="diffusion",
                    config={"unet": other.cfg.__dict__, "diffusion": DiffusionConfig().__dict__},
                    model=other, classes=["a", "b", "c"])
    with pytest.raises(ModelError, match="different UNet shape"):
        train_diffusion(MINI, None, unet_cfg=TINY, init=tmp_path / "d.pt", copies=0,
                        cache_dir=tmp_path / "cache", limit_per_class=1, log=lambda *_: None,
                        train_cfg=TrainConfig(batch_size=2, max_steps=1))


def test_shifted_pairs_move_together_and_blank_rows_stay():
    g = torch.Generator().manual_seed(0)
    x0 = torch.full((3, 1, 32, 32), -1.0)
    part = torch.zeros(3, 32, 32)
    x0[:, 0, 10:14, 10:14] = 1.0
    part[:, 11:13, 11:13] = 1.0
    which = torch.tensor([True, True, False])
    a, b = shift_pairs(x0, part, which, 3, g)
    assert torch.equal(a[2], x0[2]) and torch.equal(b[2], part[2])
    for i in (0, 1):
        yw, xw = torch.nonzero(a[i, 0] > 0).float().mean(0).tolist()
        yp, xp = torch.nonzero(b[i] > 0).float().mean(0).tolist()
        assert abs((yw - 11.5) - (yp - 11.5)) < 1e-6 and abs((xw - 11.5) - (xp - 11.5)) < 1e-6
        assert int((a[i, 0] > 0).sum()) == 16 and int((b[i] > 0).sum()) == 4


def test_refiner_training_starts_from_a_checkpoint_and_resumes(tmp_path):
    from visketch_core.errors import ModelError
    from visketch_core.models.context_encoder import ContextEncoderConfig
    from visketch_core.models.refiner import RefinerConfig
    from visketch_core.models.vqvae import VQVAE, VQVAEConfig
    from visketch_core.train.refiner import load_refiner, train_refiner

    torch.manual_seed(0)
    tok = VQVAE(VQVAEConfig(codebook=16, code_dim=8, width=16)).eval()
    cfg = RefinerConfig(encoder=ContextEncoderConfig(dim=16, layers=1, heads=2, stem_width=8),
                        dec_layers=1, heads=2)
    logs: list[str] = []
    kw = dict(cfg=cfg, cache_dir=tmp_path / "cache", limit_per_class=2, copies=0, leaves=2,
              val_canvases=4, log=logs.append)

    def tc(**over):
        return TrainConfig(**{"epochs": 1, "batch_size": 2, "max_steps": 2, "warmup_steps": 1,
                              "workers": 0, **over})

    first = tmp_path / "first.pt"
    train_refiner(MINI, first, tok, train_cfg=tc(), **kw)
    # lr 0: a run that starts from `first` must keep its weights exactly
    again = tmp_path / "again.pt"
    _, m = train_refiner(MINI, again, tok, train_cfg=tc(lr=0.0, max_steps=1), init=first, **kw)
    a, _ = load_refiner(first)
    b, _ = load_refiner(again)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(),
                                                  b.state_dict().values()))
    assert m["init"] == str(first) and (tmp_path / "again.pt.state").exists()
    _, m = train_refiner(MINI, again, tok, train_cfg=tc(epochs=3, max_steps=3), resume=True, **kw)
    assert any("resuming" in line and "step 1" in line for line in logs)
    assert m["step"] == 3
    other = replace(cfg, dec_layers=2)
    with pytest.raises(ModelError, match="config differs"):
        train_refiner(MINI, tmp_path / "x.pt", tok, train_cfg=tc(), init=first,
                      **{**kw, "cfg": other})


def test_guidance_distillation_learns_the_guided_output_in_one_pass(tmp_path):
    """The distillation target is the teacher's guided output; a student that gives it has
    no loss, the teacher's own conditional pass has some; a run needs a teacher and saves a
    checkpoint sampled with guidance 1."""
    from visketch_core.errors import ModelError
    from visketch_core.models.diffusion import GaussianDiffusion
    from visketch_core.train.diffusion import load_diffusion

    diff = GaussianDiffusion(DiffusionConfig(timesteps=1000), num_classes=3)

    def teacher(x, t, y):       # conditional pass 1, unconditional pass 0 (a shifted guess)
        return (y != diff.null).float()[:, None, None, None] + 0 * x

    x0 = torch.zeros(8, 1, 4, 4)
    y = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    exact = diff.distil_loss(lambda x, t, y: torch.full_like(x, 3.0), teacher, x0, y, 3.0,
                             grid_steps=15)
    assert float(exact) == 0.0                          # 0 + 3 * (1 - 0)
    assert float(diff.distil_loss(teacher, teacher, x0, y, 3.0)) == pytest.approx(4.0)

    quiet = dict(cache_dir=tmp_path / "cache", limit_per_class=2, copies=0, log=lambda *_: None)
    with pytest.raises(ModelError, match="teacher"):
        train_diffusion(MINI, None, unet_cfg=TINY, distil=3.0,
                        train_cfg=TrainConfig(batch_size=2, max_steps=1), **quiet)
    base = tmp_path / "base.pt"
    train_diffusion(MINI, base, unet_cfg=TINY,
                    train_cfg=TrainConfig(batch_size=4, max_steps=1, warmup_steps=1), **quiet)
    out = tmp_path / "student.pt"
    _, m = train_diffusion(MINI, out, unet_cfg=TINY, init=base, distil=3.0,
                           train_cfg=TrainConfig(batch_size=4, max_steps=2, warmup_steps=1),
                           **quiet)
    assert m["distilled_guidance"] == 3.0 and m["step"] == 2
    assert load_diffusion(out)[3]["sampling"] == {"guidance": 1.0}


def test_a_distilled_student_can_start_from_an_earlier_student(tmp_path):
    """--student: the student starts from its own checkpoint (at learning rate 0 it stays
    that checkpoint), the teacher is still --init; without --distil it is refused."""
    from visketch_core.errors import ModelError
    from visketch_core.models.checkpoint import read_checkpoint

    quiet = dict(cache_dir=tmp_path / "cache", limit_per_class=2, copies=0, log=lambda *_: None)
    teacher, earlier = tmp_path / "teacher.pt", tmp_path / "earlier.pt"
    for path, seed in ((teacher, 0), (earlier, 1)):
        train_diffusion(MINI, path, unet_cfg=TINY, **quiet,
                        train_cfg=TrainConfig(batch_size=4, max_steps=1, warmup_steps=1,
                                              seed=seed))
    out = tmp_path / "student.pt"
    _, m = train_diffusion(MINI, out, unet_cfg=TINY, init=teacher, distil=3.0, student=earlier,
                           train_cfg=TrainConfig(batch_size=4, max_steps=1, warmup_steps=1,
                                                 lr=0.0), **quiet)
    assert m["student_init"] == str(earlier) and m["init"] == str(teacher)
    got, want, other = (read_checkpoint(p, kind="diffusion")["weights"]
                        for p in (out, earlier, teacher))
    assert all(torch.equal(got[k], want[k]) for k in want)
    assert not all(torch.equal(got[k], other[k]) for k in other)
    with pytest.raises(ModelError, match="--distil"):
        train_diffusion(MINI, None, unet_cfg=TINY, student=earlier,
                        train_cfg=TrainConfig(batch_size=2, max_steps=1), **quiet)


def _other_corpus(tmp_path: Path) -> Path:
    """A second corpus: a copy of our cats and crayons renamed to a class we do not have."""
    other = tmp_path / "other"
    other.mkdir()
    (other / "cat.ndjson").write_bytes((MINI / "cat.ndjson").read_bytes())
    (other / "zebra.ndjson").write_bytes((MINI / "crayon.ndjson").read_bytes())
    return other


def test_another_corpus_adds_only_its_other_classes(tmp_path):
    from visketch_core.data.corpus import load_corpus
    from visketch_core.train.diffusion import extra_rows

    other = _other_corpus(tmp_path)
    x, part = extra_rows(other, ["airplane", "cat"], tmp_path / "cache", 1, True,
                         log=lambda *_: None)
    zebras = len(load_corpus(other, "train", classes=["zebra"]).sketches)
    assert len(x) == 2 * zebras and part is not None and len(part) == len(x)
    assert x.shape[1:] == (1, 32, 32) and float(x.min()) >= -1 and float(x.max()) <= 1
    # the zebras' ink, not the cats'
    zebra = cached_arrays(other, "train", tmp_path / "cache", copies=1, log=lambda *_: None)
    names = np.asarray(zebra.classes)[zebra.labels]
    assert np.allclose(x[:, 0].numpy(), zebra.coarse[names == "zebra"] * 2 - 1)
    from visketch_core.errors import ModelError

    with pytest.raises(ModelError, match="no sketches of classes other than ours"):
        extra_rows(other, ["cat", "zebra"], tmp_path / "cache", 1, False, log=lambda *_: None)


def test_the_other_corpus_fills_its_share_of_each_batch_as_the_null_class(tmp_path, monkeypatch):
    from visketch_core.models.diffusion import GaussianDiffusion

    seen: list[torch.Tensor] = []
    real_loss = GaussianDiffusion.loss

    def spy(self, model, x0, y, **kw):
        seen.append(y.clone())
        assert len(x0) == len(y) and kw["cond"].shape[0] == len(y)
        return real_loss(self, model, x0, y, **kw)

    monkeypatch.setattr(GaussianDiffusion, "loss", spy)
    cfg = UNetConfig.from_dict({**TINY.__dict__, "cond_channels": 2})
    _, m = train_diffusion(MINI, tmp_path / "d.pt", unet_cfg=cfg, copies=0, limit_per_class=2,
                           cache_dir=tmp_path / "cache", extra_dir=_other_corpus(tmp_path),
                           extra_share=0.25, log=lambda *_: None,
                           train_cfg=TrainConfig(batch_size=8, max_steps=2, warmup_steps=1))
    null = 15                                   # MINI has 15 classes; the null class follows
    assert len(seen) == 2
    for y in seen:
        assert len(y) == 8 and int((y == null).sum()) == 2 and bool((y[:6] < null).all())
    assert m["extra_share"] == 0.25 and m["extra_sketches"] > 0

"""Stage 1: class-conditional Gaussian diffusion at 32x32 (improved-diffusion's shape).

The process is a plain class that takes the denoiser as an argument; the noise schedule is
a pure function. The denoiser predicts v (= a_t eps - s_t x0), which keeps few-step DDIM
sampling stable; classifier-free guidance mixes conditional and null-class predictions.
Completion has two tools: a denoiser trained with the user's partial sketch as extra input
planes (``cond``), and inpainting, which re-imposes the known pixels, noised to the current
level, at every step. Either, both or neither can be used.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from dataclasses import dataclass

import torch
import torch.nn.functional as F

Denoiser = Callable[..., torch.Tensor]   # (x_t, t, y[, cond]) -> v


def _call(model: Denoiser, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor,
          cond: torch.Tensor | None) -> torch.Tensor:
    return model(x, t, y) if cond is None else model(x, t, y, cond)


def cosine_alpha_bar(t: torch.Tensor, s: float = 0.008) -> torch.Tensor:
    """Nichol & Dhariwal's cosine schedule: alpha_bar(t) for t in [0, 1] (float tensor)."""
    f = torch.cos((t + s) / (1 + s) * math.pi / 2) ** 2
    return (f / math.cos(s / (1 + s) * math.pi / 2) ** 2).clamp(1e-5, 1.0)


@dataclass(frozen=True)
class DiffusionConfig:
    timesteps: int = 1000
    sample_steps: int = 25
    guidance: float = 2.0
    p_uncond: float = 0.15          # share of training samples with the null class


class GaussianDiffusion:
    """Training loss and DDIM sampling for a denoiser ``model(x_t, t, y) -> v``.

    Images are (B, 1, S, S) in [-1, 1]; ``y`` long (B,), ``num_classes`` = the null class.
    """

    def __init__(self, cfg: DiffusionConfig, num_classes: int):
        self.cfg = cfg
        self.null = num_classes
        t = torch.arange(cfg.timesteps + 1, dtype=torch.float64) / cfg.timesteps
        self.alpha_bar = cosine_alpha_bar(t).float()            # (T+1,) index 0 = clean

    def _ab(self, t: torch.Tensor) -> torch.Tensor:
        return self.alpha_bar.to(t.device)[t][:, None, None, None]

    def q_sample(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """x_t for integer steps t (B,) in [1, T]."""
        ab = self._ab(t)
        return ab.sqrt() * x0 + (1 - ab).sqrt() * noise

    def loss(self, model: Denoiser, x0: torch.Tensor, y: torch.Tensor,
             generator: torch.Generator | None = None,
             cond: torch.Tensor | None = None) -> torch.Tensor:
        B = x0.shape[0]
        dev = x0.device
        t = torch.randint(1, self.cfg.timesteps + 1, (B,), device=dev, generator=generator)
        noise = torch.randn(x0.shape, device=dev, generator=generator)
        drop = torch.rand(B, device=dev, generator=generator) < self.cfg.p_uncond
        y = torch.where(drop, torch.full_like(y, self.null), y)
        ab = self._ab(t)
        x_t = ab.sqrt() * x0 + (1 - ab).sqrt() * noise
        v = ab.sqrt() * noise - (1 - ab).sqrt() * x0
        return F.mse_loss(_call(model, x_t, t.float(), y, cond), v)

    def distil_loss(self, student: Denoiser, teacher: Denoiser, x0: torch.Tensor,
                    y: torch.Tensor, guidance: float, generator: torch.Generator | None = None,
                    cond: torch.Tensor | None = None, grid_steps: int = 0) -> torch.Tensor:
        """Guidance distillation (after Meng et al., "On distillation of guided diffusion
        models"): the student's one conditional pass learns the teacher's guided output,
        ``vu + guidance * (vc - vu)`` (two passes), at the same noisy input. Half the batch
        takes a noise level of the ``grid_steps``-step sampler (when set), half a uniform one."""
        B, dev = x0.shape[0], x0.device
        T = self.cfg.timesteps
        t = torch.randint(1, T + 1, (B,), device=dev, generator=generator)
        if grid_steps:
            grid = torch.linspace(T, 0, grid_steps + 1).round().long()[:-1].to(dev)
            on_grid = torch.rand(B, device=dev, generator=generator) < 0.5
            pick = torch.randint(0, grid_steps, (B,), device=dev, generator=generator)
            t = torch.where(on_grid, grid[pick], t)
        noise = torch.randn(x0.shape, device=dev, generator=generator)
        ab = self._ab(t)
        x_t = ab.sqrt() * x0 + (1 - ab).sqrt() * noise
        tt = t.float()
        with torch.no_grad():
            both = _call(teacher, torch.cat([x_t, x_t]), torch.cat([tt, tt]),
                         torch.cat([y, torch.full_like(y, self.null)]),
                         None if cond is None else torch.cat([cond, cond]))
            vc, vu = both.chunk(2)
            target = vu + guidance * (vc - vu)
        return F.mse_loss(_call(student, x_t, tt, y, cond), target)

    def _predict(self, model: Denoiser, x: torch.Tensor, t: int, y: torch.Tensor,
                 guidance: float, cond: torch.Tensor | None = None
                 ) -> tuple[torch.Tensor, torch.Tensor]:
        """-> (x0_hat, eps_hat) at integer step ``t`` with classifier-free guidance."""
        B = x.shape[0]
        tt = torch.full((B,), float(t), device=x.device)
        if guidance == 1.0:
            v = _call(model, x, tt, y, cond)
        else:
            both = _call(model, torch.cat([x, x]), torch.cat([tt, tt]),
                         torch.cat([y, torch.full_like(y, self.null)]),
                         None if cond is None else torch.cat([cond, cond]))
            vc, vu = both.chunk(2)
            v = vu + guidance * (vc - vu)
        ab = float(self.alpha_bar[t])
        a, s = math.sqrt(ab), math.sqrt(1 - ab)
        x0 = (a * x - s * v).clamp(-1, 1)
        eps = (x - a * x0) / max(s, 1e-8)
        return x0, eps

    def _lam(self, t: int) -> float:
        """log(alpha / sigma) at integer step t (the half log-SNR)."""
        ab = float(self.alpha_bar[t])
        return 0.5 * math.log(ab / max(1.0 - ab, 1e-12))

    def _dpm2m_step(self, x: torch.Tensor, x0: torch.Tensor, t: int, t_prev: int,
                    prev: tuple[torch.Tensor, int] | None) -> torch.Tensor:
        """One DPM-Solver++(2M) step from t to t_prev < t (t_prev > 0); ``prev`` is the
        previous step's (x0_hat, t) or None at the first step (which is then DDIM)."""
        ab, ab_prev = float(self.alpha_bar[t]), float(self.alpha_bar[t_prev])
        s, s_prev, a_prev = math.sqrt(1 - ab), math.sqrt(1 - ab_prev), math.sqrt(ab_prev)
        h = self._lam(t_prev) - self._lam(t)
        d = x0
        if prev is not None:
            x0_old, t_old = prev
            r = (self._lam(t) - self._lam(t_old)) / h
            d = (1 + 1 / (2 * r)) * x0 - (1 / (2 * r)) * x0_old
        return (s_prev / s) * x - a_prev * math.expm1(-h) * d

    @torch.no_grad()
    def sample(self, model: Denoiser, y: torch.Tensor, *, shape: tuple[int, ...] = (1, 32, 32),
               steps: int | None = None, guidance: float | None = None,
               known: torch.Tensor | None = None, known_mask: torch.Tensor | None = None,
               cond: torch.Tensor | None = None,
               generator: torch.Generator | None = None, solver: str = "ddim",
               guide_from: float = 0.0) -> torch.Tensor:
        """DDIM (eta = 0), or ``solver="dpm2m"`` (see ``sample_steps``), in ``steps`` steps
        -> (B, *shape) in [-1, 1].

        known, known_mask: (B, *shape) values in [-1, 1] and bool mask; the known pixels are
        re-imposed (noised to the step's level) before every step and exactly at the end.
        cond: (B, C, *shape[1:]) planes given to a conditioned denoiser at every step.
        """
        it = self.sample_steps(model, y, shape=shape, steps=steps, guidance=guidance,
                               known=known, known_mask=known_mask, cond=cond,
                               generator=generator, solver=solver, guide_from=guide_from)
        while True:
            try:
                next(it)
            except StopIteration as done:
                return done.value

    @torch.no_grad()
    def sample_steps(self, model: Denoiser, y: torch.Tensor, *,
                     shape: tuple[int, ...] = (1, 32, 32), steps: int | None = None,
                     guidance: float | None = None, known: torch.Tensor | None = None,
                     known_mask: torch.Tensor | None = None, cond: torch.Tensor | None = None,
                     generator: torch.Generator | None = None, solver: str = "ddim",
                     guide_from: float = 0.0
                     ) -> Generator[tuple[int, int, torch.Tensor], None, torch.Tensor]:
        """``sample`` one step at a time, for callers that show the wait: yields
        ``(step, steps, x0_hat)`` after every step (x0_hat: the current guess of the clean
        image, (B, *shape) in [-1, 1]) and returns what ``sample`` returns.

        solver: "ddim" (first order) or "dpm2m", the second-order multistep solver of
        Lu et al. (DPM-Solver++(2M), data prediction): from the second step on, the step
        extrapolates from this step's and the previous step's clean-image guesses in
        log-SNR, which keeps more detail when there are few steps. The last step (to t = 0)
        is the clean guess itself in both.

        guide_from: guidance is applied only at steps whose noise level t / T is at least
        this; the steps below it (the last, low-noise ones, which add detail rather than
        decide what is drawn) take the conditional prediction alone, one network pass
        instead of two (0 = guidance at every step)."""
        if solver not in ("ddim", "dpm2m"):
            raise ValueError(f"unknown solver {solver!r} (ddim or dpm2m)")
        steps = steps or self.cfg.sample_steps
        w = self.cfg.guidance if guidance is None else guidance
        dev = y.device
        B = y.shape[0]
        ts = torch.linspace(self.cfg.timesteps, 0, steps + 1).round().long().tolist()
        x = torch.randn((B, *shape), device=dev, generator=generator)
        prev: tuple[torch.Tensor, int] | None = None    # last step's (x0_hat, t), for dpm2m
        for i, (t, t_prev) in enumerate(zip(ts[:-1], ts[1:])):
            if known is not None:
                ab = float(self.alpha_bar[t])
                noise = torch.randn(x.shape, device=dev, generator=generator)
                x = torch.where(known_mask, math.sqrt(ab) * known + math.sqrt(1 - ab) * noise, x)
            w_t = w if t >= guide_from * self.cfg.timesteps else 1.0
            x0, eps = self._predict(model, x, t, y, w_t, cond)
            if known is not None:
                x0 = torch.where(known_mask, known, x0)
            ab_prev = float(self.alpha_bar[t_prev])
            if solver == "ddim" or t_prev == 0 or ab_prev >= 1.0:
                x = math.sqrt(ab_prev) * x0 + math.sqrt(1 - ab_prev) * eps
            else:
                x = self._dpm2m_step(x, x0, t, t_prev, prev)
            prev = (x0, t)
            yield i + 1, steps, x0
        if known is not None:
            x = torch.where(known_mask, known, x)
        return x.clamp(-1, 1)

"""The one place where a device is chosen: CUDA, then MPS, then CPU."""

from __future__ import annotations

import torch

from visketch_core.errors import ModelError


def pick_device(name: str = "auto") -> torch.device:
    """``auto`` picks CUDA, then MPS, then CPU; ``cpu``/``cuda``/``mps`` force one."""
    name = (name or "auto").lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ModelError(f"device {name!r}: CUDA is not available on this machine")
    try:
        return torch.device(name)
    except RuntimeError:  # torch lists every device type it knows, over several lines
        raise ModelError(f"unknown device {name!r}; use auto, cpu, cuda, cuda:N or mps") from None

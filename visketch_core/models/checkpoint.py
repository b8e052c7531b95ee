"""Checkpoints: ``{format, kind, config, weights, classes, metrics, ...}`` in one file.

Loading needs no flags: the config travels with the weights; ``weights_only=True``.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import torch

from visketch_core.errors import ModelError

FORMAT = "visketch-checkpoint-1"


def save_checkpoint(path: str | Path, *, kind: str, config, model: torch.nn.Module,
                    classes: list[str] | None = None, metrics: dict | None = None,
                    extra: dict | None = None, half: bool = False) -> None:
    """Write atomically (temp file + rename). ``half`` stores float weights as float16."""
    state = {k: (v.half() if half and v.is_floating_point() else v).detach().cpu()
             for k, v in model.state_dict().items()}
    cfg = dataclasses.asdict(config) if dataclasses.is_dataclass(config) else dict(config)
    blob = {"format": FORMAT, "kind": kind, "config": cfg, "weights": state,
            "classes": list(classes or []), "metrics": dict(metrics or {}), **(extra or {})}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(blob, tmp)
    os.replace(tmp, path)


def read_checkpoint(path: str | Path, kind: str | None = None) -> dict:
    """Read and check a checkpoint. Raises ModelError (one line, names the file)."""
    path = Path(path)
    if not path.exists():
        raise ModelError(f"{path}: model file not found")
    if path.is_dir():
        raise ModelError(f"{path}: is a directory, not a model file")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means a corrupt file
        raise ModelError(f"{path}: not a readable model file ({exc.__class__.__name__})") from None
    if not isinstance(blob, dict) or blob.get("format") != FORMAT:
        raise ModelError(f"{path}: not a ViSketch checkpoint")
    if kind is not None and blob.get("kind") != kind:
        raise ModelError(f"{path}: holds a {blob.get('kind')!r} model, expected {kind!r}")
    return blob


def load_weights(model: torch.nn.Module, blob: dict, path: str | Path) -> torch.nn.Module:
    """Strict load with float16 weights cast back to the model's dtype."""
    state = {k: v.float() if v.is_floating_point() else v for k, v in blob["weights"].items()}
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise ModelError(f"{path}: weights do not match the model ({first})") from None
    return model


def load_classifier(path: str | Path | None, device: torch.device):
    """-> (model in eval mode on device, classes, GeometryConfig, blob, path)."""
    from visketch_core.geometry import GeometryConfig
    from visketch_core.models.classifier import ClassifierConfig, QuadtreeClassifier
    from visketch_core.paths import default_classifier_path

    path = Path(path) if path is not None else default_classifier_path()
    blob = read_checkpoint(path, kind="classifier")
    try:
        cfg = ClassifierConfig.from_dict(blob["config"])
        geometry = GeometryConfig(**blob.get("geometry", {}))
    except (TypeError, KeyError, AssertionError) as exc:
        raise ModelError(f"{path}: config does not fit this version ({exc})") from None
    model = load_weights(QuadtreeClassifier(cfg), blob, path).to(device).eval()
    classes = list(blob.get("classes") or [])
    if len(classes) != cfg.num_classes:
        raise ModelError(f"{path}: {len(classes)} class names for {cfg.num_classes} outputs")
    return model, classes, geometry, blob, path

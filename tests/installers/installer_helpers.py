"""Helpers for the installer tests: load installers/*.py by path (installers/ is no package)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
INSTALLERS = ROOT / "installers"


def load_installer_module(name: str):
    """``installers/<name>.py`` as module ``visketch_installers_<name>``."""
    mod_name = f"visketch_installers_{name}"
    if mod_name in sys.modules:
        return sys.modules[mod_name]
    spec = importlib.util.spec_from_file_location(mod_name, INSTALLERS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module
    spec.loader.exec_module(module)
    return module

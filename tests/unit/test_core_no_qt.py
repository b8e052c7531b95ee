"""visketch_core must never pull in Qt (it runs in training jobs, servers, the CLI)."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import sys, pkgutil, importlib
import visketch_core
for m in pkgutil.walk_packages(visketch_core.__path__, "visketch_core."):
    if m.name != "visketch_core.__main__":
        importlib.import_module(m.name)
bad = [m for m in sys.modules if m.startswith(("PySide6", "app", "shiboken6", "pyqtgraph"))]
assert not bad, bad
print("ok")
"""


def test_core_imports_without_qt():
    r = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"

"""Build the Linux bundle with PyInstaller and run it: a screenshot, the damage report, leanness.

Slow (about 2-4 minutes to build): ``pytest -m slow tests/installers``. To check a bundle that
is already built (``make dist``), set ``VISKETCH_BUNDLE_DIR=installers/dist/ViSketch``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest
from installer_helpers import INSTALLERS, ROOT, load_installer_module

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(sys.platform != "linux", reason="builds the Linux bundle")]

SAMPLE = ROOT / "resources" / "samples" / "quickdraw-3.ndjson"
MAX_UNPACKED_MB = 850  # measured 774 (libtorch_cpu alone is 330): catches a bloated bundle


@pytest.fixture(scope="module")
def bundle() -> Path:
    """The built one-folder app (ViSketch/ with the `visketch` executable)."""
    given = os.environ.get("VISKETCH_BUNDLE_DIR")
    if given:
        return Path(given).resolve()
    pytest.importorskip("PyInstaller", reason="PyInstaller is not installed: run `make dist`")
    subprocess.run(["bash", str(INSTALLERS / "linux" / "build.sh"), sys.executable],
                   check=True, cwd=ROOT, timeout=3000)
    return INSTALLERS / "dist" / "ViSketch"


def user_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A headless environment whose home and XDG dirs are private; no VISKETCH_* overrides,
    so that the bundle finds its own models and platformdirs picks the user dirs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VISKETCH_")}
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    env.update(HOME=str(tmp_path / "home"), XDG_CONFIG_HOME=str(tmp_path / "config"),
               XDG_DATA_HOME=str(tmp_path / "data"), XDG_CACHE_HOME=str(tmp_path / "cache"),
               QT_QPA_PLATFORM="offscreen", **extra)
    return env


def run_app(bundle: Path, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([str(bundle / "visketch"), *args], capture_output=True, text=True,
                          env=env, timeout=300)


def files_of(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in folder.rglob("*") if p.is_file() and not p.is_symlink()}


def test_built_app_opens_a_sketch_and_predicts(bundle, tmp_path):
    import cv2

    before = files_of(bundle)
    out = tmp_path / "shot.png"
    result = run_app(bundle, ["--open", str(SAMPLE), "--screenshot", str(out), "--timeout", "180"],
                     user_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "damaged" not in result.stderr

    img = cv2.imread(str(out))
    assert img is not None and img.shape == (760, 1200, 3)
    canvas, panel = img[60:720, :800], img[60:720, 850:]
    ink = (canvas.max(axis=2) < 60).sum()
    assert ink > 1000, "no sketch drawn on the canvas"
    assert (canvas.astype(int).std(axis=2) > 40).sum() > 200, "no coloured quadtree overlay"
    bars = np.abs(panel.astype(int) - 255).sum(axis=2) > 30
    assert bars.sum() > 5000, "the prediction panel is empty"

    # settings went to the user's dirs (platformdirs), nothing was written into the bundle
    assert (tmp_path / "config" / "visketch" / "settings.json").is_file()
    assert files_of(bundle) == before


def test_version_and_bundle_check(bundle, tmp_path):
    env = user_env(tmp_path)
    version = run_app(bundle, ["--version"], env)
    assert version.stdout.strip() == f"ViSketch {load_installer_module('version').project_version()}"
    check = run_app(bundle, ["--check-bundle"], env)
    assert check.returncode == 0, check.stderr
    assert "bundle OK" in check.stdout


@pytest.mark.parametrize("damage", ["missing", "truncated"])
def test_damaged_bundle_says_so(bundle, tmp_path, damage):
    """A copy of the bundle's resources, with the model removed or cut short, stands in for a
    damaged install (VISKETCH_RESOURCES points the frozen app at it)."""
    res = tmp_path / "resources"
    shutil.copytree(bundle / "_internal" / "resources", res)
    model = res / "models" / "classifier.pt"
    if damage == "missing":
        model.unlink()
        expected = "models/classifier.pt is missing"
    else:
        model.write_bytes(model.read_bytes()[:1000])
        expected = "models/classifier.pt is damaged"
    env = user_env(tmp_path, VISKETCH_RESOURCES=str(res))

    check = run_app(bundle, ["--check-bundle"], env)
    assert check.returncode == 3 and expected in check.stderr

    out = tmp_path / "shot.png"
    result = run_app(bundle, ["--open", str(SAMPLE), "--screenshot", str(out)], env)
    assert result.returncode != 0
    assert "This copy of ViSketch is damaged" in result.stderr and expected in result.stderr
    assert out.is_file()  # the window still opened, with the sketch and no prediction


def test_bundle_is_lean(bundle):
    internal = bundle / "_internal"
    names = {str(p.relative_to(internal)) for p in internal.rglob("*")}
    for unwanted in ("torch/include", "torch/test", "torch/share", "PySide6/QtNetwork.abi3.so",
                     "PySide6/QtQml.abi3.so", "PySide6/QtSvg.abi3.so", "PySide6/QtTest.abi3.so",
                     "PySide6/Qt/plugins/platformthemes/libqgtk3.so", "tests", "pytest"):
        assert unwanted not in names, unwanted
    assert not [n for n in names if n.startswith("torch/bin/")
                and n != "torch/bin/torch_shm_manager"]
    assert not [n for n in names if "libQt6Network" in n or "libQt6Qml" in n
                or "libQt6Quick" in n]
    libs = [Path(n).name.lower() for n in names if ".so" in n]
    assert not [n for n in libs if n.startswith(("libcuda", "libcudnn", "libnvrtc", "libcublas"))]
    ndjson = [n for n in names if n.endswith(".ndjson")]
    assert ndjson == ["resources/samples/quickdraw-3.ndjson"]  # no training or test data
    assert "resources/models/classifier.pt" in names and "NOTICE.txt" in names
    size_mb = sum(size for size, _ in files_of(bundle).values()) / 2**20  # links not twice
    assert size_mb < MAX_UNPACKED_MB, f"{size_mb:.0f} MB"


def test_tarball_holds_the_app_and_its_desktop_files(bundle):
    version = load_installer_module("version").project_version()
    tarballs = list(bundle.parent.glob(f"ViSketch-{version}-linux-*.tar.gz"))
    assert len(tarballs) == 1
    with tarfile.open(tarballs[0]) as tar:
        names = set(tar.getnames())
    for name in ("visketch", "visketch.desktop", "visketch.png", "NOTICE.txt", "install.sh",
                 "_internal/resources/models/classifier.pt",
                 "_internal/resources/MANIFEST.json"):
        assert f"ViSketch/{name}" in names, name
